"""The shop's result page a buyer returns to after 3-D Secure or an offsite checkout."""

from __future__ import annotations

from html import escape

from flask import Blueprint, Response, request

from sandbox.services import services

pages = Blueprint("shop-pages", __name__)


@pages.before_request
def _known_host() -> None:
    """A buyer's browser opens this page, so it needs no token; a rebinding page still may
    not read it under a name of its own."""
    services().guard.check_host(request.host)


@pages.get("/_sandbox/return")
def buyer_return():
    """Where the sandbox's checkouts send the buyer back to (a shop's result page)."""
    payment_id = request.args.get("paymentId", "")
    shop = request.args.get("shop", "demo")
    detail = services().control.payment_detail(shop, payment_id)
    cancelled = request.args.get("cancelled") == "true"
    return Response(return_page(detail, cancelled), mimetype="text/html")


def return_page(detail: dict, cancelled: bool) -> str:
    state = escape(detail["state"])
    heading = "Payment cancelled" if cancelled else "Back at the shop"
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{heading}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:28em;margin:4em auto}}</style></head>
<body><h1>{heading}</h1><p>Payment <code>{escape(detail["paymentId"])}</code> of
{escape(detail["amount"])} {escape(detail["currency"])} is <b id="state">{state}</b>.</p>
<p>The result arrives from the payment app asynchronously; reload to see it change.</p>
</body></html>"""
