"""``genstore-sandbox verify``: run the conformance cases against a payment app and report.

The run gets a fresh shop on a running sandbox (its clock runs in real time, as a real app's
does). The app under test is one the shop already has (``--app NAME``, the built-in fake app
by default) or one registered for the run (``--app-url URL --public-key KEY``).
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from typing import Any

import requests

from sandbox.client import ControlSession
from sandbox.conformance.cases import CASES, Case, Context, Failed, Skipped
from sandbox.testing.live import Sandbox
from sandbox.testing.shop import SandboxShop

# Where a registered app's seven calls live under its --app-url.
APP_PATHS = {
    "payment": "/payments",
    "offsite_payment": "/offsite_payments",
    "capture": "/captures",
    "void": "/voids",
    "refund": "/refunds",
    "get_payment": "/payment",
    "get_refund": "/refund",
}


@dataclass
class Outcome:
    name: str
    title: str
    seed: str
    result: str  # pass, fail or skip
    reason: str = ""
    seconds: float = 0.0
    journal: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    """The app under test: by name in the run's shop, or registered at a URL."""

    app: str = "sandbox-psp"
    app_url: str | None = None
    public_key: str | None = None
    access_token: str | None = None
    capture_flag: str = "published"


def wait_until_up(url: str, seconds: float, token: str | None = None) -> bool:
    """Whether the sandbox at ``url`` answers its health check within ``seconds`` (a CI job
    starts it in the background just before)."""
    http = ControlSession(token)
    deadline = time.monotonic() + seconds
    while True:
        try:
            # Any answer but a 5xx: up (a refusal, say a wrong token, is reported next).
            if http.get(url.rstrip("/") + "/_sandbox/health", timeout=2).status_code < 500:
                return True
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)  # the sandbox is still starting: poll it


def select(only: list[str] | None) -> list[Case]:
    if not only:
        return list(CASES)
    names = {case.name for case in CASES}
    unknown = [name for name in only if name not in names]
    if unknown:
        raise ValueError(f"unknown case(s): {', '.join(unknown)} (see --list)")
    return [case for case in CASES if case.name in only]


def prepare(sandbox: Sandbox, target: Target, template: str | None) -> Context:
    """A fresh shop with the app under test, its clock following real time."""
    body = {"template": template} if template else {}
    shop = SandboxShop(sandbox, sandbox.new_shop(**body), frozen=False)
    if target.app_url is None:
        described = sandbox.control("GET", f"/shops/{shop.handle}").json()
        apps = {a["name"]: a for a in described["apps"]}
        if target.app not in apps:
            known = ", ".join(apps) or "none"
            raise ValueError(f"the shop has no app '{target.app}' (apps: {known})")
        return Context(shop, target.app, dict(apps[target.app]["urls"]), 10.0, [])
    base = target.app_url.rstrip("/")
    urls = {kind: base + path for kind, path in APP_PATHS.items()}
    registration: dict[str, Any] = {
        "shop": shop.handle,
        "name": target.app,
        "urls": urls,
        "publicKey": target.public_key,
        "captureFlag": target.capture_flag,
        "activated": True,  # the account_authorize case checks the app reports it
    }
    if target.access_token:
        registration["accessToken"] = target.access_token
    registered = sandbox.control("POST", "/apps", json=registration)
    if registered.status_code != 201:
        raise ValueError(f"registering the app failed: {registered.text}")
    return Context(shop, target.app, urls, 10.0, [])


def run(ctx: Context, cases: list[Case], timeout: float) -> list[Outcome]:
    ctx.timeout = timeout
    outcomes = []
    for case in cases:
        ctx.payments.clear()
        started = time.monotonic()
        outcome = Outcome(case.name, case.title, case.seed, "pass")
        try:
            case.run(ctx)
        except Failed as exc:
            outcome.result, outcome.reason = "fail", str(exc)
        except Skipped as exc:
            outcome.result, outcome.reason = "skip", str(exc)
        except Exception as exc:  # a case must never take the run down
            outcome.result, outcome.reason = "fail", f"{type(exc).__name__}: {exc}"
        outcome.seconds = round(time.monotonic() - started, 3)
        outcome.journal = _excerpt(ctx)
        outcomes.append(outcome)
    return outcomes


def _excerpt(ctx: Context) -> list[str]:
    """What crossed the wire about the case's payments, oldest first (masked as journaled)."""
    lines = []
    for payment_id in ctx.payments:
        for entry in reversed(ctx.shop.journal(paymentId=payment_id, limit=50)):
            arrow = "->" if entry["direction"] == "outbound" else "<-"
            status = entry["status"] if entry["status"] is not None else entry["error"]
            flag = f" [violation: {entry['violation']}]" if entry.get("violation") else ""
            lines.append(f"{arrow} {entry['method']} {entry['path']} {status}{flag}")
    return lines


# ---- reports ------------------------------------------------------------------------------


def text_report(outcomes: list[Outcome], verbose: bool = False) -> str:
    """A line a case; under a failure (under every case with ``verbose``) the journal lines
    that show what happened."""
    lines = []
    for o in outcomes:
        reason = f": {o.reason}" if o.reason else ""
        lines.append(f"{o.result.upper():4}  {o.name}{reason}")
        if o.result == "fail" or verbose:
            lines.extend(f"        {line}" for line in o.journal[-12:])
    counts = {r: sum(1 for o in outcomes if o.result == r) for r in ("pass", "fail", "skip")}
    lines.append(f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped")
    return "\n".join(lines)


def json_report(outcomes: list[Outcome]) -> str:
    return json.dumps({"cases": [asdict(o) for o in outcomes]}, indent=2)


def junit_report(outcomes: list[Outcome]) -> bytes:
    suite = ET.Element(
        "testsuite",
        name="genstore-sandbox verify",
        tests=str(len(outcomes)),
        failures=str(sum(1 for o in outcomes if o.result == "fail")),
        skipped=str(sum(1 for o in outcomes if o.result == "skip")),
        time=f"{sum(o.seconds for o in outcomes):.3f}",
    )
    for o in outcomes:
        case = ET.SubElement(
            suite, "testcase", classname="genstore.conformance", name=o.name, time=f"{o.seconds}"
        )
        if o.result == "fail":
            failure = ET.SubElement(case, "failure", message=o.reason)
            failure.text = "\n".join(o.journal)
        elif o.result == "skip":
            ET.SubElement(case, "skipped", message=o.reason)
        ET.SubElement(case, "system-out").text = f"{o.title} (seed {o.seed})"
    return ET.tostring(suite, encoding="utf-8", xml_declaration=True)
