"""A throwaway PostgreSQL cluster, started from the installed binaries in a temporary
directory and removed afterwards: for the sandbox's own tests and benchmark, and for a
team's tests of the sandbox on PostgreSQL. Never a shared server.

``python -m sandbox.testing.postgres`` (what ``make test`` runs first) finds the binaries,
or installs Debian's ``postgresql`` with apt-get when run as root; with ``CI=true`` missing
binaries fail the run rather than skipping the tests.

PostgreSQL refuses to run as root, so as root (as CI runs) the cluster runs as the
``postgres`` user (Debian's package makes it), else as ``nobody``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from sandbox.testing.debian import apt_install, verdict

INSTALL = "apt-get install postgresql"
USER = "sandbox"  # the cluster's superuser, trusted on loopback


class PostgresMissing(RuntimeError):
    pass


def find_bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: on PATH, else Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda path: int(Path(path).parent.parent.name or 0),
    )
    return Path(versions[-1]).parent if versions else None


def ensure() -> Path | None:
    """The binaries' directory, installing Debian's postgresql if it is missing and we may."""
    found = find_bin_dir()
    if found is None:
        apt_install("postgresql")
        found = find_bin_dir()
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _run_as() -> pwd.struct_passwd | None:
    """Who the server runs as: us, unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgresMissing("running as root, and there is no postgres or nobody user to run as")


class PostgresCluster:
    """``with PostgresCluster() as cluster: cluster.new_database("x")`` gives a URL.

    ``durable=False`` (tests) turns fsync off; the benchmark keeps fsync and, like the
    SQLite store's ``synchronous=NORMAL``, does not wait for each commit's flush."""

    def __init__(self, durable: bool = False):
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise PostgresMissing(f"PostgreSQL's binaries are not installed: {INSTALL}")
        self.bin_dir = bin_dir
        self.durable = durable
        self.port = 0
        self.base: Path | None = None
        self._user = _run_as()
        self._databases = 0
        self._by_key: dict[object, str] = {}
        self._options = ""

    @property
    def admin_url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        options: dict[str, Any] = {}
        if self._user is not None:
            options = {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}
        done = subprocess.run(
            [str(self.bin_dir / command[0]), *command[1:]],
            capture_output=True,
            text=True,
            check=False,
            cwd="/",
            **options,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")

    def start(self) -> PostgresCluster:
        self.base = Path(tempfile.mkdtemp(prefix="genstore-pg-"))
        if self._user is not None:
            os.chown(self.base, self._user.pw_uid, self._user.pw_gid)
        data = self.base / "data"
        self._run("initdb", "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8",
                  "--no-locale", "--no-sync")  # fmt: skip
        self.port = _free_port()
        settings = [
            f"-p {self.port}",
            "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={self.base}",
            "-c max_connections=300",
            "-c synchronous_commit=off",
        ]
        if not self.durable:
            settings += ["-c fsync=off", "-c full_page_writes=off"]
        self._options = " ".join(settings)
        self._run("pg_ctl", "-D", str(data), "-l", str(self.base / "server.log"), "-w",
                  "-t", "60", "-o", self._options, "start")  # fmt: skip
        return self

    def new_database(self, name: str | None = None) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        self._databases += 1
        name = name or f"sandbox_{self._databases}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def restart(self) -> None:
        """Stop the server at once (every session ends) and start it again on the same port
        and data: what a team's database does when it is restarted under a sandbox."""
        assert self.base is not None, "start() first"
        data = str(self.base / "data")
        self._run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        self._run("pg_ctl", "-D", data, "-l", str(self.base / "server.log"), "-w", "-t", "60",
                  "-o", self._options, "start")  # fmt: skip

    def database_for(self, key: object) -> str:
        """The same database each time for one key (a test's data directory), a new one
        for a new key: a restarted sandbox finds its store again."""
        if key not in self._by_key:
            self._by_key[key] = self.new_database()
        return self._by_key[key]

    def stop(self) -> None:
        if self.base is None:
            return
        with contextlib.suppress(RuntimeError):  # not running: the directory goes anyway
            self._run("pg_ctl", "-D", str(self.base / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)
        self.base = None

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main() -> int:
    return verdict(ensure(), f"the PostgreSQL store's tests need its binaries: {INSTALL}")


if __name__ == "__main__":
    sys.exit(main())
