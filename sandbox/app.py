"""``create_app(settings)``: the store, the fixtures, the services and every surface."""

from __future__ import annotations

import functools
from pathlib import Path

from apispec import BasePlugin
from flask import Flask

from sandbox import __version__
from sandbox.control.dashboard import dashboard
from sandbox.control.guard import ControlGuard
from sandbox.control.pages import pages as shop_pages
from sandbox.control.routes import BLUEPRINTS as CONTROL_BLUEPRINTS
from sandbox.control.service import ControlService
from sandbox.core.clock import Clock
from sandbox.core.crypto import CardKeys
from sandbox.core.fixtures import Fixtures, load_fixtures, source_digest
from sandbox.core.ids import Ids
from sandbox.core.timefmt import parse_duration
from sandbox.docs import register_docs
from sandbox.faults import Faults
from sandbox.http import (
    Api,
    GuardResponses,
    Int64PathParameters,
    document_wire_alternatives,
    install_error_handlers,
    install_request_hooks,
)
from sandbox.http.blueprint import BoundedInt
from sandbox.http.jsonio import FastJsonProvider
from sandbox.journal import Journal
from sandbox.outbox import Outbox, OutboxSettings
from sandbox.platform.answers import AppAnswers
from sandbox.platform.callbacks import Callbacks
from sandbox.platform.checkout import CheckoutService
from sandbox.platform.lifecycle import Lifecycle
from sandbox.platform.oauth import OAuthService
from sandbox.platform.ratelimit import RateLimiter
from sandbox.platform.routes import BLUEPRINTS as PLATFORM_BLUEPRINTS
from sandbox.platform.service import PlatformService
from sandbox.platform.surface import EXTENSION as PLATFORM_EXTENSION
from sandbox.platform.surface import PlatformRequestFacts, PlatformSurface
from sandbox.platform.webhooks import PlatformEvents, Webhooks
from sandbox.protocol import APP_REQUESTS, Flag
from sandbox.psp.routes import BLUEPRINTS as PSP_BLUEPRINTS
from sandbox.psp.routes import EXTENSION as PSP_EXTENSION
from sandbox.psp.routes import pages as psp_pages
from sandbox.psp.service import PspService
from sandbox.requestlog import RequestLog
from sandbox.services import EXTENSION, Services
from sandbox.settings import ENV_PREFIX, Settings, default_fixtures_dir
from sandbox.store import templates
from sandbox.store.clock import load_clock
from sandbox.store.db import Database, open_database
from sandbox.store.platform import load_shop
from sandbox.store.seed import keep_bulk, seed_all

# Which blueprints make up each OpenAPI document.
SURFACES = {
    "platform": (
        "Genstore platform API (sandbox)",
        "The endpoints Genstore answers: payment-app callbacks (seed 000), merchant transaction "
        "queries (seed 002) and the legacy Order Payment API (seed 003).",
        PLATFORM_BLUEPRINTS,
    ),
    "payment-app": (
        "Genstore payment app API (what an app implements)",
        "The seven calls Genstore makes to a payment app (seed 001), as the sandbox's fake "
        "payment app implements them under /psp. A real app registers its own URL for each.",
        PSP_BLUEPRINTS,
    ),
    "control": (
        "Genstore Sandbox control API",
        "Drive and inspect the sandbox: health, shops, reset, clock, state machines, events, "
        "checkouts, apps, magic values, the outbox.",
        CONTROL_BLUEPRINTS,
    ),
}


def control_guard_responses() -> GuardResponses:
    """What ``sandbox.control.guard`` answers before any control operation runs."""
    return GuardResponses(
        always={
            401: "The sandbox runs with a control token and the call did not present it",
            403: "The Host is not a loopback name, the bound address or an allowed host",
        },
        changes={415: "A change not sent as application/json (or YAML, for snapshots)"},
        scheme="controlToken",
    )


