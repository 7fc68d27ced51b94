"""The store's contract: connections, transactions, the memo and the schema's version.

Two backends keep it: SQLite (store/sqlite.py, the embedded default: one file, one sandbox)
and PostgreSQL (store/postgres.py: one database that several sandbox instances share).
:func:`open_database` picks one from the location given at start. Everything SQL outside
those two modules is written once, in the portable subset both run; what differs (how a
write transaction takes its lock, how commits are counted, column types) lives in them.

Each thread of each process has a connection of its own (a forked worker never reuses its
parent's); reads run in autocommit, writes in a transaction that queues behind every other
writer, in any process or instance, so no two writers ever interleave.
"""

from __future__ import annotations

import os
import socket
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, TypeVar

from sandbox.store import schema
from sandbox.store.tables import Connection

T = TypeVar("T")
MEMO_LIMIT = 4096
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class StoreError(RuntimeError):
    pass


def is_postgres_url(location: str) -> bool:
    return location.startswith(POSTGRES_SCHEMES)


def open_database(location: str | Path) -> Database:
    """The store at ``location``: a ``postgresql://`` URL, or a SQLite file's path."""
    text = str(location)
    if is_postgres_url(text):
        from sandbox.store.postgres import PostgresDatabase  # imported only when asked for

        return PostgresDatabase(text)
    from sandbox.store.sqlite import SqliteDatabase

    return SqliteDatabase(Path(text))


@lru_cache(maxsize=4)
def _process_key(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}"


def process_key() -> str:
    """This process among every sandbox process sharing the store, on any host: what its
    outbox claims and its journal heartbeats are recorded under."""
    return _process_key(os.getpid())


def process_ended(key: str) -> bool:
    """Whether a :func:`process_key` names a process of this host that is gone (False for
    another host's: only its heartbeats can tell)."""
    host, _, pid = key.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    # A worker killed with its arbiter may stay a zombie nobody reaps: ended all the same.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]


