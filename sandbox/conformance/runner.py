"""``genstore-sandbox verify``: run the conformance cases against a payment app and report.

The run gets a fresh shop on a running sandbox (its clock runs in real time, as a real app's
does), or runs in a shop the app is already registered in (``--shop``). The app under test is
the shop's own (``--app NAME``, the built-in fake app by default) or one registered for the
run as Genstore registers an app: a URL per call on any host and path, its public key, its
access token (``--app-config FILE``, or the ``--app-url`` shortcut).
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from typing import Any

import requests

from sandbox.client import ControlSession, render_coverage
from sandbox.conformance.cases import CASES, Advice, Case, Context, Failed, Skipped
from sandbox.testing.live import Sandbox, ShopCredentials
from sandbox.testing.shop import SandboxShop

# Where a registered app's seven calls live under its --app-url (the shortcut's layout).
APP_PATHS = {
    "payment": "/payments",
    "offsite_payment": "/offsite_payments",
    "capture": "/captures",
    "void": "/voids",
    "refund": "/refunds",
    "get_payment": "/payment",
    "get_refund": "/refund",
}
# The shapes a shaped case runs in (platform requests with only the required fields, and
# with every optional one); the other cases run in the shop's own shape.
SHAPES = ("minimal", "full")


@dataclass(frozen=True)
class Planned:
    """One case to run, in one request shape (None: the shop's)."""

    case: Case
    shape: str | None = None

    @property
    def name(self) -> str:
        return f"{self.case.name}[{self.shape}]" if self.shape else self.case.name


@dataclass
class Outcome:
    name: str
    title: str
    seed: str
    clause: str
    result: str  # pass, fail or skip
    shape: str | None = None
    reason: str = ""
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    journal: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    """The app under test: one the shop has (by name), or one to register for the run
    (``registration``: the fields of ``POST /_sandbox/apps``). ``shop``: run in this
    existing shop instead of a fresh one."""

    app: str = "sandbox-psp"
    registration: dict[str, Any] | None = None
    shop: str | None = None


def shortcut_registration(
    app_url: str, public_key: str | None, access_token: str | None, capture_flag: str
) -> dict[str, Any]:
    """``--app-url``: the seven calls under one URL, at :data:`APP_PATHS`."""
    base = app_url.rstrip("/")
    registration: dict[str, Any] = {
        "urls": {kind: base + path for kind, path in APP_PATHS.items()},
        "publicKey": public_key,
        "captureFlag": capture_flag,
    }
    if access_token:
        registration["accessToken"] = access_token
    return registration


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


def select(only: list[str] | None) -> list[Planned]:
    """The run's cases, each shaped case once per shape; ``only`` names cases (every shape)
    or ``case[shape]``."""
    plan = [
        Planned(case, shape) for case in CASES for shape in (SHAPES if case.shaped else (None,))
    ]
    if not only:
        return plan
    known = {p.name for p in plan} | {p.case.name for p in plan}
    unknown = [name for name in only if name not in known]
    if unknown:
        raise ValueError(f"unknown case(s): {', '.join(unknown)} (see --list)")
    return [p for p in plan if p.name in only or p.case.name in only]


def prepare(
    sandbox: Sandbox, target: Target, template: str | None, notes: list[str] | None = None
) -> Context:
    """The run's shop with the app under test. ``notes`` gathers what the run did that the
    user should know (a token taken from an earlier run's shop)."""
    if target.shop is not None:
        shop = SandboxShop(sandbox, _existing_shop(sandbox, target.shop), frozen=False)
    else:
        body = {"template": template} if template else {}
        shop = SandboxShop(sandbox, sandbox.new_shop(**body), frozen=False)
    if target.registration is not None:
        registration = {
            "activated": True,  # as if ready: the account_authorize case watches for the call
            **{k: v for k, v in target.registration.items() if k != "shop"},
            "shop": shop.handle,
            "name": target.registration.get("name") or target.app,
            # A token the app is configured with moves from an earlier run's shop to this one.
            "moveToken": True,
        }
        registered = sandbox.control("POST", "/apps", json=registration)
        if registered.status_code != 201:
            raise ValueError(f"registering the app failed: {registered.text.strip()}")
        moved = registered.json().get("tokenMovedFrom")
        if moved and notes is not None:
            notes.append(f"the access token moved to this run's shop from shop '{moved}'")
        target = Target(registration["name"], target.registration, target.shop)
    described = sandbox.control("GET", f"/shops/{shop.handle}").json()
    apps = {a["name"]: a for a in described["apps"]}
    if target.app not in apps:
        known = ", ".join(apps) or "none"
        raise ValueError(f"the shop '{shop.handle}' has no app '{target.app}' (apps: {known})")
    app = apps[target.app]
    return Context(
        shop, target.app, dict(app["urls"]), 10.0, [], status_query=app.get("statusQuery", "query")
    )


def _existing_shop(sandbox: Sandbox, handle: str) -> ShopCredentials:
    found = sandbox.control("GET", f"/shops/{handle}")
    if found.status_code == 404:
        raise ValueError(f"the sandbox has no shop '{handle}'")
    found.raise_for_status()
    described = found.json()
    return ShopCredentials(handle, described["tokens"], described["apps"])


def run(
    ctx: Context, planned: list[Planned], timeout: float, strict: bool = False
) -> list[Outcome]:
    """Each case in turn. A first failure that shows the app cannot be reached, or that its
    callbacks never reach this sandbox, fails with that diagnosis and skips the rest."""
    ctx.timeout = timeout
    outcomes: list[Outcome] = []
    stop = ""
    for item in planned:
        case = item.case
        outcome = Outcome(item.name, case.title, case.seed, case.clause, "pass", item.shape)
        if stop:
            outcome.result, outcome.reason = "skip", stop
            outcomes.append(outcome)
            continue
        ctx.payments.clear()
        ctx.warnings = []
        ctx.shape = item.shape
        started = time.monotonic()
        try:
            case.run(ctx)
        except Failed as exc:
            outcome.result, outcome.reason = "fail", str(exc)
        except Skipped as exc:
            outcome.result, outcome.reason = "skip", str(exc)
        except Advice as exc:
            ctx.warn(str(exc))
        except Exception as exc:  # a case must never take the run down
            outcome.result, outcome.reason = "fail", f"{type(exc).__name__}: {exc}"
        outcome.warnings = list(ctx.warnings)
        if strict and outcome.warnings and outcome.result == "pass":
            outcome.result, outcome.reason = "fail", f"advice (--strict): {outcome.warnings[0]}"
        outcome.seconds = round(time.monotonic() - started, 3)
        outcome.journal = _excerpt(ctx)
        if outcome.result == "fail" and not any(o.result == "pass" for o in outcomes):
            diagnosis = diagnose(ctx)
            if diagnosis:
                if diagnosis != outcome.reason:
                    outcome.reason = f"{diagnosis} ({outcome.reason})"
                stop = f"not run: {diagnosis}"
        outcomes.append(outcome)
    return outcomes


def diagnose(ctx: Context) -> str:
    """Why nothing can pass, when the journal shows it: the app was never reached, or it
    answered but no callback of it ever reached this sandbox."""
    unreachable = ctx.unreachable()
    if unreachable:
        return unreachable
    sent = ctx.shop.journal(direction="outbound", limit=50)
    if not any(e["kind"].startswith("app.") and e["status"] == 200 for e in sent):
        return ""
    inbound = ctx.shop.journal(direction="inbound", limit=50)
    callbacks = [e for e in inbound if e["path"].startswith("/api/202412/app/")]
    if not callbacks:
        return (
            f"the app answered but none of its callbacks reached this sandbox at "
            f"{ctx.shop.url}: check the platform URL it calls back and the access token it sends"
        )
    return ""


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


def _counts(outcomes: list[Outcome]) -> dict[str, int]:
    counts = {r: sum(1 for o in outcomes if o.result == r) for r in ("pass", "fail", "skip")}
    counts["warnings"] = sum(len(o.warnings) for o in outcomes)
    return counts


def text_report(
    outcomes: list[Outcome], verbose: bool = False, coverage: dict[str, Any] | None = None
) -> str:
    """A line a case with the seed clause it enforces; its warnings; under a failure (under
    every case with ``verbose``) the journal lines that show what happened."""
    lines = []
    for o in outcomes:
        reason = f": {o.reason}" if o.reason else ""
        lines.append(f"{o.result.upper():4}  {o.name}{reason}")
        lines.append(f"        seed {o.clause}")
        lines.extend(f"        warning: {warning}" for warning in o.warnings)
        if o.result == "fail" or verbose:
            lines.extend(f"        {line}" for line in o.journal[-12:])
    if coverage is not None:
        lines.append(render_coverage(coverage))
    c = _counts(outcomes)
    lines.append(
        f"{c['pass']} passed, {c['fail']} failed, {c['skip']} skipped, {c['warnings']} warnings"
    )
    return "\n".join(lines)


def json_report(outcomes: list[Outcome], coverage: dict[str, Any] | None = None) -> str:
    report: dict[str, Any] = {"cases": [asdict(o) for o in outcomes], "counts": _counts(outcomes)}
    if coverage is not None:
        report["coverage"] = coverage
    return json.dumps(report, indent=2)


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
        properties = ET.SubElement(case, "properties")
        ET.SubElement(properties, "property", name="seed", value=o.seed)
        ET.SubElement(properties, "property", name="clause", value=o.clause)
        if o.shape:
            ET.SubElement(properties, "property", name="shape", value=o.shape)
        for warning in o.warnings:
            ET.SubElement(properties, "property", name="warning", value=warning)
        if o.result == "fail":
            failure = ET.SubElement(case, "failure", message=o.reason)
            failure.text = "\n".join(o.journal)
        elif o.result == "skip":
            ET.SubElement(case, "skipped", message=o.reason)
        out = [f"{o.title} (seed {o.clause})", *(f"warning: {w}" for w in o.warnings)]
        ET.SubElement(case, "system-out").text = "\n".join(out)
    return ET.tostring(suite, encoding="utf-8", xml_declaration=True)
