"""Access tokens and scopes: ``X-Genstore-Access-Token``, any one of an endpoint's scopes."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.errors import Forbidden, Unauthorized
from sandbox.store.db import Database

TOKEN_HEADER = "X-Genstore-Access-Token"


@dataclass(frozen=True)
class Principal:
    token: str
    shop_id: int
    app_id: int | None
    scopes: frozenset[str]


def authenticate(db: Database, token: str | None) -> Principal:
    if not token:
        raise Unauthorized(f"Missing access token: send it in the {TOKEN_HEADER} header")
    principal = db.memo(("token", token), lambda: _lookup(db, token))
    if principal is None:
        raise Unauthorized("Invalid access token")
    return principal


def _lookup(db: Database, token: str) -> Principal | None:
    row = (
        db.read()
        .execute("SELECT shop_id, app_id, scopes, revoked_at FROM tokens WHERE token = ?", (token,))
        .fetchone()
    )
    if row is None or row["revoked_at"] is not None:
        return None
    return Principal(token, row["shop_id"], row["app_id"], frozenset(row["scopes"].split()))


def require_any(principal: Principal, scopes: tuple[str, ...]) -> None:
    if not principal.scopes.intersection(scopes):
        raise Forbidden(
            f"This access token lacks the scope this endpoint needs: any of {', '.join(scopes)}"
        )
