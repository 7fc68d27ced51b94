"""One sandbox per store: the serving process holds an exclusive lock on the database file
itself and on a file beside it for its whole life (its forked workers share them), so a second
``serve`` on the same data refuses to start instead of silently sharing (and resetting) the
first one's state. The lock on the database file is on the file, not its name: another path,
a symbolic or a hard link to it is the same store. (``flock`` locks and SQLite's own POSIX
locks do not meet on Linux.)"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import IO


class StoreInUse(RuntimeError):
    pass


# The database files this process holds locked: open for the process's whole life.
_HELD: list[IO[bytes]] = []


def lock_store(database: Path, url: str) -> IO[str]:
    """Hold the store's lock; keep the returned file open while serving. The file says who
    holds it, for the next one's error message."""
    path = Path(f"{database}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    data = database.open("ab")  # SQLite takes an empty file as an empty database
    try:
        fcntl.flock(data, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        data.close()
        raise StoreInUse(
            f"the store {database} is in use by another sandbox ({_holder_of(path)}; the "
            "same file, under this name or another); stop it, or give this one another "
            "--data-dir"
        ) from None
    _HELD.append(data)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = _holder(handle.read())
        handle.close()
        raise StoreInUse(
            f"the store {database} is in use by another sandbox ({holder}); stop it, or give "
            "this one another --data-dir"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps({"pid": os.getpid(), "url": url}))
    handle.flush()
    return handle


def _holder_of(path: Path) -> str:
    try:
        return _holder(path.read_text())
    except OSError:
        return "a process that left no details"


def _holder(text: str) -> str:
    try:
        info = json.loads(text)
        return f"pid {info['pid']}, {info['url']}"
    except (ValueError, KeyError, TypeError):
        return "a process that left no details"
