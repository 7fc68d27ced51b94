"""The SQLite backend: the embedded default. One file, shared by one sandbox's workers.

Writes begin with ``BEGIN IMMEDIATE``, so concurrent writers queue on SQLite's lock instead
of deadlocking on an upgrade; ``PRAGMA data_version`` counts other connections' commits; WAL
lets readers go on beside the writer. The serving process holds a lock file beside the
database (store/lock.py), so a second sandbox on the same file refuses to start.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from sandbox.store.db import Database, StoreError
from sandbox.store.lock import lock_store
from sandbox.store.tables import Connection

BULK_CACHE_KIB = 131072
# RETURNING (store/tables.py inserts) came with 3.35.
OLDEST_SQLITE = (3, 35, 0)

_DIALECT = {
    "{auto_id}": "INTEGER PRIMARY KEY AUTOINCREMENT",
    "{row_id}": "INTEGER PRIMARY KEY",
    "{rowid}": "",  # every table but a WITHOUT ROWID one has SQLite's own
    "{without_rowid}": " WITHOUT ROWID",
    "{blob}": "BLOB",
}


class SqliteDatabase(Database):
    kind = "sqlite"
    exclusive = True

    def __init__(self, path: Path):
        if str(path) == ":memory:":
            raise StoreError("the store must be a file so every worker process can share it")
        if sqlite3.sqlite_version_info < OLDEST_SQLITE:
            raise StoreError(
                f"this Python's SQLite is {sqlite3.sqlite_version}; the sandbox needs 3.35 or newer"
            )
        super().__init__(str(path))
        self.path = Path(path)

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return _connect(self.path)

    def _data_version(self, conn: sqlite3.Connection) -> object:
        return conn.execute("PRAGMA data_version").fetchone()[0]

    def _begin_write(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")

    def _begin_read(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN")

    def _in_transaction(self, conn: sqlite3.Connection) -> bool:
        return conn.in_transaction

    def render(self, portable: str) -> str:
        for token, text in _DIALECT.items():
            portable = portable.replace(token, text)
        return portable

    def describe(self) -> str:
        return f"SQLite {self.path}"

    def hold(self, url: str) -> IO[str]:
        return lock_store(self.path, url)

    def _has_meta_table(self) -> bool:
        found = self.read().execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        )
        return found.fetchone() is not None

    def _start_afresh(self) -> str:
        return f"remove {self.path} (and its -wal and -shm files) to start afresh"

    @contextmanager
    def side_connection(self) -> Iterator[Connection]:
        # Reading beside the thread's own connection, which may be writing: fine in WAL mode.
        conn = _connect(self.path)
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def bulk_write(self) -> Iterator[Connection]:
        """SQLite's page cache made big enough for the indexes a large fixture fills (seeding
        100,000 payments a third faster), for this transaction only, so a worker does not
        keep the memory."""
        conn = self.connection()
        conn.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        try:
            with self.write() as joined:
                yield joined
        finally:
            conn.execute("PRAGMA cache_size = -2000")  # SQLite's default, 2 MB


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn
