"""``serve``: the sandbox under gunicorn (threads in each of several worker processes), all
sharing one SQLite store. Never Flask's development server.

Stopping: SIGTERM waits for requests in flight (gunicorn's graceful stop); Ctrl-C (SIGINT)
and SIGQUIT stop at once. Either way each worker first stops its outbox (what it claimed
and did not send goes back to the store, due as it was) and writes its journal buffer; a
quick stop then gives requests in flight a moment and leaves, rather than waiting on them
until the arbiter kills it.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from typing import TYPE_CHECKING

from gunicorn.app.base import BaseApplication

from sandbox.services import services_of
from sandbox.settings import Settings

if TYPE_CHECKING:
    from sandbox.core.fixtures import Fixtures

log = logging.getLogger("sandbox.server")
# How long a quick stop waits for requests in flight, and for a message being sent.
QUICK_STOP_GRACE = 1.0


def gunicorn_options(settings: Settings) -> dict[str, object]:
    """How the sandbox runs under gunicorn; ``make bench`` runs its reference app the same way."""
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        # gunicorn would turn a sync worker with threads into a gthread one.
        "threads": settings.threads if settings.worker_class == "gthread" else 1,
        "worker_class": settings.worker_class,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": settings.log_level,
        "timeout": 60,
        # A graceful stop (SIGTERM) waits this long for requests in flight.
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
        if "post_worker_init" in self.cfg.settings:
            self.cfg.set("post_worker_init", install_quick_stop)
            self.cfg.set("worker_exit", lambda arbiter, worker: close_worker(worker))
        if self.on_ready is not None:
            on_ready = self.on_ready
            self.cfg.set(
                "when_ready", lambda arbiter: on_ready([str(sock) for sock in arbiter.LISTENERS])
            )

    def load(self):
        return self.load_app()


def close_worker(worker, grace: float = QUICK_STOP_GRACE) -> None:
    """Hand back unsent outbox claims and write the journal buffer (a worker on its way out)."""
    app = getattr(worker, "wsgi", None)
    if app is None or getattr(worker, "sandbox_closed", False):
        return
    worker.sandbox_closed = True
    svc = services_of(app)
    try:
        svc.outbox.stop(grace)
        svc.journal.flush()
    except Exception:  # leaving anyway: what was not written is resent or lost, never half
        log.exception("closing worker %s", os.getpid())


def install_quick_stop(worker) -> None:
    """In each worker, once gunicorn set its own handlers: Ctrl-C reaches a worker twice
    (SIGINT from the terminal, SIGQUIT from the arbiter), and gunicorn's handler would let
    the second interrupt the first's cleanup. Ours runs once; a second signal waits for it.
    SIGTERM keeps gunicorn's graceful stop, after the outbox lets go of its connections."""
    stopping: list[int] = []

    def on_signal(signum, frame) -> None:
        if stopping:
            return  # the first signal's stop is under way below us on this thread
        stopping.append(signum)
        quit_worker(worker)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGQUIT, on_signal)
    graceful = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame) -> None:
        app = getattr(worker, "wsgi", None)
        if app is not None:  # the other workers are stopping: hold no connection to them
            services_of(app).outbox.let_go()
        if callable(graceful):
            graceful(signum, frame)

    signal.signal(signal.SIGTERM, on_term)


def quit_worker(worker) -> None:
    """Ctrl-C or SIGQUIT in a worker: close it, give requests in flight a moment, and exit
    now (gunicorn would otherwise wait on them until the arbiter sends SIGKILL)."""
    deadline = time.monotonic() + QUICK_STOP_GRACE
    close_worker(worker)
    futures = getattr(worker, "futures", ())
    while any(not f.done() for f in list(futures)) and time.monotonic() < deadline:
        time.sleep(0.02)  # a request in flight finishing; bounded by the grace
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def serve(settings: Settings, banner, fixtures: Fixtures | None = None) -> int:
    """Run until interrupted; ``banner(urls)`` is printed once the sockets listen. Every
    worker gets ``fixtures`` as loaded before the fork (else loads them itself)."""
    from sandbox.app import create_app  # here: the benchmark's bare app uses this module too

    load = lambda: create_app(settings, fixtures, background=True)  # noqa: E731
    WsgiServer(settings, load, on_ready=banner).run()
    sys.stdout.flush()
    return 0
