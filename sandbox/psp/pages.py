"""The buyer's pages: a 3-D Secure challenge and a hosted offsite checkout."""

from __future__ import annotations

from html import escape

from sandbox.store.psp import PspPayment

_STYLE = """<style>body{font-family:system-ui,sans-serif;max-width:28em;margin:4em auto;color:#222}
.card{border:1px solid #ddd;border-radius:8px;padding:1.5em}button{font-size:1em;padding:.6em
1.2em;margin:.3em;border-radius:6px;border:1px solid #999;cursor:pointer}.ok{background:#1a7f37;
color:#fff;border-color:#1a7f37}.no{background:#fff}small{color:#666}</style>"""


def challenge(session: PspPayment, token: str) -> str:
    """Pass and fail buttons, for 3-D Secure (``card``) or offsite (approve / cancel)."""
    offsite = session.kind == "offsite"
    title = "Sandbox hosted checkout" if offsite else "3-D Secure verification"
    yes, no = ("approve", "cancel") if offsite else ("pass", "fail")
    yes_label, no_label = ("Approve payment", "Cancel") if offsite else ("Pass", "Fail")
    card = f" with card ····{escape(session.card_last4)}" if session.card_last4 else ""
    path = f"/psp/{'offsite' if offsite else '3ds'}/{escape(token)}"
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>{_STYLE}
</head><body><div class="card"><h1>{title}</h1>
<p>Pay <b>{escape(session.amount)} {escape(session.currency)}</b>{card}.</p>
<p><small>Payment {escape(session.payment_id)} · Genstore Sandbox, no real money moves.
Headless tests can open <code>{path}?action={yes}</code> instead.</small></p>
<form method="post" action="{path}">
<button class="ok" name="action" value="{yes}" id="{yes}">{yes_label}</button>
<button class="no" name="action" value="{no}" id="{no}">{no_label}</button>
</form></div></body></html>"""


def done(decision: str) -> str:
    text = "The payment was approved." if decision != "FAILURE" else "The payment failed."
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Done</title>{_STYLE}
</head><body><div class="card"><h1>Done</h1><p id="result">{text}</p>
<p><small>No return URL was given; you can close this page.</small></p></div></body></html>"""


def launched(shop: str, valid: bool) -> str:
    verdict = "Signature valid" if valid else "Signature INVALID: refused"
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Sandbox payment app</title>
{_STYLE}</head><body><div class="card"><h1>Sandbox payment app</h1>
<p id="verdict">{verdict}</p><p>Shop: <b>{escape(shop)}</b></p></div></body></html>"""
