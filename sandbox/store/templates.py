"""The fixtures' bulk (each shop's orders, a snapshot's fake-app rows) kept in the store.

``serve`` loads the fixtures once, in a short-lived process, and writes their bulk here; the
workers then hold only the small part (machines, magic values, the shops' apps and tokens)
and read a shop's orders back, one at a time, when a reset or a new shop needs them. So a
fixture with 100,000 payments costs each worker nothing until it is used, and a reset
streams it instead of holding it.

Values are the validated fixture values (decimals, instants, durations) in JSON with a
tag for each kind JSON lacks.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sandbox.core.fixtures import Fixtures
from sandbox.store.db import Database, open_database
from sandbox.store.tables import Connection

BATCH = 2000


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, timedelta):
        return {"$seconds": value.total_seconds()}
    if isinstance(value, datetime):
        return {"$instant": value.isoformat()}
    raise TypeError(f"cannot keep {type(value).__name__} in the store")


def _decode(tagged: dict[str, Any]) -> Any:
    if len(tagged) == 1:
        if "$decimal" in tagged:
            return Decimal(tagged["$decimal"])
        if "$seconds" in tagged:
            return timedelta(seconds=tagged["$seconds"])
        if "$instant" in tagged:
            return datetime.fromisoformat(tagged["$instant"])
    return tagged


def dumps(value: Any) -> bytes:
    return json.dumps(value, default=_encode, separators=(",", ":")).encode()


def loads(text: bytes | str) -> Any:
    return json.loads(text, object_hook=_decode)


def save_section(conn: Connection, section: str, items: Iterable[Any]) -> int:
    """Replace a section's rows with ``items``, in batches; how many were written."""
    conn.execute("DELETE FROM fixture_rows WHERE section = ?", (section,))
    count, batch = 0, []
    for item in items:
        batch.append((section, count, dumps(item)))
        count += 1
        if len(batch) >= BATCH:
            conn.executemany("INSERT INTO fixture_rows VALUES (?, ?, ?)", batch)
            batch = []
    conn.executemany("INSERT INTO fixture_rows VALUES (?, ?, ?)", batch)
    return count


def clear_sections(conn: Connection) -> None:
    conn.execute("DELETE FROM fixture_rows")


class StoredRows:
    """A section's items, read from the store each time it is iterated (never all held).

    Holds only the store's location, so it pickles: ``serve`` hands it to every worker, and
    each reads with a connection of its own. Behaves as the list it replaces for what the seeding
    code asks of it: iteration, ``len``, and truth."""

    def __init__(self, location: str, section: str, count: int):
        self.location = location
        self.section = section
        self.count = count

    def __iter__(self) -> Iterator[Any]:
        # A connection of its own: the caller may be writing in a transaction on its own.
        with _database(self.location).side_connection() as conn:
            last = -1
            while True:  # in pages by key, so no cursor stays open across the caller's work
                page = conn.execute(
                    "SELECT seq, body FROM fixture_rows WHERE section = ? AND seq > ? "
                    "ORDER BY seq LIMIT ?",
                    (self.section, last, BATCH),
                ).fetchall()
                if not page:
                    return
                for _seq, body in page:
                    yield loads(body)
                last = page[-1][0]

    def __len__(self) -> int:
        return self.count

    def __bool__(self) -> bool:
        return self.count > 0

    def __repr__(self) -> str:
        return f"StoredRows({self.section!r}, {self.count} items)"


@lru_cache(maxsize=8)
def _database(location: str) -> Database:
    return open_database(location)


def save_light(conn: Connection, fixtures: Fixtures, digest: str) -> None:
    """The fixtures without their bulk, and the digest of the files they came from."""
    conn.execute("DELETE FROM fixture_rows WHERE section = 'light'")
    conn.execute(
        "INSERT INTO fixture_rows VALUES ('light', 0, ?)", (pickle.dumps((digest, fixtures)),)
    )


def load_light(conn: Connection, digest: str, location: str) -> Fixtures | None:
    """What :func:`save_light` kept, if it came from files with this digest (else None: the
    fixtures changed, or the sandbox did, and must be loaded again)."""
    row = conn.execute("SELECT body FROM fixture_rows WHERE section = 'light'").fetchone()
    if row is None:
        return None
    try:
        kept, fixtures = pickle.loads(bytes(row[0]))
    except Exception:  # written by another version of the sandbox: load the files again
        return None
    if kept != digest or not isinstance(fixtures, Fixtures):
        return None
    for stored in _stored_rows(fixtures):
        stored.location = location  # the data directory may have moved
    return fixtures


def _stored_rows(fixtures: Fixtures) -> list[StoredRows]:
    pieces = [shop["orders"] for shop in fixtures.shops] + list(fixtures.psp.values())
    return [piece for piece in pieces if isinstance(piece, StoredRows)]
