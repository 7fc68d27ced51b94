"""Genstore's rate limit: 40 per app per shop, refilled at 2 per second on the sandbox clock."""

from tests.conftest import ADMIN_TOKEN, READ_TOKEN
from tests.helpers import store_settings

PATH = "/api/202412/payment/PI0020261101000000001"


def test_the_bucket_empties_after_40_and_refills_at_2_per_second(client, frozen):
    headers = [client.get(PATH, headers=READ_TOKEN).headers for _ in range(40)]
    assert headers[0]["X-Genstore-Shop-Api-Rate-Limit"] == "1/40"
    assert headers[-1]["X-Genstore-Shop-Api-Rate-Limit"] == "40/40"
    refused = client.get(PATH, headers=READ_TOKEN)
    assert refused.status_code == 429
    assert "Reduce request rates" in refused.json["error"]
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["X-Genstore-Shop-Api-Rate-Limit"] == "40/40"
    frozen("1s")  # two more requests' worth
    assert client.get(PATH, headers=READ_TOKEN).status_code == 200
    assert client.get(PATH, headers=READ_TOKEN).status_code == 200
    assert client.get(PATH, headers=READ_TOKEN).status_code == 429


def test_each_client_has_its_own_bucket_and_control_is_never_limited(client, frozen):
    for _ in range(41):
        client.get(PATH, headers=READ_TOKEN)
    assert client.get(PATH, headers=READ_TOKEN).status_code == 429
    other = client.get("/orders/1001/payments", headers=ADMIN_TOKEN)
    assert other.status_code == 200
    assert other.headers["X-Genstore-Shop-Api-Rate-Limit"] == "1/40"
    for _ in range(60):
        assert client.get("/_sandbox/health").status_code == 200
    assert "X-Genstore-Shop-Api-Rate-Limit" not in client.get("/_sandbox/health").headers


def test_a_shop_without_a_limit_and_a_shop_with_its_own(client):
    free = client.post("/_sandbox/shops", json={"rateLimit": {"enabled": False}}).json
    assert free["rateLimit"] is None
    token = {"X-Genstore-Access-Token": free["tokens"][1]["token"]}
    for _ in range(60):
        response = client.get(PATH, headers=token)
        assert response.status_code == 200
    assert "X-Genstore-Shop-Api-Rate-Limit" not in response.headers
    tight = client.post("/_sandbox/shops", json={"rateLimit": {"size": 2, "perSecond": 0.5}}).json
    assert tight["rateLimit"] == {"size": 2, "perSecond": 0.5}
    token = {"X-Genstore-Access-Token": tight["tokens"][1]["token"]}
    assert [client.get(PATH, headers=token).status_code for _ in range(3)] == [200, 200, 429]


def test_the_limit_can_be_switched_off(tmp_path):
    from sandbox.app import create_app

    app = create_app(store_settings(data_dir=tmp_path / "d", rate_limit="off"))
    client = app.test_client()
    assert all(client.get(PATH, headers=READ_TOKEN).status_code == 200 for _ in range(50))


def test_fixtures_configure_the_limit(tmp_path):
    from sandbox.app import create_app
    from tests.conftest import FIXTURES

    data = (
        (FIXTURES / "default.yaml")
        .read_text()
        .replace(
            "    fee_rule: standard\n", "    fee_rule: standard\n    rate_limit: {size: 3}\n", 1
        )
    )
    (tmp_path / "default.yaml").write_text(data)
    app = create_app(store_settings(data_dir=tmp_path / "d", fixtures=tmp_path / "default.yaml"))
    client = app.test_client()
    codes = [client.get(PATH, headers=READ_TOKEN).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_a_valid_token_without_the_scope_gets_the_header_on_its_403(client):
    refused = client.get("/orders/1001/payments", headers=READ_TOKEN)  # no read_orders
    assert refused.status_code == 403
    assert refused.headers["X-Genstore-Shop-Api-Rate-Limit"] == "1/40"
    unknown = client.get(PATH, headers={"X-Genstore-Access-Token": "gst_nobody_at_all"})
    assert unknown.status_code == 401 and "X-Genstore-Shop-Api-Rate-Limit" not in unknown.headers
