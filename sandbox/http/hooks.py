"""The request hooks: as few as possible, since each Flask hook costs the hot path.

One before each request (pin the store's data version, time the exchange, inject a platform
fault) and, when the journal is on, one after it. Which shop and payment a request is about
is the sides' knowledge: ``create_app`` passes it in as :class:`RequestFacts`.
"""

from __future__ import annotations

import io
import json
import re
import time
from typing import Protocol

from flask import Flask, Response, after_this_request, current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from sandbox.errors import BadRequest
from sandbox.faults import Faults
from sandbox.http.blueprint import JSON
from sandbox.journal import JOURNALED_PREFIXES, MAX_BODY, Inbound, Journal
from sandbox.requestlog import Line, RequestLog
from sandbox.store.db import Database

PLATFORM_PREFIXES = ("/api/", "/orders/", "/oauth2/")


class RequestFacts(Protocol):
    """Which shop the current request is about, as the side that answers it knows."""

    def shop_id(self) -> int | None: ...


def install_request_hooks(
    app: Flask,
    db: Database,
    faults: Faults,
    journal: Journal | None,
    facts: RequestFacts,
    log: RequestLog | None = None,
) -> None:
    """``journal`` None: inbound exchanges are not journaled (``--journal off``); ``log``
    None: no line per exchange (``serve --quiet``), and no hook for it. The rate-limit header
    is set by ``secured``; a fault that loses the answer registers its own
    after-this-request."""

    if log is not None:  # first: its clock starts before a fault may answer instead
        install_request_log(app, log, facts)

    @app.before_request
    def _before() -> Response | None:
        db.pin_version()
        if journal is not None:
            g.journal_started = time.perf_counter()
            g.journal_started_ns = time.time_ns()
        if request.content_length:
            if not _too_large():
                refuse_bad_text(request.get_data(cache=True))
        elif request.environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
            refuse_bad_text(read_chunked())
        return inject_fault(faults, facts) if faults.armed() else None

    if db.pooled:  # the request's connection goes back to the pool for the next one

        @app.teardown_request
        def _release(_error: BaseException | None) -> None:
            db.release()

    if journal is None:
        return

    @app.after_request
    def _after(response: Response) -> Response:
        if request.path.startswith(JOURNALED_PREFIXES):
            record_exchange(journal, response)
        return response


def install_request_log(app: Flask, log: RequestLog, facts: RequestFacts) -> None:
    @app.before_request
    def _log_start() -> None:
        g.log_started = time.perf_counter()

    @app.after_request
    def _log_line(response: Response) -> Response:
        if request.path.startswith(JOURNALED_PREFIXES):
            log.write(
                Line(
                    "in",
                    request.method,
                    request.full_path.rstrip("?"),
                    response.status_code,
                    (time.perf_counter() - g.log_started) * 1000,
                    facts.shop_id(),
                    (request.view_args or {}).get("paymentId"),
                )
            )
        return response


# An escaped NUL (\u0000) in JSON text: an odd run of backslashes before "u0000".
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


# An escaped UTF-16 surrogate (\ud800-\udfff) in JSON text: a pair is a character, a lone
# one is no text at all (no store can keep it).
_ESCAPED_SURROGATE = re.compile(rb"(?<!\\)(?:\\\\)*\\u[dD][89a-fA-F]")


def refuse_bad_text(body: bytes) -> None:
    """Text with a NUL character or a lone UTF-16 surrogate in it is refused, naming the
    field, whichever store is in use (PostgreSQL cannot keep a NUL, neither store a lone
    surrogate, and no Genstore field takes either)."""
    if b"\x00" in body or (b"u0000" in body and _ESCAPED_NUL.search(body)):
        raise BadRequest(
            "Invalid request: text must not contain NUL characters (\\u0000)",
            details={"body": ["contains a NUL character"]},
        )
    if b"\\u" in body and _ESCAPED_SURROGATE.search(body):
        where = _lone_surrogate(body)
        if where is not None:
            raise BadRequest(
                f"Invalid request: {where} holds a lone UTF-16 surrogate, which is not text",
                details={where: ["contains a lone UTF-16 surrogate (\\ud800-\\udfff)"]},
            )


def _lone_surrogate(body: bytes) -> str | None:
    """The path (``a.b[2]``) of the first key or string holding a lone surrogate, or None
    (the pairs were whole, or the body is no JSON: its parser says so later)."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return _walk(document, "")


def _walk(node: object, path: str) -> str | None:
    if isinstance(node, str):
        return (path or "body") if not _is_text(node) else None
    if isinstance(node, dict):
        items: list[tuple[str, object]] = [
            (f"{path}.{key}" if path else str(key), value) for key, value in node.items()
        ]
    elif isinstance(node, list):
        items = [(f"{path}[{index}]", value) for index, value in enumerate(node)]
    else:
        return None
    for here, value in items:
        if not _is_text(here):  # the key itself
            return here.encode("utf-8", "backslashreplace").decode()
        found = _walk(value, here)
        if found is not None:
            return found
    return None


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_chunked() -> bytes:
    """A body sent without a Content-Length: read up to the limit, refuse it (413) past it,
    as a body that declared its length is refused; what was read serves the request."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    stream = request.environ["wsgi.input"]
    chunks, size = [], 0
    while True:
        chunk = stream.read(65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if limit is not None and size > limit:
            raise RequestEntityTooLarge()
    body = b"".join(chunks)
    # The request reads its body from here from now on (werkzeug's stream and get_data).
    request.environ["wsgi.input"] = io.BytesIO(body)
    request.environ["CONTENT_LENGTH"] = str(len(body))
    request.environ.pop("HTTP_TRANSFER_ENCODING", None)
    request.environ["wsgi.input_terminated"] = False
    for cached in ("stream", "content_length"):
        request.__dict__.pop(cached, None)
    return body


def inject_fault(faults: Faults, facts: RequestFacts) -> Response | None:
    """Faults armed on the ``platform`` target act on inbound platform requests."""
    if not request.path.startswith(PLATFORM_PREFIXES):
        return None
    if not any(f.target == "platform" for f in faults.armed()):
        return None
    fault = faults.pick(
        "platform", facts.shop_id(), (request.view_args or {}).get("paymentId"), request.path
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


def record_exchange(journal: Journal, response: Response) -> None:
    """Journal an inbound exchange: the request thread only hands over raw parts; the rest
    happens when the journal writes (in its own thread under ``serve``)."""
    req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup
    has_body = bool(req.content_length)
    principal = g.get("principal")
    journal.record_inbound(
        Inbound(
            environ=req.environ,  # the server makes one per request: ours to keep
            started_ns=g.journal_started_ns,
            duration_ms=(time.perf_counter() - g.journal_started) * 1000,
            method=req.method,
            rule=req.url_rule.rule if req.url_rule is not None else "(no route)",
            view_args=req.view_args or {},
            request_body=_request_text() if has_body else None,
            status=response.status_code,
            response_headers=response.headers.to_wsgi_list(),
            response_body=None if response.direct_passthrough else response.get_data(),
            principal_shop_id=int(principal.shop_id) if principal is not None else None,
            # A body over the limit was refused unread (413): never read it later either.
            body_readable=has_body and not _too_large(),
            fault=g.get("fault"),
        )
    )


def _too_large() -> bool:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return limit is not None and (request.content_length or 0) > limit


def _request_text() -> str | bytes | None:
    length = request.content_length or 0
    if length > MAX_BODY:
        return f"<{length} bytes, not recorded>"
    try:
        return request.get_data(cache=True) or None
    except Exception:  # a body the server refused to read (too large, cut off)
        return None
