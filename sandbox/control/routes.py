"""``/_sandbox/...``: health, shops, reset, clock, machines, manual events. Never rate limited,
never needs a Genstore token: it is the tester's side of the glass, guarded against web pages
(``sandbox.control.guard``) and, when configured, by a control token."""

from __future__ import annotations

import os

from flask import Response, request

from sandbox import __version__, har, snapshot
from sandbox.control import schemas as s
from sandbox.control.service import ClockChange
from sandbox.core.machine import GUARD_HELP
from sandbox.faults import KINDS as FAULT_KINDS
from sandbox.http import ErrorSchema, StrictBlueprint
from sandbox.platform.checkout import AppRegistration, CheckoutRequest
from sandbox.platform.webhooks import TOPICS
from sandbox.services import services
from sandbox.store.platform import count_shops

control = StrictBlueprint(
    "control", __name__, url_prefix="/_sandbox", description="Drive and inspect the sandbox."
)


@control.before_request
def _only_the_tester() -> None:
    services().guard.check(
        request.method, request.host, request.content_type, request.headers.get("Authorization")
    )


@control.route("/health", methods=["GET"])
@control.response(200, s.Health)
def health():
    """Answer 200 once the sandbox is ready"""
    svc = services()
    count = count_shops(svc.db.read())
    return {
        "status": "ok",
        "version": __version__,
        "shops": count,
        "now": svc.clock.now().isoformat(),
        "worker": os.getpid(),
    }


@control.route("/shops", methods=["GET"])
@control.response(200, s.ShopList)
def list_shops():
    """List shops with their tokens and apps"""
    return {"shops": services().control.list_shops()}


@control.route("/shops", methods=["POST"])
@control.arguments(s.CreateShop)
@control.response(201, s.Shop)
@control.alt_response(404, schema=ErrorSchema, description="Unknown template")
@control.alt_response(409, schema=ErrorSchema, description="Handle taken")
def create_shop(body):
    """Create a fresh, isolated shop from a fixture shop, with its own tokens and app"""
    settings = {
        name: body[key]
        for key, name in (
            ("shopDomainHeader", "shop_domain_header"),
            ("strict", "strict"),
            ("requestShape", "request_shape"),
        )
        if key in body
    }
    return services().control.create_shop(
        body.get("template"), body.get("handle"), body.get("name"), body.get("rateLimit"), settings
    )


@control.route("/shops/<handle>", methods=["GET"])
@control.response(200, s.Shop)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop")
def get_shop(handle):
    """One shop with its tokens and apps"""
    control_service = services().control
    return control_service.describe_shop(control_service.shop(handle))


@control.route("/shops/<handle>", methods=["DELETE"])
@control.response(200, s.DeletedShop)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop")
def delete_shop(handle):
    """Delete a shop with everything it holds (a test's shop, once the test is done)"""
    return services().control.delete_shop(handle)


@control.route("/reset", methods=["POST"])
@control.arguments(s.Reset)
@control.response(200, s.ResetResult)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop")
def reset(body):
    """Restore the fixtures: everything, or one shop (which keeps its tokens)"""
    return services().control.reset(body.get("shop"))


@control.route("/clock", methods=["GET"])
@control.arguments(s.ClockQuery, location="query")
@control.response(200, s.ClockView)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop")
def get_clock(query):
    """The sandbox clock, or a shop's"""
    return services().control.clock_view(query.get("shop"))


@control.route("/clock", methods=["POST"])
@control.arguments(s.ClockChange)
@control.response(200, s.ClockView)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop")
def change_clock(body):
    """Freeze, set, unfreeze or advance the clock (applied in that order)"""
    return services().control.change_clock(
        body.get("shop"),
        ClockChange(body.get("frozen"), body.get("now"), body.get("advance"), body.get("own")),
    )


@control.route("/machines", methods=["GET"])
@control.response(200, s.Machines)
def machines():
    """The loaded state machines and the guards they may name"""
    loaded = services().fixtures.machines
    return {
        "machines": {
            name: {
                "initial": m.initial,
                "states": m.states,
                "transitions": [
                    {
                        "event": t.event,
                        "from": t.source,
                        "to": t.target,
                        "guard": t.guard,
                        "timeout": t.timeout.total_seconds() if t.timeout else None,
                    }
                    for t in m.transitions
                ],
            }
            for name, m in loaded.items()
        },
        "guards": GUARD_HELP,
    }


