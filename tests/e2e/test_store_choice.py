"""Choosing the store at start (issue 13): ``--database`` or GENSTORE_SANDBOX_DATABASE, a
clear refusal for a store that cannot be used, and versioned migrations on both backends."""

from __future__ import annotations

import re
import socket
import time

import pytest

from sandbox.store import schema
from sandbox.store.db import StoreError, open_database
from sandbox.testing.live import LiveSandbox
from tests.e2e.test_cli import run

# What version 9 looked like where version 10 changed it.
DOWNGRADE_TO_9 = [
    "DROP TABLE journal_workers",
    "CREATE TABLE journal_workers (pid INTEGER PRIMARY KEY, acked_epoch INTEGER NOT NULL, "
    "heartbeat REAL NOT NULL)",
    "ALTER TABLE outbox DROP COLUMN claimed_by",
    "ALTER TABLE shops DROP COLUMN request_shape",
    "ALTER TABLE apps DROP COLUMN status_query",
    "ALTER TABLE payments DROP COLUMN request_shape",
    "UPDATE meta SET value = '9' WHERE key = 'schema_version'",
]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite3")
    return request.getfixturevalue("postgres_cluster").new_database(f"m_{time.time_ns()}")


def test_an_unreachable_server_fails_at_start_with_a_clear_message(tmp_path):
    url = f"postgresql://sandbox:secret@127.0.0.1:{_closed_port()}/nowhere"
    started = time.monotonic()
    result = run("serve", "--port", "0", "--data-dir", str(tmp_path), "--database", url)
    assert result.returncode == 1
    assert "cannot reach the store PostgreSQL" in result.stderr, result.stderr
    assert "secret" not in result.stderr  # the password is never printed
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 20


def test_a_malformed_url_fails_at_start_with_a_clear_message(tmp_path):
    url = "postgresql://sandbox@127.0.0.1/x?colour=red"
    result = run("serve", "--port", "0", "--data-dir", str(tmp_path), "--database", url)
    assert result.returncode == 1
    assert "is not valid" in result.stderr and "colour" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_store_of_the_previous_version_is_migrated(location):
    db = open_database(location)
    db.ensure_schema()
    with db.write() as conn:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('kept', 'yes') "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )
        for statement in DOWNGRADE_TO_9:
            conn.execute(statement)
    db.close()
    again = open_database(location)
    again.ensure_schema()
    assert again.get_meta("schema_version") == str(schema.SCHEMA_VERSION)
    assert again.get_meta("kept") == "yes"  # the data stayed
    conn = again.read()
    conn.execute("SELECT worker, acked_epoch, heartbeat FROM journal_workers").fetchall()
    conn.execute("SELECT claimed_by FROM outbox").fetchall()
    conn.execute("SELECT request_shape FROM shops").fetchall()
    conn.execute("SELECT status_query FROM apps").fetchall()
    conn.execute("SELECT request_shape FROM payments").fetchall()
    again.close()


@pytest.mark.parametrize(
    ("version", "says"),
    [("3", "written by an older sandbox (schema 3)"), ("99", "written by a newer sandbox")],
)
def test_a_store_this_version_cannot_read_is_refused(location, version, says):
    db = open_database(location)
    db.ensure_schema()
    with db.write() as conn:
        db.set_meta(conn, "schema_version", version)
    db.close()
    with pytest.raises(StoreError, match=re.escape(says)):
        open_database(location).ensure_schema()


def test_serve_refuses_a_store_it_cannot_read_without_a_traceback(tmp_path):
    location = str(tmp_path / "old.sqlite3")
    db = open_database(location)
    db.ensure_schema()
    with db.write() as conn:
        db.set_meta(conn, "schema_version", "3")
    db.close()
    result = run("serve", "--port", "0", "--data-dir", str(tmp_path), "--database", location)
    assert result.returncode == 1
    assert "cannot migrate" in result.stderr and "remove" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_the_environment_chooses_the_store_and_it_outlives_a_database_restart(tmp_path):
    """GENSTORE_SANDBOX_DATABASE picks the store (no SQLite file appears). Then the team's
    server restarts under the running sandbox: every session ends. The next requests get
    fresh connections (none fails), and the outbox and journal carry on. (One sandbox start
    for both: starts are what this suite spends its time on.)"""
    from sandbox.testing.postgres import PostgresCluster

    with PostgresCluster() as cluster:  # a cluster of its own: the session's is shared
        env = {"GENSTORE_SANDBOX_DATABASE": cluster.new_database("restarted")}
        with LiveSandbox(data_dir=tmp_path, workers=1, env=env) as sandbox:
            assert any("store           PostgreSQL" in line for line in sandbox.output)
            assert not (tmp_path / "sandbox.sqlite3").exists()
            assert sandbox.control("POST", "/checkouts", json={}).status_code == 201
            cluster.restart()
            for _ in range(5):  # more requests than the worker has pooled connections
                assert sandbox.control("GET", "/health").status_code == 200
            payment_id = sandbox.control("POST", "/checkouts", json={}).json()["paymentId"]
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                sandbox.control("POST", "/outbox/drain")
                if sandbox.control("GET", f"/payments/{payment_id}").json()["state"] == "paid":
                    break
            assert sandbox.control("GET", f"/payments/{payment_id}").json()["state"] == "paid"
            entries = sandbox.control("GET", "/journal", params={"paymentId": payment_id})
            assert entries.ok and entries.json()["entries"], entries.text
            # no request failed (a background thread's first try after the restart may, and
            # logs it; it takes a new connection on the next)
            assert "Exception on" not in "".join(sandbox.output)
