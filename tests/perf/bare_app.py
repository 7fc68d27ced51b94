"""The reference for ``make bench``: a bare Flask app returning the same JSON, served by the
same gunicorn configuration as the sandbox, and taking result callbacks as the sandbox does
(answering ``{}``). Run: ``python -m tests.perf.bare_app BODY_FILE WORKERS THREADS CLASS``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flask import Flask, Response, request

from sandbox.server import WsgiServer
from sandbox.settings import Settings


def make_app(body: bytes) -> Flask:
    app = Flask("bare")

    @app.get("/api/202412/payment/<payment_id>")
    def payment(payment_id):
        return Response(body, mimetype="application/json")

    @app.put("/api/202412/app/payment/<payment_id>")
    def result(payment_id):
        request.get_json()  # as the sandbox reads the body
        return Response(b"{}", mimetype="application/json")

    @app.get("/_sandbox/health")
    def health():  # so the bench can wait for every worker, as it does for the sandbox
        return {"worker": os.getpid()}

    return app


def main() -> None:
    body = Path(sys.argv[1]).read_bytes()
    workers, threads = int(sys.argv[2]), int(sys.argv[3])
    worker_class = sys.argv[4] if len(sys.argv) > 4 else "gthread"
    settings = Settings(port=0, workers=workers, threads=threads, worker_class=worker_class)
    banner = lambda urls: print(f"bare app listening on {urls[0]}", flush=True)  # noqa: E731
    WsgiServer(settings, lambda: make_app(body), on_ready=banner).run()


if __name__ == "__main__":
    main()