@control.route("/<any(payments,captures,voids,refunds):kind>/<objectId>/events", methods=["POST"])
@control.arguments(s.ShopQuery, location="query")
@control.arguments(s.FireEvent)
@control.response(200, s.EventResult)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop or object")
@control.alt_response(409, schema=ErrorSchema, description="The machine refuses the event")
def fire_event(query, body, kind, objectId):
    """Fire any declared event on a payment, capture, void or refund by hand"""
    return services().control.fire_event(
        query["shop"], kind.rstrip("s"), objectId, body["event"], body.get("amount")
    )


@control.route("/payments", methods=["GET"])
@control.arguments(s.PaymentListQuery, location="query")
@control.response(200, s.PaymentList)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop")
def payment_list(query):
    """A shop's newest payments: state, amount, app, age, contract violations"""
    return {"payments": services().control.recent_payments(query["shop"], query["limit"])}


@control.route("/payments/<paymentId>", methods=["GET"])
@control.arguments(s.ShopQuery, location="query")
@control.response(200, s.PaymentDetail)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop or payment")
def payment_detail(query, paymentId):
    """The platform's record of a payment: machine state, amounts, captures, voids, refunds"""
    return services().control.payment_detail(query["shop"], paymentId)


@control.route("/payments/<paymentId>/history", methods=["GET"])
@control.arguments(s.ShopQuery, location="query")
@control.response(200, s.History)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop or payment")
def payment_history(query, paymentId):
    """Every state change of a payment and its captures, voids and refunds"""
    return {"history": services().control.history(query["shop"], paymentId)}


@control.route("/checkouts", methods=["POST"])
@control.arguments(s.Checkout)
@control.response(201, s.CheckoutResult)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop or app")
@control.alt_response(409, schema=ErrorSchema, description="The app cannot take it")
def checkout(body):
    """Start a payment as Genstore does: order, payment, encrypted request to the app"""
    request = CheckoutRequest(
        shop=body["shop"],
        amount=body.get("amount"),
        currency=body.get("currency"),
        app=body.get("app"),
        card=body.get("card"),
        magic=body.get("magic"),
        holder=body.get("holder"),
        manual_capture=body["manualCapture"],
        offsite=body["offsite"],
        request_shape=body.get("requestShape"),
    )
    return services().checkout.checkout(request)


@control.route("/payments/<paymentId>/captures", methods=["POST"])
@control.arguments(s.OperationRequest)
@control.response(201, s.OperationResult)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop or payment")
@control.alt_response(409, schema=ErrorSchema, description="The payment cannot be captured")
def capture(body, paymentId):
    """Ask the payment's app to capture it, in full or in part"""
    return services().checkout.capture(body["shop"], paymentId, body.get("amount"))


@control.route("/payments/<paymentId>/voids", methods=["POST"])
@control.arguments(s.VoidRequest)
@control.response(201, s.OperationResult)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop or payment")
@control.alt_response(409, schema=ErrorSchema, description="The payment cannot be voided")
def void(body, paymentId):
    """Ask the payment's app to void its authorization"""
    return services().checkout.void(body["shop"], paymentId)


@control.route("/payments/<paymentId>/refunds", methods=["POST"])
@control.arguments(s.OperationRequest)
@control.response(201, s.OperationResult)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop or payment")
@control.alt_response(409, schema=ErrorSchema, description="The payment cannot be refunded")
def refund(body, paymentId):
    """Ask the payment's app to refund it, in full or in part"""
    return services().checkout.refund(body["shop"], paymentId, body.get("amount"))


@control.route("/payments/<paymentId>/timeline", methods=["GET"])
@control.arguments(s.ShopQuery, location="query")
@control.response(200, s.Timeline)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop or payment")
def timeline(query, paymentId):
    """State changes, requests and callbacks of a payment, in order"""
    return services().control.timeline(query["shop"], paymentId)


