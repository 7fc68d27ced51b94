"""HTTP plumbing shared by every surface: request parsing, errors, auth, the services handle.

Handlers stay thin: parse (schemas), call a service, return what it gives.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass
from typing import Any

import flask_smorest
import marshmallow as ma
from flask import Flask, Response, after_this_request, current_app, g, request
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge

from sandbox.errors import ApiError, BadRequest, validation_error
from sandbox.journal import JOURNALED_PREFIXES, MAX_BODY, Exchange
from sandbox.platform.auth import TOKEN_HEADER
from sandbox.platform.ratelimit import HEADER as RATE_LIMIT_HEADER

JSON = "application/json"


def dump_json(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


class ErrorSchema(ma.Schema):
    """Genstore's error shape: always an ``error`` string; ``details`` names failing fields."""

    error = ma.fields.String(required=True, metadata={"example": "Payment PI0020 not found"})
    details = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "For validation errors: field path -> what is wrong"},
    )


class Parser(FlaskParser):
    """Bodies parse as JSON whatever the Content-Type; every failure is a Genstore 400."""

    DEFAULT_VALIDATION_STATUS = 400

    def load_json(self, req, schema):
        if not req.get_data(cache=True):
            return ma.missing
        try:
            return json.loads(req.get_data(cache=True))
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(f"Request body is not valid JSON: {exc}") from None
        except RecursionError:
            raise BadRequest("Request body is not valid JSON: nested too deeply") from None

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        messages = error.messages
        # webargs keys messages by location ({"json": {...}}); the location is noise to users.
        if isinstance(messages, dict) and len(messages) == 1:
            ((location, inner),) = messages.items()
            if location in ("json", "query", "view_args", "headers") and isinstance(inner, dict):
                messages = inner
        raise validation_error(messages)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, with bodies serialized straight to JSON.

    Handlers return wire-ready dicts built by the domain's view functions; the ``response``
    schema documents them (OpenAPI) and the test suite checks every response against that
    document. Skipping marshmallow's dump here halves the cost of the read path.
    """

    ARGUMENTS_PARSER = Parser()

    def response(self, status_code, schema=None, **kwargs):
        document = super().response(status_code, schema, **kwargs)

        def decorator(func):
            documented = document(func)

            @functools.wraps(func)
            def wrapper(*args, **kw):
                result = func(*args, **kw)
                if isinstance(result, Response):
                    return result
                return Response(dump_json(result), status=status_code, mimetype=JSON)

            wrapper._apidoc = documented._apidoc
            return wrapper

        return decorator

    def alt_response(self, *args, **kwargs):
        return _documentation_only(super().alt_response(*args, **kwargs))

    @staticmethod
    def doc(**kwargs):
        return _documentation_only(flask_smorest.Blueprint.doc(**kwargs))


def _documentation_only(decorator):
    """Keep what a flask-smorest decorator adds to the docs; drop its runtime wrapper, which
    would only cost every request a few proxy lookups."""

    def apply(func):
        func._apidoc = decorator(func)._apidoc
        return func

    return apply


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        """Errors are handled once, app-wide, by :func:`install_error_handlers`."""


@dataclass
class Services:
    settings: Any
    db: Any
    fixtures: Any
    clock: Any
    ids: Any
    platform: Any
    control: Any
    outbox: Any
    psp: Any
    checkout: Any
    journal: Any
    rate_limiter: Any
    oauth: Any
    webhooks: Any
    faults: Any


def services() -> Services:
    return current_app.extensions["sandbox"]


def services_of(app: Flask) -> Services:
    return app.extensions["sandbox"]


def secured(blp: Blueprint, *scopes: str):
    """Require an access token with any of ``scopes``; document it in the spec too."""

    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            svc = services()
            g.principal = svc.platform.principal(request.headers.get(TOKEN_HEADER), scopes)
            header = svc.rate_limiter.take(g.principal)
            if header is None:
                return fn(*args, **kwargs)
            try:
                response = fn(*args, **kwargs)
            except ApiError as exc:  # errors after auth carry the header too
                exc.headers.setdefault(RATE_LIMIT_HEADER, header)
                raise
            response.headers[RATE_LIMIT_HEADER] = header
            return response

        wrapper = blp.alt_response(403, schema=ErrorSchema, description="Scope missing")(wrapper)
        wrapper = blp.alt_response(
            429, schema=ErrorSchema, description="Rate limit: the app's bucket is empty"
        )(wrapper)
        wrapper = blp.alt_response(401, schema=ErrorSchema, description="Token missing or unknown")(
            wrapper
        )
        needs = f"ANY of the following access scopes: {', '.join(scopes)}" if scopes else "a token"
        return blp.doc(security=[{"accessToken": []}], description=f"Requires {needs}")(wrapper)

    return decorator


PLATFORM_PREFIXES = ("/api/", "/orders/", "/oauth2/")


def inject_fault(svc: Services) -> Response | None:
    """Faults armed on the ``platform`` target act on inbound platform requests."""
    if not request.path.startswith(PLATFORM_PREFIXES):
        return None
    if not any(f.target == "platform" for f in svc.faults.armed()):
        return None
    fault = svc.faults.pick(
        "platform", _token_shop(svc), (request.view_args or {}).get("payment_id"), request.path
    )
    if fault is None:
        return None
    g.fault = fault.label()
    if fault.kind == "status":
        return Response(fault.body, status=fault.status, mimetype=JSON)
    if fault.kind == "drop":
        return dropped_response()
    if fault.kind == "latency":
        time.sleep(fault.latency_ms / 1000)  # the delay the fault was armed to add
    elif fault.kind == "commit_lost":
        after_this_request(lambda _response: dropped_response())
    return None


def dropped_response() -> Response:
    """Headers promising a body that never comes: the client sees the connection drop."""
    response = Response(b"", status=200, mimetype=JSON)
    response.headers["Content-Length"] = "1024"
    response.headers["Connection"] = "close"
    return response


def _token_shop(svc: Services) -> int | None:
    token = request.headers.get(TOKEN_HEADER)
    if not token:
        return None
    try:
        return svc.platform.principal(token, ()).shop_id
    except ApiError:
        return None


def install_request_hooks(app: Flask) -> None:
    """As few hooks as possible (each Flask hook costs the hot path): one before each request
    (pin the store's data version, time the exchange, inject a platform fault) and, when the
    journal is on, one after it. The rate-limit header is set by ``secured``; a fault that
    loses the answer registers its own after-this-request."""
    svc_of_app = services_of(app)
    db = svc_of_app.db

    faults = svc_of_app.faults
    journaling = svc_of_app.settings.journal != "off"

    @app.before_request
    def _before():
        db.pin_version()
        if journaling:
            g.journal_started = time.perf_counter()
            g.journal_started_ns = time.time_ns()
        return inject_fault(services()) if faults.armed() else None

    if not journaling:
        return

    @app.after_request
    def _after(response: Response) -> Response:
        if request.path.startswith(JOURNALED_PREFIXES):
            record_exchange(services(), response)
        return response


def record_exchange(svc: Services, response: Response) -> None:
    """Journal an inbound exchange: the request thread only gathers raw parts; masking and
    encoding happen when the journal writes (in its own thread under ``serve``)."""
    path = request.path
    query = request.environ.get("QUERY_STRING")
    has_body = bool(request.content_length)
    rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
    svc.journal.record(
        Exchange(
            direction="inbound",
            started_ns=g.journal_started_ns,
            kind=f"{request.method} {rule}",
            method=request.method,
            url=f"{path}?{query}" if query else path,
            path=path,
            request_headers=request.headers.to_wsgi_list(),
            request_body=_request_text() if has_body else None,
            status=response.status_code,
            response_headers=response.headers.to_wsgi_list(),
            response_body=None if response.direct_passthrough else response.get_data(),
            duration_ms=(time.perf_counter() - g.journal_started) * 1000,
            shop_id=_journal_shop(svc),
            payment_id=_journal_payment(svc, rule, has_body),
            fault=g.get("fault"),
        )
    )


def _request_text() -> str | bytes | None:
    length = request.content_length or 0
    if length > MAX_BODY:
        return f"<{length} bytes, not recorded>"
    try:
        return request.get_data(cache=True) or None
    except Exception:  # a body the server refused to read (too large, cut off)
        return None


def _journal_shop(svc: Services) -> int | None:
    principal = g.get("principal")
    if principal is not None:
        return principal.shop_id
    if request.headers.get(TOKEN_HEADER):  # answered before auth ran (a fault, an error)
        return _token_shop(svc)
    domain = request.headers.get("X-Genstore-Shop-Domain")
    if domain:
        return svc.db.memo(("shop-by-domain", domain), lambda: _shop_id_of(svc, domain))
    return None


def _shop_id_of(svc: Services, domain: str) -> int | None:
    row = svc.db.read().execute("SELECT id FROM shops WHERE domain = ?", (domain,)).fetchone()
    return row[0] if row else None


def _journal_payment(svc: Services, rule: str, has_body: bool) -> str | None:
    """The Genstore payment id an exchange is about, wherever the request carries it."""
    args = request.view_args or {}
    if "payment_id" in args and not rule.startswith("/orders/"):
        return args["payment_id"]
    body = request.get_json(silent=True, cache=True) if has_body else None
    if isinstance(body, dict):
        pay = body.get("pay") if isinstance(body.get("pay"), dict) else body
        if isinstance(pay.get("paymentId"), str):
            return pay["paymentId"]
    if request.args.get("paymentId"):
        return request.args["paymentId"]
    principal = g.get("principal")
    for kind in ("capture", "void", "refund"):
        if f"{kind}_id" in args and principal is not None:
            row = (
                svc.db.read()
                .execute(
                    "SELECT payment_id FROM operations WHERE shop_id = ? AND kind = ? AND "
                    "operation_id = ?",
                    (principal.shop_id, kind, args[f"{kind}_id"]),
                )
                .fetchone()
            )
            return row[0] if row else None
    return None


def error_body(message: str, details: dict | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": message}
    if details:
        body["details"] = details
    return body


def install_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return exc.to_body(), exc.status, exc.headers

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if isinstance(exc, NotFound):
            message = f"Not found: {request.method} {request.path}"
        elif isinstance(exc, MethodNotAllowed):
            allowed = ", ".join(sorted(m for m in (exc.valid_methods or []) if m != "OPTIONS"))
            message = (
                f"Method {request.method} is not allowed on {request.path} (allowed: {allowed})"
            )
        elif isinstance(exc, RequestEntityTooLarge):
            limit = app.config.get("MAX_CONTENT_LENGTH")
            message = f"Request body too large (limit {limit} bytes)"
        else:
            message = exc.description or exc.name
        response = exc.get_response()
        headers = {k: v for k, v in response.headers.items() if k.lower() == "allow"}
        return error_body(message), exc.code or 500, headers

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        return error_body(f"Internal sandbox error ({type(exc).__name__}); see the server log"), 500
