"""Connections and transactions.

One connection per thread per process (a forked worker never reuses its parent's), autocommit
for reads, ``BEGIN IMMEDIATE`` for writes so concurrent writers queue instead of deadlocking.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sandbox.store.schema import SCHEMA, SCHEMA_VERSION

T = TypeVar("T")
MEMO_LIMIT = 4096
BULK_CACHE_KIB = 131072


class StoreError(RuntimeError):
    pass


class Database:
    def __init__(self, path: Path):
        if str(path) == ":memory:":
            raise StoreError("the store must be a file so every worker process can share it")
        self.path = Path(path)
        self._local = threading.local()

    def connection(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.conn = self._open()
            local.pid = os.getpid()
            local.own_commits = 0
            local.memo_version = None
            local.memo = {}
            local.pinned_version = None
        conn: sqlite3.Connection = local.conn
        return conn

    def pin_version(self) -> None:
        """Read other connections' commit count once, for the rest of this request: a request
        sees the store as of its start (this thread's own commits still count)."""
        conn = self.connection()
        self._local.pinned_version = conn.execute("PRAGMA data_version").fetchone()[0]

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """:meth:`pin_version` for a block of work (a background batch); the pin it found
        (a request's, when the batch runs inside one) is back afterwards."""
        self.connection()  # the thread's state, made for this process
        before = self._local.pinned_version
        self.pin_version()
        try:
            yield
        finally:
            self._local.pinned_version = before

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, remembered until anyone commits anything.

        SQLite's ``PRAGMA data_version`` changes whenever another connection (in any process)
        commits; this thread's own commits are counted apart. Either change empties the memo,
        so a remembered value is never older than the data it came from. Values must be
        immutable, and must not depend on the time (callers check time themselves).
        """
        conn = self.connection()
        local = self._local
        data_version = local.pinned_version
        if data_version is None:
            data_version = conn.execute("PRAGMA data_version").fetchone()[0]
        version = (data_version, local.own_commits)
        if version != local.memo_version:
            local.memo = {}
            local.memo_version = version
        elif len(local.memo) > MEMO_LIMIT:
            local.memo.clear()
        try:
            remembered: T = local.memo[key]
            return remembered
        except KeyError:
            value = local.memo[key] = compute()
            return value

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; re-entrant (an inner ``write`` joins the outer one)."""
        conn = self.connection()
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        local = self._local
        local.after_commit = []
        try:
            yield conn
        except BaseException:
            local.after_commit = None
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        local.own_commits += 1
        callbacks, local.after_commit = local.after_commit, None
        for callback in callbacks:
            callback()

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` once this thread's write transaction commits (never, if it rolls
        back); at once when no transaction is open."""
        conn = self.connection()
        if conn.in_transaction and getattr(self._local, "after_commit", None) is not None:
            self._local.after_commit.append(callback)
        else:
            callback()

    @contextmanager
    def bulk_write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that loads many rows (a large fixture): SQLite's page cache is
        made big enough for the indexes it fills (seeding 100,000 payments a third faster),
        for this transaction only, so a worker does not keep the memory."""
        conn = self.connection()
        conn.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        try:
            with self.write() as joined:
                yield joined
        finally:
            conn.execute("PRAGMA cache_size = -2000")  # SQLite's default, 2 MB

    def read(self) -> sqlite3.Connection:
        return self.connection()

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """Several reads that see one state of the store (a read transaction), so a record
        and its parts never come from either side of another writer's commit."""
        conn = self.connection()
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    def ensure_schema(self) -> None:
        # executescript commits any open transaction first, so it runs on its own; every
        # statement is idempotent (IF NOT EXISTS), so concurrent workers may race here.
        self.connection().executescript(SCHEMA)
        with self.write() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
                )
            elif row["value"] != SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} was written by another version of the sandbox (schema "
                    f"{row['value']}, expected {SCHEMA_VERSION}); start with --reset to reseed it"
                )

    def get_meta(self, key: str) -> str | None:
        row = self.read().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row["value"]

    def set_meta(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