@control.route("/apps", methods=["POST"])
@control.arguments(s.RegisterApp)
@control.response(201, s.RegisteredApp)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop")
@control.alt_response(409, schema=ErrorSchema, description="Name taken")
def register_app(body):
    """Register a payment app (yours, on any host) in a shop; it gets an access token"""
    return services().checkout.register_app(
        body["shop"],
        AppRegistration(
            name=body["name"],
            urls=body["urls"],
            public_key=body.get("publicKey"),
            scopes=body["scopes"],
            capture_flag=body["captureFlag"],
            activated=body["activated"],
            access_token=body.get("accessToken"),
            status_query=body["statusQuery"],
            move_token=body["moveToken"],
            client_secret=body.get("clientSecret"),
        ),
    )


@control.route("/coverage", methods=["GET"])
@control.arguments(s.ViolationQuery, location="query")
@control.response(200, s.CoverageReport)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop")
def coverage(query):
    """Contract coverage: which items of the payment contract the shop's app was exercised
    on (request kinds and shapes, outcomes, callbacks, status answers, faults) and how it did"""
    return services().control.coverage(query["shop"])


@control.route("/violations", methods=["GET"])
@control.arguments(s.ViolationQuery, location="query")
@control.response(200, s.ViolationList)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop")
def violations(query):
    """Where a shop's payment apps answered against seed 001: request, field, rule"""
    return {"violations": services().control.violations(query["shop"], query.get("paymentId"))}


@control.route("/magic", methods=["GET"])
@control.response(200, s.MagicList)
def magic_values():
    """The magic values: which card, holder or amount makes the fake payment app do what"""
    return {"magic": [m.describe() for m in services().fixtures.magic]}


@control.route("/outbox", methods=["GET"])
@control.arguments(s.OutboxQuery, location="query")
@control.response(200, s.OutboxList)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop")
def outbox(query):
    """Outbound messages, newest first (``limit``, 200 by default)"""
    return {"messages": services().control.outbox_messages(query)}


@control.route("/outbox/drain", methods=["POST"])
@control.response(200, s.DrainResult)
def drain():
    """Deliver everything due now, and what those deliveries make due, before answering"""
    return services().outbox.drain()


@control.route("/psp/installations", methods=["POST"])
@control.arguments(s.Installation)
@control.response(201, s.InstallationView)
def install_psp(body):
    """Send the fake payment app's callbacks for a shop domain to your platform"""
    return services().psp.install(
        body["shopDomain"], body["platformUrl"], body["accessToken"], body["captureFlag"]
    )


@control.route("/journal", methods=["GET"])
@control.arguments(s.JournalPage, location="query")
@control.doc(responses={"200": s.JOURNAL_OR_HAR})
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop")
def journal(query):
    """Every inbound and outbound exchange, newest first, filtered and paginated; with
    format=har, as an HTTP Archive (HAR 1.2), oldest first"""
    entries = services().control.journal(query)
    if query["format"] == "har":
        return har.archive(entries)
    full = len(entries) == query["limit"]
    return {"entries": entries, "nextBefore": entries[-1]["seq"] if full else None}


@control.route("/journal/count", methods=["GET"])
@control.arguments(s.JournalQuery, location="query")
@control.response(200, s.JournalCount)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop")
def journal_count(query):
    """How many exchanges match, e.g. capture requests app X received for payment P"""
    return {"count": services().control.journal_count(query)}


@control.route("/session_tokens", methods=["POST"])
@control.arguments(s.SessionTokenRequest)
@control.response(201, s.SessionToken)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop or app")
def session_token(body):
    """A session token as the shop hands an app's front end (for POST /oauth2/token)"""
    return services().oauth.session_token(body["shop"], body["app"], body["userId"])


@control.route("/apps/<name>/launch", methods=["GET"])
@control.arguments(s.LaunchQuery, location="query")
@control.response(200, s.LaunchUrl)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop or app")
@control.alt_response(409, schema=ErrorSchema, description="The app has no launch URL")
def launch_url(query, name):
    """The signed URL (shop, shopId, timestamp, hmac) the platform opens the app with"""
    return services().oauth.launch_url(query["shop"], name, query["path"])


