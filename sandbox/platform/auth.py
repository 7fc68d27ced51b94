"""Access tokens and scopes: ``X-Genstore-Access-Token``, any one of an endpoint's scopes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sandbox.core.clock import Clock
from sandbox.core.timefmt import from_storage
from sandbox.errors import Forbidden, Unauthorized
from sandbox.protocol import TOKEN_HEADER
from sandbox.store import platform as rows
from sandbox.store.db import Database


@dataclass(frozen=True)
class Principal:
    token: str
    shop_id: int
    app_id: int | None
    scopes: frozenset[str]
    expires_at: datetime | None = None


def authenticate(db: Database, token: str | None, clock: Clock) -> Principal:
    if not token:
        raise Unauthorized(f"Missing access token: send it in the {TOKEN_HEADER} header")
    principal = db.memo(("token", token), lambda: _lookup(db, token))
    if principal is None:
        raise Unauthorized("Invalid access token")
    if principal.expires_at is not None and clock.now(principal.shop_id) >= principal.expires_at:
        raise Unauthorized("Access token expired: exchange a new session token for another")
    return principal


def _lookup(db: Database, token: str) -> Principal | None:
    row = rows.load_token(db.read(), token)
    if row is None or row.revoked_at is not None:
        return None
    expires = from_storage(row.expires_at) if row.expires_at else None
    return Principal(token, row.shop_id, row.app_id, frozenset(row.scopes.split()), expires)


def require_any(principal: Principal, scopes: tuple[str, ...]) -> None:
    """Any one of ``scopes``; an endpoint that names none takes any valid token."""
    if scopes and not principal.scopes.intersection(scopes):
        raise Forbidden(
            f"This access token lacks the scope this endpoint needs: any of {', '.join(scopes)}"
        )
