"""Shared fixtures: an in-process app per test, and one live server per session for e2e."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sandbox.app import create_app
from sandbox.services import services_of
from sandbox.testing.live import LiveSandbox
from sandbox.testing.postgres import PostgresCluster, PostgresMissing
from tests.contract import ContractClient
from tests.helpers import freeze_clock, store_settings

ROOT = Path(__file__).resolve().parent.parent
# Every status the documents promise must be one some test saw (tests/status_coverage.py).
pytest_plugins = ["tests.status_coverage"]
FIXTURES = ROOT / "fixtures"

# `make proof` sets this: the tests marked `proof` run at their full size (longer than the
# default suite's time budget allows); under `make test` they run bounded.
PROOF = os.environ.get("GENSTORE_SANDBOX_PROOF") == "1"

# Tokens of the demo shop in fixtures/default.yaml.
APP_TOKEN = {"X-Genstore-Access-Token": "gst_demo_app_write_payment"}
READ_TOKEN = {"X-Genstore-Access-Token": "gst_demo_merchant_read"}
ADMIN_TOKEN = {"X-Genstore-Access-Token": "gst_demo_merchant_admin"}


# Which store the suite's sandboxes run on (make proof runs it on both): "sqlite" or
# "postgresql" (a throwaway cluster per test process, sandbox/testing/postgres.py).
STORE = os.environ.get("GENSTORE_SANDBOX_TEST_STORE", "sqlite")
if STORE not in ("sqlite", "postgresql"):
    raise pytest.UsageError(f"GENSTORE_SANDBOX_TEST_STORE={STORE!r}: sqlite or postgresql")


def pytest_collection_modifyitems(config, items):
    if STORE != "sqlite":
        skip = pytest.mark.skip(reason="about the SQLite store's own file")
        for item in items:
            if "sqlite_only" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def postgres_cluster():
    """A PostgreSQL cluster of this test process's own, removed afterwards. Without
    PostgreSQL's binaries the test skips with the command that installs them, except
    under CI=true, where it fails."""
    try:
        cluster = PostgresCluster().start()
    except PostgresMissing as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{exc} (CI=true: the PostgreSQL tests must run)")
        pytest.skip(str(exc))
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session", autouse=True)
def _session_store(request):
    """On PostgreSQL, every sandbox the suite starts gets a database of its own."""
    if STORE == "postgresql":
        LiveSandbox.stores = request.getfixturevalue("postgres_cluster").database_for
    yield
    LiveSandbox.stores = None


@pytest.fixture(scope="session")
def proof() -> bool:
    """True under `make proof`: scale the run up."""
    return PROOF


@pytest.fixture(scope="session")
def _shared_app(tmp_path_factory, _session_store):
    app = create_app(store_settings(data_dir=tmp_path_factory.mktemp("app") / "data"))
    app.test_client_class = ContractClient
    return app


@pytest.fixture
def app(_shared_app):
    """The in-process sandbox, back to its fixtures for each test: the store reseeded (shops,
    clock, faults, journal, outbox), as a fresh one would be. Building the app once saves the
    suite the OpenAPI documents' construction per test."""
    services_of(_shared_app).control.reset(None)
    return _shared_app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def frozen(client):
    """Freeze the clock of the in-process app; returns a function that advances it."""
    return freeze_clock(client)


@pytest.fixture(scope="session")
def live(tmp_path_factory, _session_store):
    """One real ``serve`` (gunicorn, two workers) on a free port for the whole session."""
    with LiveSandbox(data_dir=tmp_path_factory.mktemp("live")) as sandbox:
        yield sandbox


@pytest.fixture
def shop(live):
    """A fresh, isolated shop on the live server for one test."""
    return live.new_shop()
