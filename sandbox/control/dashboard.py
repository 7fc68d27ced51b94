"""``/_sandbox/ui``: the dashboard, one static page over the control API.

The page and its assets ship inside the package (no CDN, no build step). They hold no data,
so they are served without the control token (the page asks for it when the API wants one);
the Host check still applies, so a rebinding page cannot load it under a name of its own.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, request, send_from_directory

from sandbox.services import services

ASSETS = Path(__file__).parent / "ui"
dashboard = Blueprint("dashboard", __name__, url_prefix="/_sandbox/ui")


@dashboard.before_request
def _known_host() -> None:
    services().guard.check_host(request.host)


@dashboard.get("")
@dashboard.get("/")
def page():
    response = send_from_directory(ASSETS, "index.html", max_age=0)
    response.headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self' data:"
    return response


@dashboard.get("/<any('ui.js', 'ui.css'):asset>")
def asset(asset: str):
    return send_from_directory(ASSETS, asset, max_age=0)
