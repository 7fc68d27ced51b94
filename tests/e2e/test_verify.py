"""``genstore-sandbox verify``: the built-in fake app passes every case; an app broken on
purpose fails exactly the cases its break breaks, and no others."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

from sandbox.conformance import runner
from sandbox.conformance.cases import CASES
from sandbox.testing.live import Sandbox
from tests.conftest import ROOT
from tests.e2e.app_under_test import AppUnderTest
from tests.e2e.test_cli import run

PLAN = runner.select(None)
ALL = {planned.name for planned in PLAN}
RESULT_CASES = {case.name for case in CASES} - {"account_authorize_reported"}
# Each break, and the cases it must fail, every shape of them (every other case must pass).
# Get payment is one of seed 001's calls: the app without it fails the two cases about it.
BREAKS = {
    "wrong_amount": {"ids_and_amounts_echoed"},
    "double_charge": {"same_request_twice"},
    "no_callbacks": RESULT_CASES,
    "no_retry_after_5xx": {"callbacks_retried_after_5xx"},
    "missing_field": {"required_answer_fields"},
    "ignores_manual_capture": {"authorize_then_full_capture"},
    "no_get_payment": {"status_queries_agree", "status_query_while_waiting"},
}


def _case(name: str) -> str:
    """A planned case's name without its shape."""
    return name.split("[")[0]


def test_the_built_in_fake_app_passes_every_case(live, tmp_path):
    report = tmp_path / "report.xml"
    result = run("verify", "--url", live.url, "--junit-xml", str(report))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(PLAN)} passed, 0 failed, 0 skipped, 0 warnings" in result.stdout
    suite = ET.parse(report).getroot()
    assert (suite.get("tests"), suite.get("failures")) == (str(len(PLAN)), "0")
    assert {case.get("name") for case in suite.iter("testcase")} == ALL
    # Every case names the seed clause it enforces, in the text and as JUnit properties.
    for case in suite.iter("testcase"):
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert properties["seed"] and properties["clause"], case.get("name")
    assert "        seed 001 Credit card payment" in result.stdout
    # Both request shapes reached the app, and the coverage section says so.
    assert "Contract coverage:" in result.stdout
    shop = re.search(r"^Shop: (\S+)", result.stdout, re.M).group(1)
    coverage = run("coverage", "--url", live.url, "--shop", shop, "--json")
    items = {i["id"]: i for i in json.loads(coverage.stdout)["items"]}
    for shape in ("minimal", "full"):
        assert items[f"request.payment.{shape}"]["passed"] > 0, shape


def test_list_only_and_json(live):
    listing = run("verify", "--list")
    assert listing.returncode == 0 and all(name in listing.stdout for name in ALL)
    only = run(
        "verify", "--url", live.url, "--only", "full_refund,offsite_redirect[full]", "--json"
    )
    assert only.returncode == 0, only.stderr
    report = json.loads(only.stdout)
    assert [(c["name"], c["result"], c["shape"]) for c in report["cases"]] == [
        ("full_refund", "pass", None),
        ("offsite_redirect[full]", "pass", "full"),
    ]
    assert report["cases"][0]["clause"].startswith("001 Refund operation")
    assert report["coverage"]["items"]
    assert run("verify", "--only", "nope").returncode == 2
    verbose = run("verify", "--url", live.url, "--only", "full_refund", "--verbose")
    assert (
        "PASS  full_refund" in verbose.stdout and "<- PUT /api/202412/app/refund/" in verbose.stdout
    )


def _verify(live, breaks: frozenset[str], token: str, cases=PLAN) -> dict[str, str]:
    # An app that never calls back fails every result case on the time bound: keep it short
    # there; the others fail one case each, so a generous bound costs little.
    timeout = 1.0 if "no_callbacks" in breaks else 3.0
    with AppUnderTest(live.url, token, breaks) as app:
        target = runner.Target("under-test", app.config("under-test"))
        ctx = runner.prepare(Sandbox(live.url), target, None)
        outcomes = runner.run(ctx, list(cases), timeout=timeout)
    return {o.name: f"{o.result}: {o.reason}" if o.reason else o.result for o in outcomes}