def outbox_settings(settings: Settings) -> OutboxSettings:
    """The outbox's settings, from the sandbox's; a bad value is a ValueError naming the
    environment variable (``serve`` builds them before starting any worker)."""
    try:
        retention = parse_duration(settings.outbox_retention)
    except ValueError as exc:
        raise ValueError(f"{ENV_PREFIX}OUTBOX_RETENTION: {exc}") from None
    return OutboxSettings(
        self_url=settings.self_url,
        timeout=settings.outbox_timeout,
        max_attempts=settings.outbox_max_attempts,
        jitter=settings.outbox_jitter,
        retention=retention,
        keep=settings.outbox_keep,
        senders=settings.outbox_senders,
    )


def load_configured_fixtures(settings: Settings) -> Fixtures:
    return load_fixtures(settings.fixtures, defaults=default_fixtures_dir())


def prepare_store(settings: Settings, fixtures: Fixtures, reset: bool = False) -> Database:
    """Create the schema; seed the fixtures when the store is new (or ``reset``)."""
    db = open_database(settings.store_location)
    db.ensure_schema()
    seed_once(db, fixtures, reset)
    return db


def seed_once(db: Database, fixtures: Fixtures, reset: bool) -> None:
    """Seed a new store (or any, on ``reset``): once, even when several workers, or several
    instances sharing the store, start at the same time."""
    if reset or db.get_meta("seeded_at") is None:
        with db.write():
            if reset or db.get_meta("seeded_at") is None:
                seed_all(db, fixtures, load_clock(db).now())


# The modules whose classes the store's copy of the fixtures is made of: a change to any of
# them (a new sandbox, or a developer's edit) means loading the fixture files again.
_FIXTURE_CODE = ("core/fixtures.py", "core/machine.py", "core/magic.py", "core/money.py")


def prepare_for_serving(settings: Settings, reset: bool = False) -> tuple[Fixtures, bool]:
    """What ``serve`` does once before its workers start (in a process of its own, so the
    memory that parsing a large fixture takes is given back when it ends): the schema; the
    fixtures loaded and checked; the store seeded when new (or ``reset``); the fixtures' bulk
    written to the store. Returns the fixtures without their bulk, which every worker gets,
    and whether the files were parsed: files unchanged since the last start are not."""
    db = open_database(settings.store_location)
    try:
        db.ensure_schema()
        package = Path(__file__).parent
        digest = source_digest(
            settings.fixtures, default_fixtures_dir(), [package / name for name in _FIXTURE_CODE]
        )
        light = templates.load_light(db.read(), digest, db.location)
        if light is not None:
            seed_once(db, light, reset)  # the bulk streams from the store
            return light, False
        fixtures = load_configured_fixtures(settings)
        seed_once(db, fixtures, reset)
        with db.write() as conn:
            light = keep_bulk(conn, fixtures, db.location)
            templates.save_light(conn, light, digest)
        return light, True
    finally:
        db.close()  # this process ends next; its connections with it


