"""Start ``genstore-sandbox serve`` as a real process on a free port and talk HTTP to it.

Used by the project's own end-to-end tests and by users' test suites alike::

    with LiveSandbox(data_dir=tmp_path) as sandbox:
        shop = sandbox.new_shop()
        requests.get(sandbox.url + "/api/202412/payment/PI...", headers=shop.headers("read"))
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import requests

from sandbox.client import ControlSession
from sandbox.settings import CONTROL_TOKEN_ENV

_LISTENING = re.compile(r"listening on (http://\S+)")


@dataclass
class ShopCredentials:
    handle: str
    tokens: list[dict[str, Any]]
    apps: list[dict[str, Any]]

    def token(self, scope: str) -> str:
        """The first token that has ``scope``."""
        for token in self.tokens:
            if scope in token["scopes"]:
                return token["token"]
        raise LookupError(f"shop {self.handle} has no token with scope {scope}")

    def headers(self, scope: str) -> dict[str, str]:
        return {"X-Genstore-Access-Token": self.token(scope)}


class Sandbox:
    """A sandbox reached over HTTP: one a test started, or one already running."""

    def __init__(
        self, url: str = "", http: requests.Session | None = None, token: str | None = None
    ):
        """``token``: the sandbox's control token (default ``$GENSTORE_SANDBOX_CONTROL_TOKEN``)."""
        self.url = url.rstrip("/")
        self.http = http or ControlSession(token)

    def new_shop(self, **body: Any) -> ShopCredentials:
        """A fresh, isolated shop (``template``, ``strict``, ``shopDomainHeader``,
        ``rateLimit``, ...)."""
        response = self.http.post(self.url + "/_sandbox/shops", json=body, timeout=10)
        response.raise_for_status()
        data = response.json()
        return ShopCredentials(data["handle"], data["tokens"], data["apps"])

    def control(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.http.request(method, self.url + "/_sandbox" + path, timeout=30, **kwargs)


class LiveSandbox(Sandbox):
    """``genstore-sandbox serve`` in a process of its own, on a free port.

    Its store is ``database`` when given (a postgresql:// URL or a path), else what
    :attr:`stores` says for its data directory, else the SQLite file in that directory."""

    # Set by a test session that runs every sandbox on another store (the project's suite
    # on PostgreSQL): the store for a data directory, the same one each time it is asked.
    stores: ClassVar[Callable[[Path], str] | None] = None

    def __init__(
        self,
        data_dir: Path,
        fixtures: Path | None = None,
        workers: int = 2,
        extra_args: tuple[str, ...] = (),
        startup_timeout: float = 30.0,
        env: dict[str, str] | None = None,
        own_session: bool = False,
        database: str | None = None,
    ):
        """``own_session``: the server gets a process group of its own, so
        :meth:`interrupt` can send Ctrl-C to it as a terminal would (arbiter and workers).
        Its request log is off unless ``env`` turns it on (``GENSTORE_SANDBOX_REQUEST_LOG``:
        ``on``): a test's output would grow with every request."""
        # The URL is known once the server listens; its control token, if the environment
        # gives it one, is ours too.
        super().__init__(token=(env or {}).get(CONTROL_TOKEN_ENV))
        self.data_dir = Path(data_dir)
        self.fixtures = fixtures
        self.workers = workers
        self.extra_args = extra_args
        self.startup_timeout = startup_timeout
        self.env = env or {}
        self.own_session = own_session
        self.database = database
        self.output: list[str] = []
        self._process: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        self._ready = threading.Event()

    def start(self) -> LiveSandbox:
        command = [
            sys.executable,
            "-m",
            "sandbox",
            "serve",
            "--port",
            "0",
            "--data-dir",
            str(self.data_dir),
            "--workers",
            str(self.workers),
            *self.extra_args,
        ]
        if self.fixtures is not None:
            command += ["--fixtures", str(self.fixtures)]
        stores = type(self).stores
        database = self.database or (stores(self.data_dir) if stores else None)
        if database:
            command += ["--database", database]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        env.setdefault("GENSTORE_SANDBOX_REQUEST_LOG", "off")
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=self.own_session,
        )
        self._reader = threading.Thread(target=self._read_output, daemon=True)
        self._reader.start()
        if not self._ready.wait(self.startup_timeout):
            self.stop()
            raise RuntimeError("the sandbox did not start:\n" + "".join(self.output))
        self._wait_healthy()
        return self

    def _read_output(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            self.output.append(line)
            if not self._ready.is_set() and (match := _LISTENING.search(line)):
                self.url = match.group(1)
                self._ready.set()
        self._ready.set()  # the process ended; start() reports what it printed

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                break
            try:
                if self.url and self.http.get(self.url + "/_sandbox/health", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)  # polling for readiness, not waiting for sandbox time to pass
        self.stop()
        raise RuntimeError("the sandbox never became healthy:\n" + "".join(self.output))

    def interrupt(self, timeout: float = 15) -> int | None:
        """Ctrl-C: SIGINT to the server's whole process group (``own_session``), as a
        terminal sends it; waits for the server to end and returns its exit code."""
        if self._process is None or not self.own_session:
            raise RuntimeError("interrupt() needs a started LiveSandbox(own_session=True)")
        os.killpg(self._process.pid, signal.SIGINT)
        try:
            return self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> int | None:
        if self._process is None:
            return None
        # Our idle keep-alive connections would hold a graceful stop until they time out.
        self.http.close()
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
        code = self._process.returncode
        self._process = None
        self.http.close()
        return code

    def __enter__(self) -> LiveSandbox:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
