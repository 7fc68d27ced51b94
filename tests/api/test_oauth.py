"""OAuth token exchange, scopes, uninstall and the signed launch URL."""

import hashlib
import hmac
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

import jwt

from tests.conftest import APP_TOKEN

SECRET = "demo-client-secret-for-tests-only"


def exchange(client, token_type="online-access-token", **overrides):
    session = client.post("/_sandbox/session_tokens", json={}).json["sessionToken"]
    body = {"clientId": "demo-sandbox-psp", "clientSecret": SECRET, "grantType": "token-exchange",
            "subjectToken": session, "requestedTokenType": token_type, **overrides}  # fmt: skip
    return client.post("/oauth2/token", json=body)


def test_the_session_token_is_a_jwt_signed_with_the_client_secret(client):
    session = client.post("/_sandbox/session_tokens", json={"userId": 7}).json["sessionToken"]
    claims = jwt.decode(session, SECRET, algorithms=["HS256"], audience="demo-sandbox-psp")
    assert claims["dest"] == "https://demo.genmystore.com" and claims["sub"] == "7"


def test_online_token_exchange_expires_on_the_sandbox_clock(client, frozen):
    response = exchange(client)
    assert response.status_code == 200
    body = response.json
    assert body["expiresIn"] == 86399 and body["associatedUser"]["id"] == 1
    assert body["scope"] == "write_payment,write_apps"
    headers = {"X-Genstore-Access-Token": body["accessToken"]}
    scopes = client.get("/api/202412/oauth2/access_scopes", headers=headers)
    assert scopes.json == {"accessScopes": "[write_apps,write_payment]"}
    frozen("86399s")
    expired = client.get("/api/202412/oauth2/access_scopes", headers=headers)
    assert expired.status_code == 401 and "expired" in expired.json["error"]


def test_offline_tokens_do_not_expire(client, frozen):
    body = exchange(client, "offline-access-token").json
    assert set(body) == {"accessToken", "scope"}
    frozen("400d")
    headers = {"X-Genstore-Access-Token": body["accessToken"]}
    assert client.get("/api/202412/oauth2/access_scopes", headers=headers).status_code == 200


def test_bad_credentials_and_bad_subject_tokens_are_refused(client, frozen):
    assert exchange(client, clientSecret="wrong").status_code == 401
    assert exchange(client, grantType="authorization_code").status_code == 400
    forged = jwt.encode(
        {"aud": "demo-sandbox-psp", "exp": 9999999999},
        "another-secret-long-enough-for-hs256",
        algorithm="HS256",
    )
    response = exchange(client, subjectToken=forged)
    assert response.status_code == 400 and "Invalid subject token" in response.json["error"]
    session = client.post("/_sandbox/session_tokens", json={}).json["sessionToken"]
    frozen("2m")
    body = {"clientId": "demo-sandbox-psp", "clientSecret": SECRET, "grantType": "token-exchange",
            "subjectToken": session, "requestedTokenType": "offline-access-token"}  # fmt: skip
    late = client.post("/oauth2/token", json=body)
    assert late.status_code == 400 and "expired" in late.json["error"]
    assert exchange(client, requestedTokenType="forever-token").status_code == 400


def test_uninstall_stops_every_token_of_the_app(client):
    minted = exchange(client).json["accessToken"]
    assert client.delete("/api/202412/oauth2/uninstall", headers=APP_TOKEN).json == {}
    for token in ("gst_demo_app_write_payment", minted):
        response = client.get("/api/202412/oauth2/access_scopes",
                              headers={"X-Genstore-Access-Token": token})  # fmt: skip
        assert response.status_code == 401
    assert client.get("/_sandbox/shops/demo").json["apps"][0]["activated"] is False
    reader = {"X-Genstore-Access-Token": "gst_demo_merchant_read"}
    assert client.delete("/api/202412/oauth2/uninstall", headers=reader).status_code == 403


def test_the_launch_url_is_signed_as_documented_and_the_fake_app_checks_it(client):
    launch = client.get("/_sandbox/apps/sandbox-psp/launch").json
    url = urlsplit(launch["url"])
    params = dict(parse_qsl(url.query))
    assert set(params) == {"shop", "shopId", "timestamp", "hmac"}
    message = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "hmac")
    assert params["hmac"] == hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
    page = client.get(f"{url.path}?{url.query}")
    assert page.status_code == 200 and b"Signature valid" in page.data
    tampered = client.get(f"{url.path}?{url.query.replace('shopId=1', 'shopId=2')}")
    assert tampered.status_code == 401


def _signed(claims):
    base = {"aud": "demo-sandbox-psp", "dest": "https://demo.genmystore.com", "sub": "1"}
    return jwt.encode({**base, **claims}, SECRET, algorithm="HS256")


def test_a_subject_token_not_yet_valid_is_refused(client, frozen):
    at = int(datetime.fromisoformat(client.get("/_sandbox/clock").json["now"]).timestamp())
    early = exchange(client, subjectToken=_signed({"exp": at + 330, "nbf": at + 300}))
    assert early.status_code == 400 and "not valid yet" in early.json["error"]
    frozen("301s")  # on the sandbox clock it is valid now
    valid = exchange(client, subjectToken=_signed({"exp": at + 330, "nbf": at + 300}))
    assert valid.status_code == 200, valid.json


def test_a_session_token_lives_a_minute_and_is_never_issued_in_the_future(client, frozen):
    at = int(datetime.fromisoformat(client.get("/_sandbox/clock").json["now"]).timestamp())
    forever = exchange(client, subjectToken=_signed({"exp": 1e300, "iat": at}))
    assert forever.status_code == 400 and "lives longer" in forever.json["error"]
    no_iat = exchange(client, subjectToken=_signed({"exp": at + 3600}))
    assert no_iat.status_code == 400 and "lives longer" in no_iat.json["error"]
    future = exchange(client, subjectToken=_signed({"exp": at + 3660, "iat": at + 3600}))
    assert future.status_code == 400 and "issued in the future" in future.json["error"]
    minute = exchange(client, subjectToken=_signed({"exp": at + 60, "iat": at}))
    assert minute.status_code == 200, minute.json


def test_non_numeric_time_claims_are_400_like_every_malformed_token(client):
    for claims in ({"exp": "tomorrow"}, {"exp": 9999999999, "nbf": "soon"}, {"exp": None}):
        response = exchange(client, subjectToken=_signed(claims))
        assert response.status_code == 400, (claims, response.json)
        assert "Invalid subject token" in response.json["error"]