def create_app(
    settings: Settings | None = None, fixtures: Fixtures | None = None, background: bool = False
) -> Flask:
    """The whole sandbox. ``background`` starts the outbox's delivery thread (``serve`` does;
    in-process tests deliver with ``POST /_sandbox/outbox/drain`` instead)."""
    settings = settings or Settings.from_env()
    fixtures = fixtures or load_configured_fixtures(settings)
    db = prepare_store(settings, fixtures)
    clock = Clock(functools.partial(load_clock, db))
    ids = Ids(settings.seed)
    journal = Journal(db, clock, settings.journal_max_entries)
    faults = Faults(db, clock, settings.seed)
    outbox = Outbox(db, clock, outbox_settings(settings), journal, faults)
    # The platform: state changes tell the webhooks, in the same transaction.
    webhooks = Webhooks(db, clock, outbox)
    lifecycle = Lifecycle(db, fixtures.machines, PlatformEvents(webhooks, fixtures))
    platform = PlatformService(db, fixtures, clock, lifecycle, Callbacks(db, lifecycle, clock))
    info = settings.hkdf_info.encode()
    checkout = CheckoutService(db, fixtures, clock, outbox, ids, lifecycle, settings.self_url, info)
    rate_limiter = RateLimiter(db, clock, settings.rate_limit != "off")
    oauth = OAuthService(db, clock, ids, outbox.resolve)
    # The fake payment app: it shares nothing with the platform but the outbox it sends by.
    keys = CardKeys(settings.psp_private_key_path.read_text(), info)
    psp = PspService(db, clock, ids, fixtures.magic, keys, settings.self_url, outbox)
    # What the outbox does with answers: check every app answer against seed 001; remember
    # a payment's 3-D Secure or redirect URL; ask the app when no result comes; apply what it
    # answers; count a webhook's failures in a row.
    answers = AppAnswers(db, fixtures, clock, outbox, platform.callbacks)
    for request in APP_REQUESTS:
        outbox.checks[f"app.{request}"] = answers.check
    outbox.on_delivered["app.payment"] = answers.payment_answered
    outbox.on_delivered["app.offsite_payment"] = answers.payment_answered
    outbox.on_delivered["app.refund"] = answers.refund_answered
    outbox.on_delivered["app.get_payment"] = answers.payment_status
    outbox.on_delivered["app.get_refund"] = answers.refund_status
    outbox.on_attempt["webhook"] = webhooks.after_attempt

    app = Flask("sandbox")
    app.url_map.converters["int"] = BoundedInt  # before any route is added
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        JSON_SORT_KEYS=False,
    )
    app.json = FastJsonProvider(app)  # compact, keys in order, through orjson
    app.extensions[EXTENSION] = Services(
        settings=settings,
        db=db,
        fixtures=fixtures,
        clock=clock,
        ids=ids,
        platform=platform,
        control=ControlService(db, fixtures, clock, ids, outbox, journal, lifecycle),
        outbox=outbox,
        psp=psp,
        checkout=checkout,
        journal=journal,
        rate_limiter=rate_limiter,
        oauth=oauth,
        webhooks=webhooks,
        faults=faults,
        guard=ControlGuard.configure(
            settings.host,
            settings.public_url,
            settings.allowed_hosts.split(","),
            settings.control_token,
        ),
    )
    app.extensions[PLATFORM_EXTENSION] = PlatformSurface(platform, oauth, webhooks, rate_limiter)
    app.extensions[PSP_EXTENSION] = psp
    apis = {}
    for name, (title, description, blueprints) in SURFACES.items():
        prefix = f"{name.upper().replace('-', '_')}_"
        app.config.update(
            {
                f"{prefix}API_TITLE": title,
                f"{prefix}API_VERSION": __version__,
                f"{prefix}OPENAPI_VERSION": "3.0.3",
                f"{prefix}API_SPEC_OPTIONS": {"info": {"description": description}},
            }
        )
        plugins: list[BasePlugin] = [Int64PathParameters()]
        if name == "control":
            plugins.append(control_guard_responses())
        api = Api(app, config_prefix=prefix, spec_kwargs={"extra_plugins": plugins})
        api.register_field(Flag, "string", None)  # booleans go over the wire as strings
        api.ma_plugin.converter.add_attribute_function(document_wire_alternatives)
        api.spec.components.security_scheme(
            "accessToken", {"type": "apiKey", "in": "header", "name": "X-Genstore-Access-Token"}
        )
        if name == "control":
            api.spec.components.security_scheme(
                "controlToken",
                {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Required on every call when the sandbox runs with "
                    "--control-token (GENSTORE_SANDBOX_CONTROL_TOKEN)",
                },
            )
        for blueprint in blueprints:
            api.register_blueprint(blueprint)
        apis[name] = api
    app.extensions["sandbox_apis"] = apis
    app.register_blueprint(psp_pages)
    app.register_blueprint(shop_pages)
    app.register_blueprint(dashboard)
    install_error_handlers(app)
    journaling = settings.journal != "off"
    facts = PlatformRequestFacts(db, platform)
    journal.facts = facts
    log = None
    if settings.request_log != "off" and background:
        log = RequestLog(lambda shop_id: _shop_handle(db, shop_id))
        outbox.log = log
    install_request_hooks(app, db, faults, journal if journaling else None, facts, log)
    register_docs(app)
    if background:
        outbox.start()
        if journaling:
            journal.start()
    return app


def _shop_handle(db: Database, shop_id: int) -> str | None:
    shop = load_shop(db.read(), shop_id)
    return shop.handle if shop is not None else None
