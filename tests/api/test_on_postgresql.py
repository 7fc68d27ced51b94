"""A cross-section of the API suite run again on PostgreSQL, under ``make test`` (issue 13):
every test of the modules below whose only fixtures are ``client`` and ``frozen``, on an
in-process app whose store is a database of this test process's throwaway cluster. So a
difference between the backends in callbacks, operations, the legacy list, OAuth, rate
limits, auth or the control API fails the default suite; ``make proof`` runs the whole
suite on PostgreSQL. (When the whole session already runs on PostgreSQL these repeat what
the modules themselves run, and are skipped.)"""

from __future__ import annotations

import inspect

import pytest

from sandbox.app import create_app
from sandbox.services import services_of
from sandbox.settings import Settings
from tests.api import (
    test_auth,
    test_callbacks,
    test_control,
    test_legacy_orders,
    test_oauth,
    test_rate_limit,
    test_transactions,
)
from tests.conftest import STORE
from tests.contract import ContractClient
from tests.helpers import freeze_clock

MODULES = (
    test_callbacks,
    test_transactions,
    test_legacy_orders,
    test_oauth,
    test_auth,
    test_rate_limit,
    test_control,
)
FIXTURES = {"client", "frozen"}


def _cases():
    for module in MODULES:
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("test_") or function.__module__ != module.__name__:
                continue
            if hasattr(function, "pytestmark"):  # parametrized or marked: run in its module
                continue
            if set(inspect.signature(function).parameters) <= FIXTURES:
                yield pytest.param(function, id=f"{module.__name__.rsplit('.', 1)[1]}.{name}")


CASES = list(_cases())


@pytest.fixture(scope="module")
def postgres_app(postgres_cluster, tmp_path_factory):
    if STORE == "postgresql":
        pytest.skip("the whole session runs on PostgreSQL already")
    database = postgres_cluster.new_database("api_cross_section")
    settings = Settings(data_dir=tmp_path_factory.mktemp("pg-app"), database=database)
    app = create_app(settings)
    app.test_client_class = ContractClient
    return app


@pytest.fixture
def pg_client(postgres_app):
    services_of(postgres_app).control.reset(None)
    return postgres_app.test_client()


def test_the_cross_section_is_large_enough():
    assert len(CASES) >= 40, [case.id for case in CASES]


@pytest.mark.parametrize("case", CASES)
def test_on_postgresql(case, pg_client):
    assert services_of(pg_client.application).db.kind == "postgresql"
    arguments = {"client": pg_client}
    if "frozen" in inspect.signature(case).parameters:
        arguments["frozen"] = freeze_clock(pg_client)
    case(**arguments)
