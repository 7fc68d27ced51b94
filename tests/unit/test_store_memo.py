"""The per-connection memo never outlives a commit, by this connection or any other."""

import threading

from sandbox.store.sqlite import SqliteDatabase as Database


def _count(db):
    return db.read().execute("SELECT COUNT(*) FROM shops").fetchone()[0]


def _insert(db, handle):
    with db.write() as conn:
        conn.execute(
            "INSERT INTO shops (handle, name, domain, utc_offset, currency, template, credentials,"
            " created_at) VALUES (?, 'n', 'd', '+00:00', 'USD', 't', '{}', 'now')",
            (handle,),
        )


def test_memo_is_reused_until_a_commit_by_another_connection(tmp_path):
    reader, writer = Database(tmp_path / "s.db"), Database(tmp_path / "s.db")
    reader.ensure_schema()
    calls = []

    def compute():
        calls.append(1)
        return _count(reader)

    assert reader.memo("shops", compute) == 0
    assert reader.memo("shops", compute) == 0
    assert len(calls) == 1
    _insert(writer, "a")  # another connection commits
    assert reader.memo("shops", compute) == 1
    assert len(calls) == 2


def test_memo_is_dropped_after_this_threads_own_commit(tmp_path):
    db = Database(tmp_path / "s.db")
    db.ensure_schema()
    assert db.memo("shops", lambda: _count(db)) == 0
    _insert(db, "b")
    assert db.memo("shops", lambda: _count(db)) == 1


def test_a_commit_on_another_thread_of_the_same_database_invalidates(tmp_path):
    db = Database(tmp_path / "s.db")
    db.ensure_schema()
    assert db.memo("shops", lambda: _count(db)) == 0
    thread = threading.Thread(target=_insert, args=(db, "c"))
    thread.start()
    thread.join()
    assert db.memo("shops", lambda: _count(db)) == 1
