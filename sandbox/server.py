"""``serve``: the sandbox under gunicorn (threads in each of several worker processes), all
sharing one SQLite store. Never Flask's development server."""

from __future__ import annotations

import sys

from gunicorn.app.base import BaseApplication

from sandbox.app import create_app
from sandbox.core.fixtures import Fixtures
from sandbox.settings import Settings


class SandboxServer(BaseApplication):
    def __init__(self, settings: Settings, on_ready=None):
        self.settings = settings
        self.on_ready = on_ready
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        options = {
            "bind": f"{s.host}:{s.port}",
            "workers": s.workers,
            "threads": s.threads,
            "worker_class": "gthread",
            "accesslog": None,
            "errorlog": "-",
            "loglevel": s.log_level,
            "timeout": 60,
            "graceful_timeout": 5,
            "keepalive": 5,
            "proc_name": "genstore-sandbox",
            # Several sandboxes (CI shards, tests) run side by side: no shared control socket.
            "control_socket_disable": True,
        }
        for key, value in options.items():
            if key in self.cfg.settings:  # older gunicorns lack some settings
                self.cfg.set(key, value)
        if self.on_ready is not None:
            on_ready = self.on_ready
            self.cfg.set(
                "when_ready", lambda arbiter: on_ready([str(sock) for sock in arbiter.LISTENERS])
            )

    def load(self):
        return create_app(self.settings)


def serve(settings: Settings, fixtures: Fixtures, banner) -> int:
    """Run until interrupted; ``banner(urls)`` is printed once the sockets listen."""
    del fixtures  # each worker loads its own copy; the caller already checked them
    SandboxServer(settings, on_ready=banner).run()
    sys.stdout.flush()
    return 0
