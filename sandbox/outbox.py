"""Every request that leaves the sandbox, on either side, goes through here.

A message is stored (in the caller's transaction), due at an instant on the sandbox clock,
claimed atomically by one delivering thread (a background worker in each process, or
:meth:`Outbox.drain`), sent with a timeout, and retried on timeouts, connection failures, 429s
and 5xx answers: after an exponential backoff spread by a per-message jitter, and never sooner
than the answer's ``Retry-After``. Most messages give up after ``max_attempts``; a payment
app's result keeps trying until the platform takes or refuses it (the sandbox's own rule: the
platform records a result only when it answers 200). Every attempt is recorded: request,
response, duration.
A message claimed by a process that died is claimed again once its claim lapses, so a restart
resends what was due and not yet delivered.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests

from sandbox.core import jsontext
from sandbox.core.clock import Clock
from sandbox.core.timefmt import from_storage, to_storage
from sandbox.faults import Fault, Faults, target_of
from sandbox.journal import Exchange, Journal
from sandbox.requestlog import Line, RequestLog
from sandbox.store import outbox as rows
from sandbox.store.clock import shop_clocks
from sandbox.store.db import Database, process_key
from sandbox.store.outbox import SANDBOX_URL, Message, NewMessage
from sandbox.store.tables import Connection

log = logging.getLogger("sandbox.outbox")


@dataclass(frozen=True)
class OutboxSettings:
    self_url: str
    timeout: float = 10.0
    max_attempts: int = 8
    backoff_base: float = 1.0
    backoff_cap: float = 3600.0
    poll_interval: float = 0.05
    jitter: float = 0.5  # a retry waits up to this fraction longer than its backoff
    # Finished messages (delivered, failed, rejected, cancelled) are kept this long on the
    # sandbox clock, and at most ``keep`` of them; pruned every ``prune_interval`` seconds.
    retention: timedelta = timedelta(hours=1)
    keep: int = 10000
    prune_interval: float = 5.0
    senders: int = 2  # sending threads per process: deliveries side by side
    claim_batch: int = 16  # at most this many messages claimed in one transaction

    def __post_init__(self) -> None:
        # Named as the environment variables that set them (sandbox.app.outbox_settings).
        if not 0 <= self.jitter <= 1:
            raise ValueError(
                f"GENSTORE_SANDBOX_OUTBOX_JITTER must be between 0 and 1, got {self.jitter:g}"
            )
        if self.senders < 1:
            raise ValueError(
                f"GENSTORE_SANDBOX_OUTBOX_SENDERS must be at least 1, got {self.senders}"
            )
        if self.keep < 0:
            raise ValueError(f"GENSTORE_SANDBOX_OUTBOX_KEEP cannot be negative, got {self.keep}")


@dataclass(frozen=True)
class Outbound:
    """A request to send: ``body`` is JSON-encoded when stored, ``raw_body`` stored as it is
    (a webhook's signed bytes); ``fail_attempts`` first attempts fail on purpose."""

    shop_id: int
    payment_id: str | None
    side: str  # platform or psp: who sends it
    kind: str  # app.payment, psp.payment_result, webhook, ...
    method: str
    url: str
    headers: dict[str, str]
    body: Any = None
    raw_body: str | None = None
    due_at: datetime | None = None
    fail_attempts: int = 0
    # Retry until the receiver answers for good, however many attempts that takes.
    until_answered: bool = False


@dataclass(frozen=True)
class Outcome:
    status: int | None
    body: str | None
    headers: dict[str, str]
    error: str | None
    duration_ms: float
    # How the answer broke the contract (the journal flags it), and whether the platform then
    # treats it as a failed request (a strict shop).
    violation: str | None = None
    refused: bool = False

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and not self.refused

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status >= 500 or self.status == 429

    def json(self) -> Any:
        try:
            return json.loads(self.body or "")
        except ValueError:
            return None

    @property
    def retry_after(self) -> float | None:
        """The answer's ``Retry-After`` in seconds (delta-seconds or an HTTP date)."""
        value = next((v for k, v in self.headers.items() if k.lower() == "retry-after"), None)
        if value is None or self.status not in (429, 503):
            return None
        value = value.strip()
        if value.isascii() and value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None  # unreadable: the backoff alone decides
        if when.tzinfo is None:
            return None
        return max(when.timestamp() - time.time(), 0.0)


class Outbox:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: OutboxSettings,
        journal: Journal,
        faults: Faults,
    ):
        self.faults = faults
        self.db = db
        self.clock = clock
        self.settings = settings
        self.journal = journal
        self.log: RequestLog | None = None  # a line per attempt on the terminal (serve)
        self.on_delivered: dict[str, Callable[[Message, Outcome], None]] = {}
        # Called after every attempt, delivered or not (webhooks count failures in a row).
        self.on_attempt: dict[str, Callable[[Message, Outcome], None]] = {}
        # Judge a final answer before it counts (the contract of an app's answers).
        self.checks: dict[str, Callable[[Message, Outcome], Outcome]] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool: ThreadPoolExecutor | None = None
        self._free = 0  # senders not busy (the background mode)
        self._local = threading.local()
        self._sessions: list[requests.Session] = []  # every thread's, for let_go()
        self._letting_go = False
        self._pruned_at = 0.0
        # Claimed by this process: not yet sent, and being sent (handed back on stop).
        self._claims = threading.Lock()
        self._unsent: set[int] = set()
        self._sending: set[int] = set()

    # ---- scheduling -------------------------------------------------------------------------

    def schedule(self, conn: Connection, request: Outbound) -> int:
        """Store a message in the caller's transaction; it goes out once that commits (due
        by default now, on its shop's clock)."""
        now = self.clock.now(request.shop_id)
        raw_body = request.raw_body
        if raw_body is None and request.body is not None:
            raw_body = jsontext.dumps(request.body)
        message_id = rows.insert_message(
            conn,
            NewMessage(
                shop_id=request.shop_id,
                payment_id=request.payment_id,
                side=request.side,
                kind=request.kind,
                method=request.method,
                url=request.url,
                headers={"Content-Type": "application/json", **request.headers},
                body=raw_body,
                due_at=to_storage(request.due_at or now),
                max_attempts=0 if request.until_answered else self.settings.max_attempts,
                fail_attempts=request.fail_attempts,
                created_at=to_storage(now),
            ),
        )
        # Once the caller's transaction commits, the message is due: wake the dispatcher then
        # (waking it now, it would look before the commit and find nothing).
        self.db.after_commit(self._wake.set)
        return message_id

    # ---- delivering -------------------------------------------------------------------------

    def deliver_due(self, limit: int | None = None) -> int:
        """Claim and send what is due now; returns how many were sent. Once :meth:`stop` ran,
        nothing more is sent (what was claimed and not sent is handed back)."""
        claimed = self._claim(limit or self.settings.claim_batch)
        with self._claims:
            self._unsent.update(message.id for message in claimed)
        sent = 0
        for message in claimed:
            if not self._send_one(message):
                break
            sent += 1
        return sent

    def _send_one(self, message: Message) -> bool:
        """Send a message this process claimed, unless it is stopping (then the message was
        handed back unsent); whether it was sent."""
        with self._claims:
            if self._stop.is_set() or message.id not in self._unsent:
                return False
            self._unsent.discard(message.id)
            self._sending.add(message.id)
        try:
            self._deliver(message)
        finally:
            with self._claims:
                self._sending.discard(message.id)
        return True

    def drain(self, deadline: float = 30.0) -> dict[str, int]:
        """Deliver until nothing is due (answers may make more due), bounded in time."""
        delivered, end = 0, time.monotonic() + deadline
        while time.monotonic() < end:
            sent = self.deliver_due()
            delivered += sent
            # Nothing in flight, then nothing due, in that order: what an attempt in flight
            # makes due is stored before that attempt ends, so this second look sees it.
            if sent == 0 and not self._in_flight() and self._due_count() == 0:
                break
            if sent == 0:
                self._stop.wait(0.01)  # another thread is sending one; its answer may add more
        self.prune()  # a clock moved forward (tests do that) lets finished messages go now
        return {"delivered": delivered, "due": self._due_count(), "pending": self._pending_count()}

    def prune(self) -> int:
        """Drop finished messages older than the retention (or beyond ``keep``)."""
        self._pruned_at = time.monotonic()
        retention = self.settings.retention
        now = self._now()
        before = rows.Now(
            to_storage(from_storage(now.default) - retention),
            tuple((shop, to_storage(from_storage(at) - retention)) for shop, at in now.by_shop),
        )
        with self.db.write() as conn:
            return rows.prune(conn, before, self.settings.keep)

    def _claim(self, limit: int) -> list[Message]:
        now = self._now()
        real = time.time()
        # The idle poll is a plain read; the write lock is taken only when something is due.
        if not rows.any_due(self.db.read(), now, real):
            return []
        with self.db.write() as conn:
            claim = rows.Claim(process_key(), real + self.settings.timeout + 30)
            return rows.claim_due(conn, now, real, limit, claim)

    def resolve(self, url: str) -> str:
        """A stored URL as it is sent: the sandbox's own base URL filled in."""
        return url.replace(SANDBOX_URL, self.settings.self_url)

    def _deliver(self, message: Message) -> None:
        at = self.clock.now(message.shop_id)
        started_ns = time.time_ns()
        url = self.resolve(message.url)
        fault = self.faults.pick(target_of(message.kind), message.shop_id, message.payment_id)
        if fault is not None and fault.kind == "reorder":
            self._hold_back(message, url, fault, at, started_ns)
            return
        outcome = self._send(message, url, fault)
        check = self.checks.get(message.kind)
        if check is not None and outcome.status is not None and not outcome.retryable:
            try:
                outcome = check(message, outcome)
            except Exception:  # a bad answer must not stop the outbox
                log.exception("checking the answer to outbox message %s failed", message.id)
        # Webhooks retry whatever went wrong (a redirect is a failure); other requests retry
        # only what a retry can fix: no answer, 429, 5xx.
        retryable = outcome.retryable or message.kind == "webhook"
        if outcome.delivered:
            state, due = "delivered", None
        elif retryable and not message.out_of_attempts:
            state, due = "pending", at + self.retry_delay(message, outcome)
        else:
            state, due = ("failed" if retryable else "rejected"), None
        with self.db.write() as conn:
            self._journal(conn, message, url, started_ns, outcome, fault.label() if fault else None)
            if fault is not None and fault.kind == "duplicate" and outcome.delivered:
                self._copy(conn, message)
            rows.finish_attempt(
                conn,
                message.id,
                state,
                to_storage(due) if due else None,
                None if state == "pending" else to_storage(self.clock.now(message.shop_id)),
                outcome.status,
                outcome.error,
            )
        for hooks in (self.on_attempt, self.on_delivered if outcome.delivered else {}):
            if message.kind in hooks:
                try:
                    hooks[message.kind](message, outcome)
                except Exception:  # a bad answer must not stop the outbox
                    log.exception("handling the answer to outbox message %s failed", message.id)

    def _hold_back(self, message: Message, url: str, fault: Fault, at, started_ns: int) -> None:
        """``reorder``: not sent now; due again later, so later messages overtake it."""
        due = at + timedelta(seconds=fault.delay_seconds)
        with self.db.write() as conn:
            held = Outcome(None, None, {}, f"held back {fault.delay_seconds:g}s", 0.0)
            self._journal(conn, message, url, started_ns, held, fault.label())
            rows.hold_back(conn, message.id, to_storage(due))

    def _journal(
        self, conn, message: Message, url: str, started_ns: int, outcome: Outcome, fault: str | None
    ) -> None:
        """One attempt, as the journal keeps it."""
        self.journal.record(
            Exchange(
                direction="outbound",
                started_ns=started_ns,
                kind=message.kind,
                method=message.method,
                url=url,
                path=urlsplit(url).path,
                request_headers=message.headers,
                request_body=message.body,
                status=outcome.status,
                response_headers=outcome.headers if outcome.status is not None else None,
                response_body=outcome.body,
                duration_ms=outcome.duration_ms,
                shop_id=message.shop_id,
                payment_id=message.payment_id,
                error=outcome.error,
                message_id=message.id,
                attempt=message.attempts,
                fault=fault,
                violation=outcome.violation,
            ),
            conn,
        )
        if self.log is not None:
            self.log.write(
                Line("out", message.method, url, outcome.status, outcome.duration_ms,
                     message.shop_id, message.payment_id, outcome.violation, outcome.error)
            )  # fmt: skip

    def _copy(self, conn, message: Message) -> None:
        """``duplicate``: the same message once more, due now."""
        rows.copy_message(conn, message.id, to_storage(self.clock.now(message.shop_id)))
        self.db.after_commit(self._wake.set)

    def _send(self, message: Message, url: str, fault: Fault | None = None) -> Outcome:
        started = time.perf_counter()
        if message.attempts <= message.fail_attempts:
            return Outcome(None, None, {}, "simulated connection failure (magic value)", 0.0)
        if fault is not None:
            if fault.kind == "status":
                return Outcome(fault.status, fault.body, {}, None, 0.0)
            if fault.kind == "drop":
                return Outcome(None, None, {}, "connection dropped (fault)", 0.0)
            if fault.kind == "latency":
                time.sleep(fault.latency_ms / 1000)  # the delay the fault was armed to add
        outcome = self._transmit(message, url, started)
        if fault is not None and fault.kind == "commit_lost" and outcome.status is not None:
            return Outcome(
                None,
                outcome.body,
                outcome.headers,
                f"answer lost after a {outcome.status} (fault)",
                outcome.duration_ms,
            )
        return outcome

    def _transmit(self, message: Message, url: str, started: float) -> Outcome:
        try:
            headers = message.headers
            if self._letting_go:
                headers = {**headers, "Connection": "close"}
            response = self._session().request(
                message.method,
                url,
                data=message.body,
                headers=headers,
                timeout=self.settings.timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            error = f"timed out after {self.settings.timeout:g}s"
            return Outcome(None, None, {}, error, _ms(started))
        except requests.RequestException as exc:
            return Outcome(None, None, {}, f"connection failed: {_reason(exc)}", _ms(started))
        body = response.content[:65536].decode("utf-8", errors="replace")
        return Outcome(response.status_code, body, dict(response.headers), None, _ms(started))

    def backoff(self, attempts: int) -> timedelta:
        """The plain exponential backoff after ``attempts`` attempts, before jitter."""
        seconds = min(self.settings.backoff_base * 2 ** (attempts - 1), self.settings.backoff_cap)
        return timedelta(seconds=seconds)

    def retry_delay(self, message: Message, outcome: Outcome) -> timedelta:
        """How long after a failed attempt the next one is due: the backoff, or the answer's
        Retry-After when that is longer (never sooner), stretched by up to ``jitter`` of
        itself. The stretch is drawn per message and attempt, so messages refused together
        spread out, and a run repeats exactly."""
        seconds = self.backoff(message.attempts).total_seconds()
        asked = outcome.retry_after
        if asked is not None:
            seconds = max(seconds, min(asked, self.settings.backoff_cap))
        spread = random.Random(message.id * 1_000_003 + message.attempts).random()
        return timedelta(seconds=seconds * (1 + self.settings.jitter * spread))

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
            with self._claims:
                self._sessions.append(self._local.session)
        return self._local.session

    def let_go(self) -> None:
        """Keep no connection to a receiver open from now on: idle ones close now, later
        requests ask for ``Connection: close``. A stopping server lingers on every kept-alive
        connection, and this process's outbox holds some to the sandbox itself (its fake
        app, its callbacks), served by the other workers, which are stopping too."""
        self._letting_go = True
        with self._claims:
            sessions = list(self._sessions)
        for session in sessions:
            session.close()  # idle pooled connections; one in use closes when it is done

    def _in_flight(self) -> bool:
        return rows.count_in_flight(self.db.read(), time.time()) > 0

    def _due_count(self) -> int:
        return rows.count_due(self.db.read(), self._now())

    def _now(self) -> rows.Now:
        """The time on every clock, as due times compare with it."""
        own = shop_clocks(self.db)
        by_shop = tuple((shop_id, to_storage(state.now())) for shop_id, state in own.items())
        return rows.Now(to_storage(self.clock.now()), by_shop)

    def _pending_count(self) -> int:
        return rows.count_pending(self.db.read())

    # ---- the background worker --------------------------------------------------------------

    def start(self) -> None:
        """Start delivering in the background: one thread claims what is due, in batches,
        as soon as a message is enqueued (or on the next poll, for another process's), and
        hands each to one of ``senders`` sending threads, so deliveries run side by side and
        a slow receiver holds up one sender, not the outbox."""
        if not self._threads:
            self._pool = ThreadPoolExecutor(self.settings.senders, thread_name_prefix="outbox")
            self._free = self.settings.senders
            thread = threading.Thread(target=self._run, name="outbox", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, grace: float = 0.0) -> None:
        """Send nothing more. Messages this process claimed and did not start are handed
        back at once; one being sent gets ``grace`` seconds to finish, then is handed back
        too (the process is going away, so its answer would never be recorded; the next
        sender sends it once more)."""
        with self._claims:
            self._stop.set()
            unsent, self._unsent = list(self._unsent), set()
        self._wake.set()
        self.let_go()
        self._release(unsent)
        deadline = time.monotonic() + grace
        for thread in self._threads if grace > 0 else ():
            thread.join(max(deadline - time.monotonic(), 0))
        while grace > 0 and self._sending_now() and time.monotonic() < deadline:
            time.sleep(0.01)  # a message being sent finishing, bounded by the grace
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        with self._claims:
            abandoned = list(self._sending)
        if grace > 0:
            self._release(abandoned)

    def _sending_now(self) -> bool:
        with self._claims:
            return bool(self._sending)

    def _release(self, message_ids: list[int]) -> None:
        if message_ids:
            with self.db.write() as conn:
                rows.release_claims(conn, message_ids)

    def _run(self) -> None:
        """The dispatcher: claim as many due messages as there are free senders (one write
        transaction for the batch), hand them over, and sleep until woken or the poll."""
        while not self._stop.is_set():
            claimed: list[Message] = []
            try:
                with self._claims:
                    free = self._free
                if free:
                    claimed = self._claim(min(free, self.settings.claim_batch))
                    with self._claims:
                        late = self._stop.is_set()  # stop() already handed back the rest
                        if not late:
                            self._unsent.update(message.id for message in claimed)
                            self._free -= len(claimed)
                    if late:
                        self._release([message.id for message in claimed])
                        return
                    pool = self._pool
                    assert pool is not None  # made by start()
                    for message in claimed:
                        pool.submit(self._send_claimed, message)
                if time.monotonic() - self._pruned_at > self.settings.prune_interval:
                    self.prune()
            except Exception:
                log.exception("outbox round failed")
            if not claimed:
                self._wake.wait(self.settings.poll_interval)
                self._wake.clear()

    def _send_claimed(self, message: Message) -> None:
        """A sender's task: one message, then the sender is free again."""
        try:
            self._send_one(message)
        except Exception:
            log.exception("outbox delivery of message %s failed", message.id)
        finally:
            with self._claims:
                self._free += 1
            self._wake.set()  # a sender is free: claim more at once


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _reason(exc: requests.RequestException) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "Read timed out"):
        if marker in text:
            return marker
    return type(exc).__name__
