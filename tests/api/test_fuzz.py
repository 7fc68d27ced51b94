"""Property-based fuzzing of the three served OpenAPI documents (issue 10.13): requests
generated from each operation, valid and invalid, against the in-process sandbox. Every
answer must be a documented status (never a 5xx), in the documented content type, matching
its schema; a request the document forbids must be refused (4xx), not half-accepted.

Bounded under ``make test`` (a few examples per operation); ``make proof`` runs many more.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from sandbox.app import SURFACES, create_app
from sandbox.services import services_of
from sandbox.settings import Settings
from tests.conftest import ADMIN_TOKEN, APP_TOKEN, PROOF, READ_TOKEN
from tests.contract import record_status

EXAMPLES = 300 if PROOF else 8
CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.negative_data_rejection,
]
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not PROOF,  # the same cases every `make test`; fresh ones under `make proof`
    suppress_health_check=list(HealthCheck),
    database=None,
)


# A sandbox of the fuzzer's own (its store in a temporary directory), built when the module
# is collected: the documents are read from what it serves.
_STORE = tempfile.TemporaryDirectory(prefix="fuzz-")
APP = create_app(Settings(data_dir=Path(_STORE.name) / "data"))
DOCUMENTS = {
    name: schemathesis.openapi.from_wsgi(f"/openapi/{name}.json", APP) for name in SURFACES
}
for _document in DOCUMENTS.values():
    # Under `make test`: the documents' examples and random generation, bounded. The coverage
    # phase (every boundary of every field) runs under `make proof`.
    _document.config.phases.update(
        phases=["examples", "coverage", "fuzzing"] if PROOF else ["examples", "fuzzing"]
    )


@pytest.fixture(scope="module")
def fuzzed_app():
    services_of(APP).control.reset(None)
    yield APP
    _STORE.cleanup()


def _token_for(path: str) -> dict[str, str]:
    """A demo token with the scopes the operation asks for (a token without them is tried by
    the suite's auth tests; here the generated data gets past the door)."""
    if path.startswith(("/api/202412/app/", "/api/202412/oauth2/")):
        return APP_TOKEN
    if path.startswith("/api/202412/payment/"):
        return READ_TOKEN
    return ADMIN_TOKEN


def _run(case, app) -> None:
    response = case.call_and_validate(headers=_token_for(case.operation.path), checks=CHECKS)
    record_status(case.method, case.operation.path, response.status_code)
    # Faults armed by a generated request would make later answers fail on purpose.
    services_of(app).faults.clear()


@DOCUMENTS["platform"].parametrize()
@FUZZ
def test_platform_api(case, fuzzed_app):
    _run(case, fuzzed_app)


@DOCUMENTS["payment-app"].parametrize()
@FUZZ
def test_payment_app_api(case, fuzzed_app):
    _run(case, fuzzed_app)


@DOCUMENTS["control"].parametrize()
@FUZZ
def test_control_api(case, fuzzed_app):
    _run(case, fuzzed_app)
