"""The committed OpenAPI documents match the code, validate, and are served."""

import pytest
import yaml
from openapi_spec_validator import validate

from sandbox.app import SURFACES
from sandbox.docs import spec_yaml
from tests.conftest import ROOT


@pytest.mark.parametrize("name", list(SURFACES))
def test_committed_spec_matches_the_code(app, name):
    committed = ROOT / "openapi" / f"{name}.yaml"
    assert committed.exists(), f"{committed} is missing: run `make spec`"
    assert committed.read_text() == spec_yaml(app, name), f"{committed} drifted: run `make spec`"


@pytest.mark.parametrize("name", list(SURFACES))
def test_spec_is_valid_openapi(app, name):
    validate(yaml.safe_load(spec_yaml(app, name)))


@pytest.mark.parametrize("name", list(SURFACES))
def test_specs_are_served(client, name):
    response = client.get(f"/openapi/{name}.json")
    assert response.status_code == 200
    assert response.json["info"]["version"]
    assert client.get(f"/openapi/{name}.yaml").status_code == 200


def test_every_platform_endpoint_is_documented(app):
    paths = yaml.safe_load(spec_yaml(app, "platform"))["paths"]
    for suffix in (
        "account_authorize",
        "payment/{paymentId}",
        "pre_authorize/{paymentId}",
        "capture/{captureId}",
        "void/{voidId}",
        "refund/{refundId}",
    ):
        assert f"/api/202412/app/{suffix}" in paths
    assert "/api/202412/payment/{paymentId}" in paths
    assert "/orders/{orderId}/payments/{id}" in paths


def test_docs_page_lists_endpoints(client):
    interactive = client.get("/docs")
    assert (
        interactive.status_code == 200 and b"/docs/assets/swagger-ui-bundle.js" in interactive.data
    )
    assert b"/openapi/platform.json" in interactive.data
    bundle = client.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.data) > 100_000  # shipped, not fetched
    page = client.get("/docs/endpoints")
    assert page.status_code == 200
    assert b"/api/202412/app/payment/{paymentId}" in page.data
    assert b"/_sandbox/clock" in page.data
    assert client.get("/openapi/nope.json").status_code == 404


def test_the_readme_lists_every_magic_value(app):
    readme = (ROOT / "README.md").read_text()
    for entry in app.extensions["sandbox"].fixtures.magic:
        assert f"`{entry.name}`" in readme, f"README.md does not list magic value {entry.name}"
