"""OAuth and app install: session tokens, token exchange (online and offline access tokens,
expiry on the sandbox clock), access scopes, uninstall, and signed app-launch URLs."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt

from sandbox.core.clock import Clock
from sandbox.core.digits import ascii_digits
from sandbox.core.ids import Ids
from sandbox.core.timefmt import to_storage
from sandbox.errors import ApiError, BadRequest, Forbidden, NotFound, Unauthorized
from sandbox.platform.auth import Principal
from sandbox.protocol import sign_launch
from sandbox.store import platform as rows
from sandbox.store.db import Database
from sandbox.store.records import App, Shop, Token

ONLINE_TTL = timedelta(seconds=86399)
SESSION_TTL = timedelta(minutes=1)
TOKEN_TYPES = ("online-access-token", "offline-access-token")


def demo_user(user_id: int, shop: Shop) -> dict[str, Any]:
    return {
        "id": user_id, "firstName": "Sandbox", "lastName": f"User {user_id}",
        "email": f"user{user_id}@{shop.domain}", "emailVerified": True,
        "accountOwner": user_id == 1, "locale": "en", "collaborator": False,
    }  # fmt: skip


class OAuthService:
    def __init__(self, db: Database, clock: Clock, ids: Ids, resolve: Callable[[str], str]):
        self.db = db
        self.clock = clock
        self.ids = ids
        self.resolve = resolve  # fills in the sandbox's own URL

    # ---- what the platform hands an app's front end -----------------------------------------

    def session_token(self, handle: str, app_name: str, user_id: int) -> dict[str, Any]:
        shop, app = self._shop_app(handle, app_name)
        now = self.clock.now(shop.id)
        issued = int(now.timestamp())
        claims = {
            "iss": f"https://{shop.domain}/admin",
            "dest": f"https://{shop.domain}",
            "aud": app.client_id,
            "sub": str(user_id),
            "exp": int((now + SESSION_TTL).timestamp()),
            "nbf": issued,
            "iat": issued,
            "jti": self.ids.suffix(16),
            "sid": self.ids.suffix(16),
        }
        token = jwt.encode(claims, app.client_secret, algorithm="HS256")
        return {"sessionToken": token, "expiresAt": to_storage(now + SESSION_TTL)}

    def launch_url(self, handle: str, app_name: str, path: str) -> dict[str, Any]:
        shop, app = self._shop_app(handle, app_name)
        urls = app.urls
        base = urls.get("launch") or _origin(urls.get("payment") or urls.get("offsite_payment"))
        if not base:
            raise ApiError(f"App '{app_name}' has no launch URL", status=409)
        params = {"shop": shop.domain, "shopId": str(shop.id),
                  "timestamp": str(int(self.clock.now(shop.id).timestamp()))}  # fmt: skip
        params["hmac"] = sign_launch(params, app.client_secret)
        target = self.resolve(base).rstrip("/")
        if path.strip("/"):
            target += "/" + path.lstrip("/")
        return {"url": f"{target}?{urlencode(params)}", "params": params}

    # ---- the token endpoint and friends -----------------------------------------------------

    def exchange(self, body: dict[str, Any]) -> dict[str, Any]:
        conn = self.db.read()
        app = rows.app_by_client_id(conn, body["clientId"])
        if app is None or not hmac.compare_digest(app.client_secret, body["clientSecret"]):
            raise Unauthorized("Invalid client credentials")
        if body["grantType"] != "token-exchange":
            raise BadRequest("Unsupported grantType: use token-exchange",
                             details={"grantType": ["must be token-exchange"]})  # fmt: skip
        claims = self._verify(body["subjectToken"], app)
        shop = rows.load_shop(conn, app.shop_id)
        if shop is None:  # the app's shop was reset away
            raise Unauthorized("Invalid client credentials")
        if claims.get("dest") != f"https://{shop.domain}":
            raise BadRequest("Invalid subject token: issued for another shop")
        user_id = int(claims["sub"]) if ascii_digits(str(claims.get("sub", ""))) else 1
        online = body["requestedTokenType"] == "online-access-token"
        now = self.clock.now(shop.id)
        token = self.ids.token()
        with self.db.write() as conn:
            rows.insert_token(
                conn,
                Token(
                    token,
                    shop.id,
                    app.id,
                    app.scopes,
                    to_storage(now),
                    expires_at=to_storage(now + ONLINE_TTL) if online else None,
                    user_id=user_id if online else None,
                ),
            )
        answer: dict[str, Any] = {"accessToken": token, "scope": ",".join(app.scopes.split())}
        if online:
            answer["expiresIn"] = int(ONLINE_TTL.total_seconds())
            answer["associatedUser"] = demo_user(user_id, shop)
        return answer

    def _verify(self, token: str, app: App) -> dict[str, Any]:
        try:
            claims = jwt.decode(
                token, app.client_secret, algorithms=["HS256"], audience=app.client_id,
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )  # fmt: skip
        except jwt.InvalidTokenError as exc:
            raise BadRequest(f"Invalid subject token: {exc}") from None
        now = self.clock.now(app.shop_id).timestamp()
        expires, not_before = _time_claim(claims, "exp"), _time_claim(claims, "nbf")
        issued = _time_claim(claims, "iat")
        if expires is None or expires <= now:
            raise BadRequest("Invalid subject token: expired (on the sandbox clock)")
        if not_before is not None and not_before > now:
            raise BadRequest("Invalid subject token: not valid yet (nbf, on the sandbox clock)")
        if issued is not None and issued > now:
            raise BadRequest(
                "Invalid subject token: issued in the future (iat, on the sandbox clock)"
            )
        # A session token lives a minute, as the platform issues them: no longer-lived one
        # is taken, however it was signed.
        if expires - (issued if issued is not None else now) > SESSION_TTL.total_seconds():
            raise BadRequest(
                f"Invalid subject token: lives longer than a session token may "
                f"({SESSION_TTL.total_seconds():g} s from iat to exp)"
            )
        return claims

    def access_scopes(self, principal: Principal) -> dict[str, str]:
        """Seed format: the scopes as one bracketed string."""
        return {"accessScopes": "[" + ",".join(sorted(principal.scopes)) + "]"}

    def uninstall(self, principal: Principal) -> None:
        """Every token of the app in the shop stops working; the app is no longer activated."""
        if principal.app_id is None:
            raise Forbidden("uninstall needs the access token of an app")
        now = to_storage(self.clock.now(principal.shop_id))
        with self.db.write() as conn:
            rows.revoke_app_tokens(conn, principal.shop_id, principal.app_id, now)
            rows.set_app_activated(conn, principal.app_id, False, None)

    def _shop_app(self, handle: str, app_name: str) -> tuple[Shop, App]:
        shop = rows.find_shop(self.db.read(), handle)
        if shop is None:
            raise NotFound(f"Shop '{handle}' not found")
        app = rows.find_app(self.db.read(), shop.id, app_name)
        if app is None:
            raise NotFound(f"App '{app_name}' not found in shop '{handle}'")
        return shop, app


def _time_claim(claims: dict[str, Any], name: str) -> float | None:
    """A NumericDate claim (RFC 7519), or None when absent; anything else is a 400, like
    every other malformed token."""
    if name not in claims:
        return None
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"Invalid subject token: {name} must be a number of seconds")
    return float(value)


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else None
