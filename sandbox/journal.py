"""The journal: every HTTP exchange in and out of the sandbox, masked, bounded, queryable.

Inbound exchanges (the platform API, the legacy API, OAuth, the fake payment app and its pages)
are recorded by the Flask app after each response; outbound ones by the outbox after each
attempt. The control API is the tester's side of the glass and is not journaled. Card numbers
and secrets never reach the journal whole: the last four characters only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol

from werkzeug.datastructures import EnvironHeaders

from sandbox.core import jsontext
from sandbox.core.clock import Clock
from sandbox.core.magic import luhn_valid
from sandbox.core.timefmt import to_storage
from sandbox.store import journal as rows
from sandbox.store.db import Database, process_key

JOURNALED_PREFIXES = ("/api/", "/orders/", "/oauth2/", "/psp/")
SECRET_HEADERS = {"x-genstore-access-token", "authorization", "cookie", "set-cookie"}
SECRET_KEYS = {
    "accessToken", "access_token", "clientSecret", "client_secret", "subjectToken", "token",
    "pan", "card", "cardNumber", "verificationValue", "cvc", "cvv",
}  # fmt: skip
_SECRET_MARKERS = tuple(f'"{key}"' for key in SECRET_KEYS)
_CARD_LIKE = re.compile(r"(?<![\w.])[3-6]\d{12,18}(?![\w.])")
MAX_BODY = 65536
FLUSH_SECONDS = 0.02
LIVE_SECONDS = rows.LIVE_SECONDS
log = logging.getLogger("sandbox.journal")


def mask(value: str) -> str:
    return "****" + value[-4:] if value else value


def mask_headers(headers: dict[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    return {k: mask(v) if k.lower() in SECRET_HEADERS else v for k, v in _pairs(headers)}


def mask_body(text: str | bytes | None) -> str | None:
    """Mask secret fields of a JSON body and any card-like number anywhere in it."""
    if not text:
        return None
    if isinstance(text, bytes):
        text = text[:MAX_BODY].decode("utf-8", "replace")
    text = text[:MAX_BODY]
    if any(marker in text for marker in _SECRET_MARKERS):
        with contextlib.suppress(ValueError, RecursionError):  # not JSON: masked as text below
            masked = _mask_json(json.loads(text))
            text = json.dumps(masked, separators=(",", ":"), ensure_ascii=False)
    if _CARD_LIKE.search(text):
        text = _CARD_LIKE.sub(
            lambda m: mask(m.group()) if luhn_valid(m.group()) else m.group(), text
        )
    if not text.isascii():  # lone surrogates (from "\ud800" escapes) cannot be stored
        text = text.encode("utf-8", "replace").decode("utf-8")
    if "\x00" in text:  # nor can NUL in PostgreSQL's text: shown as undecodable bytes are
        text = text.replace("\x00", "\ufffd")
    return text


def _pairs(headers: dict[str, str] | Iterable[tuple[str, str]]) -> Iterable[tuple[str, str]]:
    return headers.items() if isinstance(headers, dict) else headers


@lru_cache(maxsize=512)
def _headers_json(pairs: tuple[tuple[str, str], ...]) -> str:
    """Masked headers as JSON: the same few header sets come again and again (one client,
    one token, the same answer headers), so each is masked and encoded once."""
    return jsontext.dumps(mask_headers(pairs))


def _mask_json(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: mask(str(v)) if k in SECRET_KEYS and isinstance(v, str | int) else _mask_json(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_mask_json(item) for item in node]
    return node


@dataclass
class Exchange:
    direction: str
    started_ns: int  # when the exchange began (real time): the journal's order
    kind: str
    method: str
    url: str
    path: str
    request_headers: dict[str, str] | Iterable[tuple[str, str]]
    request_body: str | bytes | None
    status: int | None
    response_headers: dict[str, str] | list[tuple[str, str]] | None
    response_body: str | bytes | None
    duration_ms: float
    shop_id: int | None = None
    payment_id: str | None = None
    error: str | None = None
    message_id: int | None = None
    attempt: int | None = None
    fault: str | None = None
    violation: str | None = None  # how an app's answer broke the contract


@dataclass
class Inbound:
    """An inbound exchange as the request thread hands it over: raw parts only (the environ
    the server made for this request, the response's parts). Which shop and payment it is
    about, its sandbox time, masking and encoding are worked out when the journal writes, in
    its own thread under ``serve``: the request pays for a tuple, not for the journal."""

    environ: dict[str, Any]
    started_ns: int
    duration_ms: float
    method: str
    rule: str
    view_args: dict[str, Any]
    request_body: str | bytes | None
    status: int
    response_headers: list[tuple[str, str]]
    response_body: bytes | None
    principal_shop_id: int | None  # the shop of the token the request authenticated with
    body_readable: bool  # False: the body was refused unread (too large), never parse it
    fault: str | None


class Facts(Protocol):
    """Which shop and payment an inbound exchange is about, as the side that answered it
    knows (``create_app`` passes the platform's in)."""

    def about(self, exchange: Inbound) -> tuple[int | None, str | None]: ...


class Journal:
    """Stores exchanges. Once :meth:`start` ran (``serve``), inbound exchanges are buffered in
    the process and written in batches by a background thread, so the hot read path never
    waits on SQLite's write lock; :meth:`sync` makes every live worker flush before a query."""

    def __init__(self, db: Database, clock: Clock, max_entries: int):
        self.db = db
        self.clock = clock
        self.max_entries = max_entries
        self._buffer: list[Any] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._written = 0
        self._acked = -1  # the flush epoch this worker last acknowledged
        self.facts: Facts | None = None  # set by create_app, before any request

    def record_inbound(self, raw: Inbound) -> None:
        """Journal an inbound exchange: buffered (written by the background thread) once
        :meth:`start` ran, else written at once."""
        if self._thread is None:
            self._write([raw])
            return
        with self._lock:
            self._buffer.append(raw)
            full = len(self._buffer) >= 500
        if full:
            self._wake.set()

    def _inbound(self, raw: Inbound) -> tuple[Exchange, datetime]:
        try:
            shop_id, payment_id = self.facts.about(raw) if self.facts else (None, None)
        except Exception:  # an exchange is kept even when what it is about cannot be told
            log.exception("journal: which shop and payment an exchange is about")
            shop_id, payment_id = None, None
        environ = raw.environ
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING")
        exchange = Exchange(
            direction="inbound",
            started_ns=raw.started_ns,
            kind=f"{raw.method} {raw.rule}",
            method=raw.method,
            url=f"{path}?{query}" if query else path,
            path=path,
            request_headers=EnvironHeaders(environ),
            request_body=raw.request_body,
            status=raw.status,
            response_headers=raw.response_headers,
            response_body=raw.response_body,
            duration_ms=raw.duration_ms,
            shop_id=shop_id,
            payment_id=payment_id,
            fault=raw.fault,
        )
        # The sandbox time when the request came in (a clock change first flushes every
        # buffer, so the clock read here is the one that was running then).
        real = datetime.fromtimestamp(raw.started_ns / 1e9, UTC)
        return exchange, self.clock.state(shop_id).now(real)

    def record(self, exchange: Exchange, conn=None) -> None:
        """Store one exchange, masked: in ``conn``'s transaction when given, else buffered
        (or at once when no flusher runs)."""
        # When it began on the sandbox clock, as an inbound exchange is stamped: a request
        # comes before the callback it caused, however long it took to answer.
        began = self.clock.state(exchange.shop_id).now(
            datetime.fromtimestamp(exchange.started_ns / 1e9, UTC)
        )
        if conn is not None:
            rows.insert_entries(conn, [self._row(exchange, to_storage(began))])
            self._count(1)
        elif self._thread is not None:
            with self._lock:
                self._buffer.append((exchange, began))
                full = len(self._buffer) >= 500
            if full:
                self._wake.set()
        else:
            with self.db.write() as own:
                rows.insert_entries(own, [self._row(exchange, to_storage(began))])
            self._count(1)

    def _row(self, exchange: Exchange, at: str) -> tuple:
        response_headers = (
            _headers_json(tuple(_pairs(exchange.response_headers)))
            if exchange.response_headers is not None
            else None
        )
        return (
            exchange.started_ns, at, exchange.direction, exchange.shop_id,
            exchange.payment_id, exchange.kind, exchange.method, exchange.url, exchange.path,
            exchange.status, round(exchange.duration_ms, 3),
            _headers_json(tuple(_pairs(exchange.request_headers))),
            mask_body(exchange.request_body),
            response_headers, mask_body(exchange.response_body), exchange.error,
            exchange.message_id, exchange.attempt, exchange.fault, exchange.violation,
        )  # fmt: skip

    def _count(self, written: int) -> None:
        self._written += written
        if self._written >= 100:
            self._written = 0
            self.trim()

    def flush(self) -> None:
        with self._lock:
            pending, self._buffer = self._buffer, []
        if pending:
            self._write(pending)

    def _write(self, pending: list[Any]) -> None:
        entries = []
        with self.db.pinned():  # one look at the store's version for the whole batch
            for item in pending:
                exchange, at = self._inbound(item) if isinstance(item, Inbound) else item
                entries.append(self._row(exchange, to_storage(at)))
        with self.db.write() as conn:
            rows.insert_entries(conn, entries)
        self._count(len(entries))

    def trim(self) -> None:
        """Oldest first: keep at most ``max_entries``."""
        with self.db.write() as conn:
            rows.trim(conn, self.max_entries)

    # ---- every worker flushes before a query ------------------------------------------------

    def sync(self, timeout: float = 2.0) -> None:
        """Flush this process, then ask every live worker to flush, and wait for them."""
        self.flush()
        if self._thread is None:
            return
        with self.db.write() as conn:
            epoch = rows.bump_epoch(conn, process_key())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if rows.workers_behind(self.db.read(), epoch, time.time() - LIVE_SECONDS) == 0:
                return
            self._stop.wait(0.005)  # another worker is flushing; it answers within ms

    def start(self) -> None:
        """Register this worker (so queries wait for it from now on), then flush in the
        background."""
        if self._thread is None:
            self._heartbeat(rows.read_epoch(self.db.read()))
            self._thread = threading.Thread(target=self._run, name="journal", daemon=True)
            self._thread.start()

    def _heartbeat(self, epoch: int) -> None:
        with self.db.write() as conn:
            rows.heartbeat(conn, process_key(), epoch, time.time())
        self._acked = epoch

    def _run(self) -> None:
        beat = time.time()
        while not self._stop.is_set():
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            try:
                # The epoch is read before flushing: what was buffered when a query asked is
                # written before this worker says so.
                epoch = rows.read_epoch(self.db.read())
                self.flush()
                now = time.time()
                if now - beat > 1.0 or self._acked != epoch:
                    self._heartbeat(epoch)
                    beat = now
            except Exception:  # the journal must never take a worker down
                log.exception("journal flush failed")

    # ---- reading ----------------------------------------------------------------------------

    def query(
        self, filters: dict[str, Any], path: str | None, limit: int, before: int | None
    ) -> list[dict[str, Any]]:
        self.sync()
        return [_entry(row) for row in rows.query(self.db.read(), filters, path, before, limit)]

    def count(self, filters: dict[str, Any], path: str | None) -> int:
        self.sync()
        return rows.count(self.db.read(), filters, path)


def json_or_text(text: str | None) -> Any:
    """A stored body as JSON when it is JSON, else as the text it is."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    loads = json_or_text

    return {
        "id": row["id"], "seq": row["seq"], "at": row["at"], "direction": row["direction"],
        "kind": row["kind"], "method": row["method"], "url": row["url"], "path": row["path"],
        "status": row["status"], "durationMs": row["duration_ms"], "shopId": row["shop_id"],
        "paymentId": row["payment_id"], "requestHeaders": loads(row["request_headers"]),
        "requestBody": loads(row["request_body"]),
        "responseHeaders": loads(row["response_headers"]),
        "responseBody": loads(row["response_body"]), "error": row["error"],
        "messageId": row["message_id"], "attempt": row["attempt"], "fault": row["fault"],
        "violation": row["violation"],
    }  # fmt: skip
