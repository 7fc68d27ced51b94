"""The two backends' own parts, through their Python API: how the portable SQL reads on
PostgreSQL, what a URL shows of itself, and what make test does without PostgreSQL."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sandbox.store import schema
from sandbox.store.db import open_database
from sandbox.store.postgres import PostgresDatabase, masked
from sandbox.store.sqlite import SqliteDatabase


def test_the_location_picks_the_backend(tmp_path):
    assert isinstance(open_database("postgresql://u@h/db"), PostgresDatabase)
    assert isinstance(open_database("postgres://u@h/db"), PostgresDatabase)
    assert isinstance(open_database(tmp_path / "s.sqlite3"), SqliteDatabase)


def test_a_url_never_shows_its_password():
    assert masked("postgresql://sandbox:s3cret@db:5432/x?sslmode=require") == (
        "postgresql://sandbox:***@db:5432/x?sslmode=require"
    )
    assert masked("postgresql://sandbox@db/x") == "postgresql://sandbox@db/x"
    assert "s3cret" not in open_database("postgresql://a:s3cret@db/x").describe()


def test_the_portable_schema_reads_in_each_dialect(tmp_path):
    on_postgres = open_database("postgresql://u@h/db").render(schema.SCHEMA)
    on_sqlite = open_database(tmp_path / "s.sqlite3").render(schema.SCHEMA)
    for rendered in (on_postgres, on_sqlite):
        assert "{auto_id}" not in rendered and "{rowid}" not in rendered
    assert "AUTOINCREMENT" in on_sqlite and "WITHOUT ROWID" in on_sqlite
    assert "AUTOINCREMENT" not in on_postgres and "BYTEA" in on_postgres
    assert 'TEXT COLLATE "C"' in on_postgres and " REAL" not in on_postgres
    assert "rowid BIGINT GENERATED ALWAYS AS IDENTITY" in on_postgres


def test_every_migration_step_is_there():
    assert set(schema.MIGRATIONS) == set(range(schema.OLDEST_MIGRATABLE, schema.SCHEMA_VERSION))


@pytest.mark.parametrize(("ci", "code"), [("true", 1), ("", 0)])
def test_a_missing_tool_fails_under_ci_and_warns_otherwise(ci, code):
    check = "from sandbox.testing.debian import verdict; raise SystemExit(verdict(None, 'x'))"
    done = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, env={"CI": ci}
    )
    assert done.returncode == code
    assert ("error: x" if code else "warning: x (those tests will be skipped)") in done.stderr
