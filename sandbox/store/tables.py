"""Statements built from table and column names: the one place shop scoping is applied.

Every table that holds one shop's data is reached through a :class:`Scope`, which adds the
shop's key (``shop_id``, or ``shop_domain`` on the fake app's tables) to every statement, so no
query can forget it. Built statements are cached: building costs nothing on the hot path.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any, Protocol


class Row(Protocol):
    """A row by column name or position (``sqlite3.Row``, or the PostgreSQL backend's)."""

    def __getitem__(self, key: int | str, /) -> Any: ...
    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What the store's modules ask of a connection: ``?`` placeholders, rows as :class:`Row`
    (SQLite's own connection, or the PostgreSQL backend's wrapper)."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Any: ...
    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Any: ...


@lru_cache(maxsize=512)
def _where(keys: tuple[str, ...]) -> str:
    return " AND ".join(f"{key} = ?" for key in keys)


@lru_cache(maxsize=512)
def _select(table: str, columns: str, keys: tuple[str, ...], order: str, limit: bool) -> str:
    sql = f"SELECT {columns} FROM {table}"
    if keys:
        sql += f" WHERE {_where(keys)}"
    if order:
        sql += f" ORDER BY {order}"
    return sql + (" LIMIT ?" if limit else "")


@lru_cache(maxsize=512)
def _insert(table: str, keys: tuple[str, ...], conflict: str) -> str:
    marks = ", ".join("?" * len(keys))
    return f"INSERT INTO {table} ({', '.join(keys)}) VALUES ({marks}){conflict}"


@lru_cache(maxsize=512)
def _update(table: str, columns: tuple[str, ...], keys: tuple[str, ...]) -> str:
    assignments = ", ".join(f"{column} = ?" for column in columns)
    return f"UPDATE {table} SET {assignments} WHERE {_where(keys)}"


def select_one(
    conn: Connection, table: str, where: Mapping[str, Any], columns: str = "*"
) -> Row | None:
    row: Row | None = conn.execute(
        _select(table, columns, tuple(where), "", False), tuple(where.values())
    ).fetchone()
    return row


def select_all(
    conn: Connection,
    table: str,
    where: Mapping[str, Any],
    order: str = "",
    limit: int | None = None,
    columns: str = "*",
) -> list[Row]:
    params: tuple[Any, ...] = tuple(where.values())
    if limit is not None:
        params = (*params, limit)
    sql = _select(table, columns, tuple(where), order, limit is not None)
    return list(conn.execute(sql, params).fetchall())


def columns_of(record: Any) -> dict[str, Any]:
    """A record dataclass's fields as column values: a shallow copy (``dataclasses.asdict``
    deep-copies every nested value, which made seeding large fixtures several times slower)."""
    return dict(vars(record))


def insert(conn: Connection, table: str, values: Mapping[str, Any], conflict: str = "") -> None:
    """Insert one row; ``conflict`` is an optional ``ON CONFLICT ...`` clause."""
    conn.execute(
        _insert(table, tuple(values), f" {conflict}" if conflict else ""), tuple(values.values())
    )


def insert_returning_id(conn: Connection, table: str, values: Mapping[str, Any]) -> int:
    """Insert one row into a table keyed by a generated ``id`` (never reused); that id."""
    sql = _insert(table, tuple(values), " RETURNING id")
    return int(conn.execute(sql, tuple(values.values())).fetchone()[0])


@lru_cache(maxsize=64)
def _insert_numbered(table: str, keys: tuple[str, ...]) -> str:
    marks = ", ".join("?" * len(keys))
    return (
        f"INSERT INTO {table} (id, {', '.join(keys)}) VALUES "
        f"((SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), {marks}) RETURNING id"
    )


def insert_numbered(conn: Connection, table: str, values: Mapping[str, Any]) -> int:
    """Insert one row into a ``{row_id}`` table, numbered one past the largest id (SQLite's
    own rule for an integer key, written out so both stores number alike: after a reset the
    demo shop is shop 1 again). Safe because writers never interleave. The new id."""
    sql = _insert_numbered(table, tuple(values))
    return int(conn.execute(sql, tuple(values.values())).fetchone()[0])


def insert_many(
    conn: Connection, table: str, keys: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    conn.executemany(_insert(table, tuple(keys), ""), rows)


def update(
    conn: Connection, table: str, values: Mapping[str, Any], where: Mapping[str, Any]
) -> int:
    cursor = conn.execute(
        _update(table, tuple(values), tuple(where)), (*values.values(), *where.values())
    )
    return int(cursor.rowcount)


def delete(conn: Connection, table: str, where: Mapping[str, Any]) -> int:
    sql = f"DELETE FROM {table}" + (f" WHERE {_where(tuple(where))}" if where else "")
    return int(conn.execute(sql, tuple(where.values())).rowcount)


class Scope:
    """One shop's rows in a table family: its key joins every statement's WHERE (and every
    insert's values)."""

    __slots__ = ("column", "conn", "key")

    def __init__(self, conn: Connection, key: int | str, column: str = "shop_id"):
        self.conn = conn
        self.key = key
        self.column = column

    def _keyed(self, where: Mapping[str, Any]) -> dict[str, Any]:
        return {self.column: self.key, **where}

    def one(self, table: str, columns: str = "*", **where: Any) -> Row | None:
        return select_one(self.conn, table, self._keyed(where), columns)

    def all(
        self,
        table: str,
        order: str = "",
        limit: int | None = None,
        columns: str = "*",
        **where: Any,
    ) -> list[Row]:
        return select_all(self.conn, table, self._keyed(where), order, limit, columns)

    def insert(self, table: str, values: Mapping[str, Any], conflict: str = "") -> None:
        insert(self.conn, table, self._keyed(values), conflict)

    def insert_returning_id(self, table: str, values: Mapping[str, Any]) -> int:
        return insert_returning_id(self.conn, table, self._keyed(values))

    def insert_numbered(self, table: str, values: Mapping[str, Any]) -> int:
        return insert_numbered(self.conn, table, self._keyed(values))

    def update(self, table: str, values: Mapping[str, Any], **where: Any) -> int:
        return update(self.conn, table, values, self._keyed(where))

    def delete(self, table: str, **where: Any) -> int:
        return delete(self.conn, table, self._keyed(where))

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """A hand-written change (``sql`` opens its WHERE with the scope's column, as for
        :meth:`query`); how many rows it changed."""
        return int(self.conn.execute(sql, (self.key, *params)).rowcount)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """A hand-written statement whose first parameter is this shop's key: for joins and
        aggregates (``sql`` must open its WHERE with the scope's column)."""
        return list(self.conn.execute(sql, (self.key, *params)).fetchall())
