"""The reference for ``make bench``: a bare Flask app returning the same JSON, served by the
same gunicorn configuration as the sandbox. Run: ``python -m tests.perf.bare_app BODY_FILE``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flask import Flask, Response

from sandbox.server import WsgiServer
from sandbox.settings import Settings


def make_app(body: bytes) -> Flask:
    app = Flask("bare")

    @app.get("/api/202412/payment/<payment_id>")
    def payment(payment_id):
        return Response(body, mimetype="application/json")

    @app.get("/_sandbox/health")
    def health():  # so the bench can wait for every worker, as it does for the sandbox
        return {"worker": os.getpid()}

    return app


def main() -> None:
    body = Path(sys.argv[1]).read_bytes()
    workers, threads = int(sys.argv[2]), int(sys.argv[3])
    settings = Settings(port=0, workers=workers, threads=threads)
    banner = lambda urls: print(f"bare app listening on {urls[0]}", flush=True)  # noqa: E731
    WsgiServer(settings, lambda: make_app(body), on_ready=banner).run()


if __name__ == "__main__":
    main()