@control.route("/deliveries", methods=["GET"])
@control.arguments(s.DeliveryQuery, location="query")
@control.response(200, s.DeliveryList)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop")
def deliveries(query):
    """Webhook deliveries, newest first (at most 500)"""
    svc = services()
    shop_id = svc.control.shop(query["shop"]).id if query.get("shop") else None
    return {"deliveries": svc.webhooks.deliveries(shop_id, query.get("topic"))}


@control.route("/deliveries/<int:deliveryId>/redeliver", methods=["POST"])
@control.response(201, s.Delivery)
@control.alt_response(404, schema=ErrorSchema, description="Unknown delivery")
def redeliver(deliveryId):
    """Send a delivery again (a new delivery, same body and signature)"""
    return services().webhooks.redeliver(deliveryId)


@control.route("/webhooks/topics", methods=["GET"])
@control.response(200, s.Topics)
def topics():
    """The webhook topics the sandbox emits"""
    return {"topics": TOPICS}


@control.route("/faults", methods=["POST"])
@control.arguments(s.FaultSpec)
@control.response(201, s.FaultView)
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop")
def arm_fault(body):
    """Arm a fault on a target, for the next N requests or with a probability under a seed"""
    svc = services()
    shop_id = svc.control.shop(body["shop"]).id if body.get("shop") else None
    return svc.faults.arm(body, shop_id)


@control.route("/faults", methods=["GET"])
@control.response(200, s.FaultList)
def list_faults():
    """Armed faults (and spent ones, until cleared) with what each kind does"""
    return {"faults": services().faults.list(), "kinds": FAULT_KINDS}


@control.route("/faults", methods=["DELETE"])
@control.response(200, s.Cleared)
def clear_faults():
    """Clear every fault"""
    return {"cleared": services().faults.clear()}


@control.route("/faults/<int:faultId>", methods=["DELETE"])
@control.response(200, s.Cleared)
@control.alt_response(404, schema=ErrorSchema, description="Unknown fault")
def clear_fault(faultId):
    """Clear one fault"""
    return {"cleared": services().faults.clear(faultId)}


@control.route("/snapshots", methods=["GET"])
@control.arguments(s.SnapshotQuery, location="query")
@control.response(200, content_type="application/yaml", description="The snapshot (YAML)")
@control.alt_response(404, schema=ErrorSchema, description="Unknown shop")
def export_snapshot(query):
    """Export the whole state, or one shop, as YAML in the fixture format"""
    svc = services()
    text = snapshot.export(svc.db, svc.fixtures, query.get("shop"))
    return Response(text, mimetype="application/yaml")


# A snapshot is a fixture file: a YAML mapping of these sections (sandbox.core.fixtures checks
# each in full when it is imported).
SNAPSHOT_DOCUMENT = {
    "type": "object",
    "required": ["shops"],
    "properties": {
        section: {"type": kind}
        for section, kind in (
            ("shops", "array"),
            ("fee_rules", "object"),
            ("psp", "object"),
            ("machines", "object"),
            ("magic", "array"),
        )
    },
}


@control.route("/snapshots", methods=["POST"])
@control.arguments(s.ImportQuery, location="query")
@control.doc(
    requestBody={
        "required": True,
        "content": {"application/yaml": {"schema": SNAPSHOT_DOCUMENT}},
        "description": "A snapshot from GET /_sandbox/snapshots (or any fixture file)",
    }
)
@control.response(200, s.ImportResult)
@control.alt_response(409, schema=ErrorSchema, description="Other machines or fee rules")
def import_snapshot(query):
    """Import a snapshot: its shops replace those of the same handle, or everything; a
    replaced shop's journal, history and outbox carry over (logs=keep) or go (logs=drop)"""
    svc = services()
    return snapshot.import_snapshot(
        svc.db,
        svc.fixtures,
        svc.settings.fixtures,
        request.get_data(as_text=True),
        snapshot.ImportOptions(query["mode"], query["logs"]),
        svc.clock.now(),
    )


BLUEPRINTS = (control,)
