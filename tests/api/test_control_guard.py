"""No web page can drive the control API (issue 10.6): a foreign Host is refused (DNS
rebinding), a change must be sent as JSON (a page cannot send that without a CORS preflight),
and a configured control token is required on every call."""

from __future__ import annotations

import pytest

from sandbox.app import create_app
from sandbox.control.guard import exposure_warning, host_name
from tests.conftest import READ_TOKEN
from tests.contract import ContractClient
from tests.helpers import store_settings

TOKEN = "s3cret-control-token"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    settings = store_settings(
        data_dir=tmp_path_factory.mktemp("guarded") / "data",
        control_token=TOKEN,
        allowed_hosts="sandbox.internal, ci-runner",
    )
    app = create_app(settings)
    app.test_client_class = ContractClient
    return app.test_client()


BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_change_a_page_could_send_without_preflight_is_refused(client, content_type):
    before = client.get("/_sandbox/clock").json
    response = client.post(
        "/_sandbox/clock",
        data='{"frozen": true, "advance": "2d"}',
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 415
    assert "application/json" in response.json["error"]
    after = client.get("/_sandbox/clock").json
    assert after["frozen"] == before["frozen"] is False  # nothing changed


def test_a_change_without_a_body_still_declares_json(client):
    refused = client.post("/_sandbox/outbox/drain")
    assert refused.status_code == 415 and "no Content-Type" in refused.json["error"]
    accepted = client.post("/_sandbox/outbox/drain", headers={"Content-Type": "application/json"})
    assert accepted.status_code == 200


def test_reads_need_no_content_type(client):
    assert client.get("/_sandbox/shops").status_code == 200


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8080", "192.168.1.20:8080", "localhost.evil.example"]
)
def test_a_foreign_host_is_refused(client, host):
    """A DNS-rebinding page reaches 127.0.0.1 under its own name: it may not read the tokens."""
    response = client.get("/_sandbox/shops", headers={"Host": host})
    assert response.status_code == 403
    assert host_name(host) in response.json["error"] and "--allowed-host" in response.json["error"]
    assert "gst_" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "host",
    ["localhost", "localhost:8080", "127.0.0.1:9000", "127.0.0.2", "[::1]:8080", "a.localhost"],
)
def test_loopback_names_are_welcome(client, host):
    assert client.get("/_sandbox/shops", headers={"Host": host}).status_code == 200


def test_the_buyer_return_page_checks_the_host_too(client):
    assert (
        client.get("/_sandbox/return?paymentId=x", headers={"Host": "evil.example"}).status_code
        == 403
    )


def test_the_platform_api_is_not_the_control_api(client):
    """Genstore's own API keeps answering under any name (tokens protect it)."""
    response = client.get(
        "/api/202412/payment/PI0020261101000000001", headers={"Host": "shop.example", **READ_TOKEN}
    )
    assert response.status_code == 200


def test_a_configured_token_is_required_on_every_control_call(guarded):
    missing = guarded.get("/_sandbox/health")
    assert missing.status_code == 401
    assert "GENSTORE_SANDBOX_CONTROL_TOKEN" in missing.json["error"]
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = guarded.get("/_sandbox/shops", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "gst_" not in wrong.get_data(as_text=True)
    assert guarded.get("/_sandbox/shops", headers=BEARER).status_code == 200
    for scheme in ("bearer", "BEARER"):  # the scheme is case-insensitive
        headers = {"Authorization": f"{scheme} {TOKEN}"}
        assert guarded.get("/_sandbox/shops", headers=headers).status_code == 200
    other = guarded.get("/_sandbox/shops", headers={"Authorization": f"Basic {TOKEN}"})
    assert other.status_code == 401
    change = guarded.post("/_sandbox/outbox/drain", headers=BEARER)
    assert change.status_code == 415  # the token does not lift the JSON rule
    assert guarded.post("/_sandbox/outbox/drain", json={}, headers=BEARER).status_code == 200


def test_the_platform_api_needs_no_control_token(guarded):
    response = guarded.get("/api/202412/payment/PI0020261101000000001", headers=READ_TOKEN)
    assert response.status_code == 200


def test_allowed_hosts_and_the_host_check_come_before_the_token(guarded):
    for host in ("sandbox.internal:8080", "ci-runner"):
        assert guarded.get("/_sandbox/health", headers={"Host": host, **BEARER}).status_code == 200
    assert (
        guarded.get("/_sandbox/health", headers={"Host": "evil.example", **BEARER}).status_code
        == 403
    )


def test_serve_warns_when_reachable_beyond_this_machine_without_a_token():
    warning = exposure_warning("0.0.0.0", None)
    assert warning is not None and "every address" in warning and "--control-token" in warning
    assert "192.168.1.20" in (exposure_warning("192.168.1.20", None) or "")
    assert exposure_warning("0.0.0.0", TOKEN) is None
    assert exposure_warning("127.0.0.1", None) is None
    assert exposure_warning("localhost", None) is None
    assert exposure_warning("::1", None) is None


def test_the_control_document_names_the_guards_answers(client):
    spec = client.get("/openapi/control.json").json
    drain = spec["paths"]["/_sandbox/outbox/drain"]["post"]
    assert {"401", "403", "415"} <= set(drain["responses"])
    shops = spec["paths"]["/_sandbox/shops"]["get"]
    assert {"401", "403"} <= set(shops["responses"]) and "415" not in shops["responses"]
    assert spec["components"]["securitySchemes"]["controlToken"]["scheme"] == "bearer"


def test_the_dashboard_page_loads_without_the_token_but_its_data_needs_it(guarded):
    """The page and its assets hold no data: they load without the token (the page asks for
    it); the control API behind them still wants it, and a foreign Host gets neither."""
    page = guarded.get("/_sandbox/ui")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert '<script src="/_sandbox/ui/ui.js">' in page.text
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    for asset in ("ui.js", "ui.css"):
        assert guarded.get(f"/_sandbox/ui/{asset}").status_code == 200
    assert guarded.get("/_sandbox/ui/other.js").status_code == 404
    assert guarded.get("/_sandbox/payments").status_code == 401
    assert guarded.get("/_sandbox/payments", headers=BEARER).status_code == 200
    foreign = guarded.get("/_sandbox/ui", headers={"Host": "evil.example"})
    assert foreign.status_code == 403