class Database(ABC):
    """One store. Subclasses open connections and say how transactions begin and end."""

    kind: str  # "sqlite" or "postgresql"
    # True when one sandbox holds the store alone (its lock proves no other is running).
    exclusive: bool
    # True when a thread's connection comes from a pool and goes back after each request.
    pooled: bool = False

    def __init__(self, location: str):
        self.location = location
        self._local = threading.local()

    # ---- what a backend provides ----------------------------------------------------------

    @abstractmethod
    def _open(self) -> Any:
        """A new connection for this thread (a :class:`~sandbox.store.tables.Connection`)."""

    @abstractmethod
    def _data_version(self, conn: Any) -> object:
        """Changes whenever another connection, in any process, commits."""

    @abstractmethod
    def _begin_write(self, conn: Any) -> None:
        """Begin a transaction that waits for every other writer's to end."""

    @abstractmethod
    def _begin_read(self, conn: Any) -> None:
        """Begin a read-only transaction that sees one committed state."""

    @abstractmethod
    def _in_transaction(self, conn: Any) -> bool: ...

    @abstractmethod
    def render(self, portable: str) -> str:
        """Portable DDL (store/schema.py) in this backend's dialect."""

    @abstractmethod
    def describe(self) -> str:
        """The store for people: its kind and where it is (no password)."""

    @abstractmethod
    def side_connection(self) -> AbstractContextManager[Connection]:
        """A connection beside this thread's own, for a long read while the thread's
        connection may be in a write transaction (streaming a fixture's bulk)."""

    def hold(self, url: str) -> IO[str] | None:
        """Claim the store for one serving sandbox, when the backend allows only one;
        keep the returned handle open while serving."""
        return None

    def release(self) -> None:
        """This thread is done with its connection for now (a request ended)."""
        return None  # by default the thread keeps it

    def close(self) -> None:
        """Close this process's connections (before forking workers)."""
        return None  # by default each thread's connection closes with the process

    # ---- connections and transactions -----------------------------------------------------

    def connection(self) -> Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            self._inherited(getattr(local, "conn", None))
            local.pid = os.getpid()
            local.conn = None
            local.own_commits = 0
            local.memo_version = None
            local.memo = {}
            local.pinned_version = None
            local.after_commit = None
        if local.conn is None or (local.after_commit is None and not self._usable(local.conn)):
            local.conn = self._open()  # (never in the middle of a write: it fails instead)
        conn: Connection = local.conn
        return conn

    def _inherited(self, conn: Any) -> None:
        """A connection this process got from its parent through a fork: never used here."""
        return None

    def _usable(self, conn: Any) -> bool:
        """Whether a thread's connection can still be used (a server restart breaks a
        long-lived thread's; it is replaced)."""
        return True

    def pin_version(self) -> None:
        """Read other connections' commit count once, for the rest of this request: a request
        sees the store as of its start (this thread's own commits still count)."""
        conn = self.connection()
        self._local.pinned_version = self._data_version(conn)

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

        The backend's data version changes whenever another connection (in any process)
        commits; this thread's own commits are counted apart. Either change empties the memo,
        so a remembered value is never older than the data it came from. Values must be
        immutable, and must not depend on the time (callers check time themselves).
        """
        conn = self.connection()
        local = self._local
        data_version = local.pinned_version
        if data_version is None:
            data_version = self._data_version(conn)
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

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction; re-entrant (an inner ``write`` joins the outer one)."""
        conn = self.connection()
        if self._in_transaction(conn):
            yield conn
            return
        self._begin_write(conn)
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
        if self._in_transaction(conn) and getattr(self._local, "after_commit", None) is not None:
            self._local.after_commit.append(callback)
        else:
            callback()

    def bulk_write(self) -> AbstractContextManager[Connection]:
        """A write transaction that loads many rows (a large fixture)."""
        return self.write()

    def read(self) -> Connection:
        return self.connection()

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """Several reads that see one state of the store (a read transaction), so a record
        and its parts never come from either side of another writer's commit."""
        conn = self.connection()
        if self._in_transaction(conn):
            yield conn
            return
        self._begin_read(conn)
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    # ---- the schema -----------------------------------------------------------------------

    def ensure_schema(self) -> None:
        """Create the tables in a new store, migrate an older one, refuse one this version
        cannot read. Several workers may start at once: the first to take the write lock
        does the work, the others find it done."""
        if self._schema_version() == schema.SCHEMA_VERSION:
            return
        with self.write() as conn:
            found = self._schema_version()
            if found is None:
                for statement in schema.statements(self.render(schema.SCHEMA)):
                    conn.execute(statement)
                self.set_meta(conn, "schema_version", str(schema.SCHEMA_VERSION))
            elif found != schema.SCHEMA_VERSION:
                self._migrate(conn, found)

    def _migrate(self, conn: Connection, found: int) -> None:
        if found > schema.SCHEMA_VERSION:
            raise StoreError(
                f"the store {self.describe()} was written by a newer sandbox (schema {found}; "
                f"this one reads {schema.SCHEMA_VERSION}): upgrade this sandbox, or give it "
                "another store"
            )
        if found < schema.OLDEST_MIGRATABLE:
            raise StoreError(
                f"the store {self.describe()} was written by an older sandbox (schema {found}) "
                f"that this one cannot migrate (from {schema.OLDEST_MIGRATABLE} on): "
                f"{self._start_afresh()}"
            )
        for version in range(found, schema.SCHEMA_VERSION):
            for statement in schema.statements(self.render(schema.MIGRATIONS[version])):
                conn.execute(statement)
            self.set_meta(conn, "schema_version", str(version + 1))

    def _start_afresh(self) -> str:
        return "give this sandbox another store, or remove this one's tables"

    def _schema_version(self) -> int | None:
        """The version the store was written with; None for an empty store."""
        if not self._has_meta_table():
            return None
        value = self.get_meta("schema_version")
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            raise StoreError(
                f"the store {self.describe()} has an unreadable schema version {value!r}"
            ) from None

    @abstractmethod
    def _has_meta_table(self) -> bool: ...

    def get_meta(self, key: str) -> str | None:
        row = self.read().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    def set_meta(self, conn: Connection, key: str, value: str) -> None:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