def test_a_broken_app_fails_exactly_the_cases_it_breaks(live):
    """Every break (and the app unbroken) verified side by side, each in a shop of its own;
    the app that never calls back case by case, since each of its cases waits out the bound."""
    runs = [("none", frozenset(), PLAN)]
    runs += [(name, frozenset({name}), PLAN) for name in BREAKS if name != "no_callbacks"]
    runs += [(f"no_callbacks/{p.name}", frozenset({"no_callbacks"}), [p]) for p in PLAN]
    results: dict[str, dict[str, str]] = {}

    def verify(label: str, breaks: frozenset[str], cases) -> None:
        token = "tok-under-test-" + label.replace("/", "-")
        results[label] = _verify(live, breaks, token, cases)

    threads = [threading.Thread(target=verify, args=run_) for run_ in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert set(results) == {label for label, _, _ in runs}
    merged = {
        name: outcome
        for label, outcomes in results.items()
        if label.startswith("no_callbacks/")
        for name, outcome in outcomes.items()
    }
    results["no_callbacks"] = merged
    assert {n: r for n, r in results["none"].items() if r != "pass"} == {}
    for name, expected in BREAKS.items():
        failed = {case: result for case, result in results[name].items() if result != "pass"}
        assert {_case(case) for case in failed} == expected, f"{name}: {failed}"
        assert all(result.startswith("fail") for result in failed.values()), f"{name}: {failed}"


def test_a_failing_case_says_why_and_shows_the_journal(live, tmp_path):
    with AppUnderTest(live.url, "tok-under-test-cli", frozenset({"no_get_payment"})) as app:
        result = run(
            "verify", "--url", live.url, "--app-url", app.url, "--public-key", app.public_key,
            "--access-token", "tok-under-test-cli", "--only", "status_queries_agree",
            "--junit-xml", str(tmp_path / "r.xml"),
        )  # fmt: skip
    assert result.returncode == 1
    assert "FAIL  status_queries_agree: get_payment answered HTTP 404" in result.stdout
    assert "-> POST /refunds 200" in result.stdout  # the journal excerpt
    failure = ET.parse(tmp_path / "r.xml").getroot().find("testcase/failure")
    assert failure is not None and "HTTP 404" in failure.get("message", "")


def _readme_block(marker: str, language: str) -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- {marker} -->\n```{language}\n(.*?)```", text, re.S)
    assert match, f"the README lost its {marker}"
    return match.group(1)


def test_the_readme_ci_job_runs_as_written(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The README's app config, its app on its own paths (run here, not at port 5000).
    config = yaml.safe_load(_readme_block("app-config-example", "yaml"))
    paths = {
        kind: url.removeprefix("http://127.0.0.1:5000") for kind, url in config["urls"].items()
    }
    with AppUnderTest(
        f"http://127.0.0.1:{port}", config["accessToken"], seed_strict=True, paths=paths
    ) as app:
        (tmp_path / "app.yaml").write_text(
            _readme_block("app-config-example", "yaml").replace("http://127.0.0.1:5000", app.url)
        )
        (tmp_path / "app-public.b64").write_text(app.public_key)
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            # The package is installed here already: the install line finds it satisfied
            # (and, dry run, would not touch this venv anyway).
            "PIP_DRY_RUN": "1",
            "SANDBOX_PORT": str(port),
        }
        log = tmp_path / "job.log"
        with log.open("w") as out:
            job = subprocess.Popen(
                ["bash", "-e", "-c", _readme_block("ci-example", "sh")],
                cwd=tmp_path,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                job.wait(timeout=180)
            finally:
                with contextlib.suppress(ProcessLookupError):  # the sandbox in the background
                    os.killpg(job.pid, signal.SIGTERM)
        output = log.read_text()
    assert job.returncode == 0, output
    assert f"{len(PLAN)} passed, 0 failed" in output
    suite = ET.parse(tmp_path / "verify.xml").getroot()
    assert suite.get("failures") == "0" and suite.get("tests") == str(len(PLAN))
