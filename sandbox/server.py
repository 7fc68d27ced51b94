"""``serve``: the sandbox under gunicorn (threads in each of several worker processes), all
sharing one SQLite store. Never Flask's development server."""

from __future__ import annotations

import sys

from gunicorn.app.base import BaseApplication

from sandbox.app import create_app
from sandbox.settings import Settings


def gunicorn_options(settings: Settings) -> dict[str, object]:
    """How the sandbox runs under gunicorn; ``make bench`` runs its reference app the same way."""
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        "threads": settings.threads,
        "worker_class": "gthread",
        "accesslog": None,
        "errorlog": "-",
        "loglevel": settings.log_level,
        "timeout": 60,
        "graceful_timeout": 5,
        "keepalive": 5,
        "proc_name": "genstore-sandbox",
        # Several sandboxes (CI shards, tests) run side by side: no shared control socket.
        "control_socket_disable": True,
    }


class WsgiServer(BaseApplication):
    """gunicorn running ``load_app()`` with :func:`gunicorn_options`; prints URLs when ready."""

    def __init__(self, settings: Settings, load_app, on_ready=None):
        self.settings = settings
        self.load_app = load_app
        self.on_ready = on_ready
        super().__init__()

    def load_config(self) -> None:
        for key, value in gunicorn_options(self.settings).items():
            if key in self.cfg.settings:  # older gunicorns lack some settings
                self.cfg.set(key, value)
        if self.on_ready is not None:
            on_ready = self.on_ready
            self.cfg.set(
                "when_ready", lambda arbiter: on_ready([str(sock) for sock in arbiter.LISTENERS])
            )

    def load(self):
        return self.load_app()


def serve(settings: Settings, banner) -> int:
    """Run until interrupted; ``banner(urls)`` is printed once the sockets listen."""
    WsgiServer(settings, lambda: create_app(settings, background=True), on_ready=banner).run()
    sys.stdout.flush()
    return 0
