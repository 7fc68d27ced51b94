"""A pytest plugin for this suite: after a run of the whole suite, each (operation, status)
the OpenAPI documents promise must have been answered at least once, in process (the API
tests' ContractClient, the fuzzer) or over HTTP (every requests call a test makes to a live
sandbox, matched to its route). A promise nobody reaches is removed from the document instead.

Works under pytest-xdist: each worker writes what it saw; the controller merges and judges.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
import requests

from tests.contract import OBSERVED, documented_statuses, record_http

ROOT = Path(__file__).resolve().parent.parent
_RESULTS = "status_coverage_dir"


@pytest.fixture(scope="session", autouse=True)
def _statuses_over_http(_shared_app):
    """Record the answers every test gets over real HTTP too (live servers run the same
    routes as the in-process app). A recorder only: each request goes through unchanged."""
    original = requests.Session.send

    def send(self, prepared, **kwargs):
        response = original(self, prepared, **kwargs)
        record_http(_shared_app, prepared.method, prepared.path_url, response.status_code)
        return response

    requests.Session.send = send
    yield
    requests.Session.send = original


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller, or a run without xdist
        config._status_coverage = tempfile.TemporaryDirectory(prefix="status-coverage-")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist: tell each worker where to write what it saw."""
    node.workerinput[_RESULTS] = node.config._status_coverage.name


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    seen = {
        "items": [item.nodeid.split("::")[0] for item in session.items],
        "observed": sorted(OBSERVED),
    }
    if hasattr(config, "workerinput"):
        target = Path(config.workerinput[_RESULTS]) / f"{config.workerinput['workerid']}.json"
        target.write_text(json.dumps(seen))
        return
    runs = [seen] + [
        json.loads(p.read_text()) for p in Path(config._status_coverage.name).glob("*.json")
    ]
    config._status_coverage.cleanup()
    ran = {item for run in runs for item in run["items"]}
    every = {str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("*/test_*.py")}
    if exitstatus != 0 or not every <= ran or config.getoption("keyword"):
        return  # a partial run proves nothing either way
    observed = {tuple(entry) for run in runs for entry in run["observed"]}
    missing = sorted(documented_statuses(ROOT / "openapi") - observed)
    if missing:
        lines = "\n".join(
            f"  {method.upper()} {path} -> {status}" for method, path, status in missing
        )
        config.get_terminal_writer().line(
            f"\n{len(missing)} documented statuses no test reached:\n{lines}", red=True
        )
        session.exitstatus = 1
