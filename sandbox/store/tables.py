"""Statements built from table and column names: the one place shop scoping is applied.

Every table that holds one shop's data is reached through a :class:`Scope`, which adds the
shop's key (``shop_id``, or ``shop_domain`` on the fake app's tables) to every statement, so no
query can forget it. Built statements are cached: building costs nothing on the hot path.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

Row = sqlite3.Row
Connection = sqlite3.Connection


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


def insert(conn: Connection, table: str, values: Mapping[str, Any], conflict: str = "") -> int:
    """Insert one row; ``conflict`` is an optional ``ON CONFLICT ...`` clause. The new rowid."""
    cursor = conn.execute(
        _insert(table, tuple(values), f" {conflict}" if conflict else ""), tuple(values.values())
    )
    return int(cursor.lastrowid or 0)


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

    def insert(self, table: str, values: Mapping[str, Any], conflict: str = "") -> int:
        return insert(self.conn, table, self._keyed(values), conflict)

    def update(self, table: str, values: Mapping[str, Any], **where: Any) -> int:
        return update(self.conn, table, values, self._keyed(where))

    def delete(self, table: str, **where: Any) -> int:
        return delete(self.conn, table, self._keyed(where))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """A hand-written statement whose first parameter is this shop's key: for joins and
        aggregates (``sql`` must open its WHERE with the scope's column)."""
        return list(self.conn.execute(sql, (self.key, *params)).fetchall())
