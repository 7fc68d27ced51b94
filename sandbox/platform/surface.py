"""The platform's side of the HTTP plumbing: its services for the handlers, ``secured``
(access token, scopes, rate limit) and what a request is about, for the journal and faults."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs

from flask import current_app, g, request
from werkzeug.datastructures import EnvironHeaders

from sandbox.errors import ApiError
from sandbox.http import Blueprint, ErrorSchema
from sandbox.journal import Inbound
from sandbox.platform.auth import require_any
from sandbox.platform.oauth import OAuthService
from sandbox.platform.ratelimit import RateLimiter
from sandbox.platform.service import PlatformService
from sandbox.platform.webhooks import Webhooks
from sandbox.protocol import RATE_LIMIT_HEADER, SHOP_HEADER, TOKEN_HEADER
from sandbox.store import platform as rows
from sandbox.store.db import Database

EXTENSION = "sandbox.platform"
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class PlatformSurface:
    """What the platform's handlers call."""

    platform: PlatformService
    oauth: OAuthService
    webhooks: Webhooks
    rate_limiter: RateLimiter


def surface() -> PlatformSurface:
    return cast(PlatformSurface, current_app.extensions[EXTENSION])


def secured(blp: Blueprint, *scopes: str) -> Callable[[F], F]:
    """Require an access token with any of ``scopes``; document it in the spec too."""

    def decorator(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            svc = surface()
            g.principal = svc.platform.principal(request.headers.get(TOKEN_HEADER), ())
            # Every answer to a valid token carries the rate-limit header, a 403 too.
            header = svc.rate_limiter.take(g.principal)
            if header is None:
                require_any(g.principal, scopes)
                return fn(*args, **kwargs)
            try:
                require_any(g.principal, scopes)
                response = fn(*args, **kwargs)
            except ApiError as exc:  # errors after auth carry the header too
                exc.headers.setdefault(RATE_LIMIT_HEADER, header)
                raise
            response.headers[RATE_LIMIT_HEADER] = header
            return response

        documented: Any = wrapper
        if scopes:  # any valid token will do otherwise: nothing to lack
            documented = blp.alt_response(403, schema=ErrorSchema, description="Scope missing")(
                documented
            )
        documented = blp.alt_response(
            429, schema=ErrorSchema, description="Rate limit: the app's bucket is empty"
        )(documented)
        documented = blp.alt_response(
            401, schema=ErrorSchema, description="Token missing or unknown"
        )(documented)
        needs = f"ANY of the following access scopes: {', '.join(scopes)}" if scopes else "a token"
        return cast(
            F, blp.doc(security=[{"accessToken": []}], description=f"Requires {needs}")(documented)
        )

    return decorator


class PlatformRequestFacts:
    """Which shop and payment an inbound request is about: by its token (platform calls) or
    its shop header (platform -> app calls), by its path or its body. ``shop_id`` reads the
    current request (fault injection); ``about`` a journaled exchange after the fact."""

    def __init__(self, db: Database, platform: PlatformService):
        self.db = db
        self.platform = platform

    def shop_id(self) -> int | None:
        principal = g.get("principal")
        return self._shop(
            int(principal.shop_id) if principal is not None else None,
            request.headers.get(TOKEN_HEADER),
            (request.view_args or {}).get("installation") or request.headers.get(SHOP_HEADER),
        )

    def about(self, exchange: Inbound) -> tuple[int | None, str | None]:
        headers = EnvironHeaders(exchange.environ)
        args = exchange.view_args
        shop_id = self._shop(
            exchange.principal_shop_id,
            headers.get(TOKEN_HEADER),
            args.get("installation") or headers.get(SHOP_HEADER),
        )
        return shop_id, self._payment_id(exchange)

    def _shop(
        self, principal_shop: int | None, token: str | None, domain: str | None
    ) -> int | None:
        if principal_shop is not None:
            return principal_shop
        if token:  # answered before auth ran (a fault, an error)
            try:
                return self.platform.principal(token, ()).shop_id
            except ApiError:
                return None
        if domain:
            return self.db.memo(
                ("shop-by-domain", domain), lambda: rows.shop_id_by_domain(self.db.read(), domain)
            )
        return None

    def _payment_id(self, exchange: Inbound) -> str | None:
        """The Genstore payment id an exchange is about, wherever the request carries it."""
        args = exchange.view_args
        if "paymentId" in args:
            return str(args["paymentId"])
        if exchange.body_readable and exchange.request_body:
            try:
                body = json.loads(exchange.request_body)
            except (ValueError, RecursionError):
                body = None
            if isinstance(body, dict):
                pay: dict[str, Any] = body["pay"] if isinstance(body.get("pay"), dict) else body
                if isinstance(pay.get("paymentId"), str):
                    return str(pay["paymentId"])
        query = parse_qs(exchange.environ.get("QUERY_STRING", ""))
        if query.get("paymentId"):
            return query["paymentId"][0]
        for kind in ("capture", "void", "refund"):
            if f"{kind}Id" in args and exchange.principal_shop_id is not None:
                return rows.operation_payment_id(
                    self.db.read(), exchange.principal_shop_id, kind, args[f"{kind}Id"]
                )
        return None
