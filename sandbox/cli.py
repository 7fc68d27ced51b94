"""``genstore-sandbox``: serve, spec, fixtures check."""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import socket
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import requests

from sandbox import __version__
from sandbox.cli_control import add_commands as add_control_commands
from sandbox.cli_control import control_token_option
from sandbox.cli_keys import add_command as add_keys_command
from sandbox.client import DEFAULT_URL, ClientError, SandboxClient, render
from sandbox.control.guard import exposure_warning
from sandbox.core.fixtures import FixtureError, Fixtures, load_fixtures
from sandbox.protocol import CAPTURE_FLAG_READINGS
from sandbox.settings import WORKER_CLASSES, Settings, default_fixtures_dir
from sandbox.store import platform as rows
from sandbox.store.db import Database, StoreError, open_database, process_ended
from sandbox.store.journal import FORGET_SECONDS, LIVE_SECONDS, forget_workers
from sandbox.store.lock import StoreInUse
from sandbox.store.outbox import claimers, release_stale_claims


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except BrokenPipeError:  # the reader went away (| head): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genstore-sandbox",
        description="A local, offline, stateful emulator of Genstore's payment APIs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser("serve", help="start the sandbox (gunicorn, several workers)")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8080; 0 picks a free one)")
    serve.add_argument("--fixtures", type=Path, help="fixtures directory or YAML file")
    serve.add_argument(
        "--data-dir", type=Path, help="where the store lives (default .sandbox-data)"
    )
    serve.add_argument(
        "--database",
        metavar="URL",
        help="the store: a SQLite file's path (default DATA_DIR/sandbox.sqlite3), or a "
        "postgresql://user:password@host/db URL that several instances share",
    )
    serve.add_argument(
        "--workers", type=int, help="worker processes (default 2 per CPU, from 2 to 8)"
    )
    serve.add_argument("--threads", type=int, help="threads per worker (default 2)")
    serve.add_argument(
        "--worker-class",
        choices=WORKER_CLASSES,
        help="gunicorn worker class (default gthread; sync runs one request per worker)",
    )
    serve.add_argument("--reset", action="store_true", help="reseed the store from the fixtures")
    serve.add_argument("--journal", choices=["on", "off"], help="journal inbound requests (on)")
    serve.add_argument(
        "--quiet",
        action="store_const",
        const="off",
        dest="request_log",
        help="no line per exchange on the terminal ($GENSTORE_SANDBOX_REQUEST_LOG=off)",
    )
    serve.add_argument("--seed", type=int, help="repeatable ids and probabilistic faults")
    serve.add_argument(
        "--rate-limit", choices=["on", "off"], help="apply the shops' rate limits (on)"
    )
    serve.add_argument(
        "--control-token",
        metavar="TOKEN",
        help="require this token on every /_sandbox call (default $GENSTORE_SANDBOX_CONTROL_TOKEN)",
    )
    serve.add_argument(
        "--allowed-host",
        action="append",
        metavar="NAME",
        help="a Host name that may reach /_sandbox besides loopback names and the bound "
        "address (repeatable; '*' allows any)",
    )
    serve.add_argument(
        "--public-url",
        metavar="URL",
        help="the URL people and apps reach this sandbox at, when not http://HOST:PORT (a "
        "proxy or load balancer in front; $GENSTORE_SANDBOX_PUBLIC_URL)",
    )
    serve.set_defaults(handler=cmd_serve)

    spec = commands.add_parser("spec", help="write the OpenAPI documents")
    spec.add_argument(
        "--out", type=Path, default=Path("openapi"), help="directory (default openapi)"
    )
    spec.set_defaults(handler=cmd_spec)

    fixtures = commands.add_parser("fixtures", help="work with fixture files")
    fixture_commands = fixtures.add_subparsers(title="fixtures commands", metavar="COMMAND")
    check = fixture_commands.add_parser("check", help="validate fixtures and state machines")
    check.add_argument("path", type=Path, help="a fixtures directory or YAML file")
    check.set_defaults(handler=cmd_fixtures_check)
    generate = fixture_commands.add_parser(
        "generate", help="write a large fixtures file (load tests, benchmarks)"
    )
    generate.add_argument("--payments", type=int, default=100_000, help="default 100000")
    generate.add_argument(
        "--waiting",
        type=int,
        default=0,
        help="how many of them (the last) wait for the app's result callback (default 0)",
    )
    generate.add_argument("--handle", default="load", help="the shop's handle (default load)")
    generate.add_argument(
        "--out",
        type=Path,
        required=True,
        help="the file to write: *.json as JSON (parses far faster), else YAML; '-' for stdout",
    )
    generate.add_argument("--json", action="store_true", help="JSON whatever the file's name")
    generate.set_defaults(handler=cmd_fixtures_generate)
    fixtures.set_defaults(handler=lambda args: _help(fixtures))

    def client_options(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--url", help=f"the sandbox (default $GENSTORE_SANDBOX_URL or {DEFAULT_URL})"
        )
        command.add_argument("--shop", default="demo", help="shop handle (default demo)")
        control_token_option(command)
        command.add_argument(
            "--timeout",
            "--wait",
            dest="timeout",
            type=float,
            default=10.0,
            metavar="SECONDS",
            help="how long to wait for the result (default 10)",
        )
        command.add_argument(
            "--expect",
            metavar="STATE",
            help="the state it must end in, else exit 3 (default: the verb's success: paid, "
            "or authorized with --manual-capture; the operation's succeeded)",
        )
        command.add_argument("--json", action="store_true", help="print JSON for scripts")

    checkout = commands.add_parser("checkout", help="start a payment on a running sandbox")
    checkout.add_argument("--card", help="card number (default 4242424242424242)")
    checkout.add_argument("--magic", help="a magic value's name instead of a card")
    checkout.add_argument("--amount", help="amount (default 25.00)")
    checkout.add_argument("--currency", help="ISO 4217 code (default the shop's)")
    checkout.add_argument("--holder", help="card holder name")
    checkout.add_argument("--manual-capture", action="store_true", help="authorize only")
    checkout.add_argument("--offsite", action="store_true", help="offsite (redirect) payment")
    checkout.add_argument("--app", help="payment app name (default the shop's first)")
    client_options(checkout)
    checkout.set_defaults(handler=cmd_checkout)
    add_control_commands(commands)
    add_keys_command(commands)
    for verb, text in (
        ("capture", "capture an authorized payment"),
        ("void", "void an authorized payment"),
        ("refund", "refund a captured payment"),
    ):
        command = commands.add_parser(verb, help=text)
        command.add_argument("payment_id", metavar="PAYMENT_ID")
        if verb != "void":
            command.add_argument("--amount", help="default: all that is left")
        client_options(command)
        command.set_defaults(handler=cmd_operation, verb=verb)
    add_verify(commands)
    return parser


def add_verify(commands: argparse._SubParsersAction) -> None:
    verify = commands.add_parser(
        "verify",
        help="run the conformance cases against a payment app",
        description="Drive a payment app through what Genstore expects of it (seeds 000 and "
        "001) in a fresh shop of a running sandbox; exit 0 only when no case fails. What the "
        "seeds leave open is advice, printed as a warning (--strict fails on it).",
    )
    verify.add_argument(
        "--url", help=f"the sandbox (default $GENSTORE_SANDBOX_URL or {DEFAULT_URL})"
    )
    control_token_option(verify)
    verify.add_argument(
        "--app-config",
        type=Path,
        metavar="FILE",
        help="register your app for the run, as Genstore registers one: a YAML or JSON file "
        "with the fields of POST /_sandbox/apps (name, urls per call on any host and path, "
        "publicKey or publicKey: '@key.b64', accessToken, clientSecret, captureFlag, "
        "statusQuery)",
    )
    verify.add_argument(
        "--app", help="the app's name: in --shop, or of the fixture shop (default sandbox-psp)"
    )
    verify.add_argument(
        "--shop",
        metavar="HANDLE",
        help="run in this shop, where the app is already registered (default: a fresh shop)",
    )
    verify.add_argument(
        "--app-url",
        help="a shortcut for --app-config: your app's seven calls under this URL (/payments, "
        "/offsite_payments, /captures, /voids, /refunds, /payment, /refund)",
    )
    verify.add_argument("--public-key", help="with --app-url: base64 SPKI DER, or @FILE")
    verify.add_argument(
        "--access-token", help="with --app-url: the token your app's callbacks carry"
    )
    verify.add_argument(
        "--capture-flag", choices=list(CAPTURE_FLAG_READINGS), default="published",
        help="with --app-url: how your app reads manualCapture (default published: seed "
        "001's text)",
    )  # fmt: skip
    verify.add_argument("--template", help="the fixture shop to copy (default the first)")
    verify.add_argument(
        "--only", action="append", metavar="CASE",
        help="run only these cases (repeat, or a,b; 'case' runs every shape, 'case[full]' one)",
    )  # fmt: skip
    verify.add_argument("--list", action="store_true", help="list the cases and stop")
    verify.add_argument("--strict", action="store_true", help="fail on advice too")
    verify.add_argument("--junit-xml", type=Path, metavar="PATH", help="write a JUnit report")
    verify.add_argument("--json", action="store_true", help="print JSON for scripts")
    verify.add_argument(
        "--verbose", action="store_true", help="the journal excerpt under every case"
    )
    verify.add_argument(
        "--timeout", type=float, default=10.0, metavar="SECONDS",
        help="how long verify waits for each result (default 10)",
    )  # fmt: skip
    verify.add_argument(
        "--wait-for-sandbox", type=float, default=30.0, metavar="SECONDS",
        help="how long to wait for the sandbox to answer (one just started; default 30)",
    )  # fmt: skip
    verify.set_defaults(handler=cmd_verify)


def _verify_target(args: argparse.Namespace) -> Any:
    """The app under test from the options; ValueError says what is wrong with them."""
    from sandbox.conformance import runner

    if args.app_config and args.app_url:
        raise ValueError("give --app-config or --app-url, not both")
    if args.shop and (args.app_config or args.app_url):
        raise ValueError("--shop runs an app already registered there: give --app, not a config")
    if args.app_config:
        registration = load_app_config(args.app_config)
        return runner.Target(registration.get("name") or "app-under-test", registration)
    if args.app_url:
        key = args.public_key
        if key and key.startswith("@"):
            key = _read_key_file(Path(key[1:]))
        if not key:
            raise ValueError("--app-url needs --public-key")
        registration = runner.shortcut_registration(
            args.app_url, key, args.access_token, args.capture_flag
        )
        return runner.Target(args.app or "app-under-test", registration)
    return runner.Target(args.app or "sandbox-psp", None, args.shop)


def load_app_config(path: Path) -> dict[str, Any]:
    """An app as ``POST /_sandbox/apps`` takes it, from YAML or JSON (YAML reads both);
    ``publicKey: "@FILE"`` reads the key from a file beside it."""
    import yaml

    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read the app config {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"the app config {path} is not YAML or JSON: {exc}") from None
    if not isinstance(config, dict) or not isinstance(config.get("urls"), dict):
        raise ValueError(
            f"the app config {path} must be a mapping with urls (the fields of POST "
            "/_sandbox/apps: name, urls, publicKey, accessToken, ...)"
        )
    key = config.get("publicKey")
    if isinstance(key, str) and key.startswith("@"):
        config["publicKey"] = _read_key_file(path.parent / key[1:])
    return config


def _read_key_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"cannot read the public key {path}: {exc.strerror}") from None


def cmd_verify(args: argparse.Namespace) -> int:
    from sandbox.conformance import runner
    from sandbox.testing.live import Sandbox

    try:
        cases = runner.select([n for item in args.only or [] for n in item.split(",") if n])
        target = _verify_target(args)
    except ValueError as exc:
        print(f"genstore-sandbox: {exc}", file=sys.stderr)
        return 2
    if args.list:
        for planned in cases:
            print(f"{planned.name:42} {planned.case.title} (seed {planned.case.seed})")
        return 0
    url = args.url or os.environ.get("GENSTORE_SANDBOX_URL") or DEFAULT_URL
    if not runner.wait_until_up(url, args.wait_for_sandbox, args.control_token):
        print(f"genstore-sandbox: cannot reach the sandbox at {url}", file=sys.stderr)
        return 2
    sandbox, notes = Sandbox(url, token=args.control_token), list[str]()
    try:
        ctx = runner.prepare(sandbox, target, args.template, notes)
    except ValueError as exc:
        print(f"genstore-sandbox: {exc}", file=sys.stderr)
        return 2
    except requests.HTTPError as exc:
        answer = exc.response.text[:300] if exc.response is not None else ""
        print(f"genstore-sandbox: the sandbox at {url} refused: {answer}", file=sys.stderr)
        return 2
    except requests.RequestException:
        print(f"genstore-sandbox: cannot reach the sandbox at {url}", file=sys.stderr)
        return 2
    for note in notes:
        print(f"genstore-sandbox: {note}", file=sys.stderr)
    outcomes = runner.run(ctx, cases, args.timeout, args.strict)
    found = sandbox.control("GET", "/coverage", params={"shop": ctx.shop.handle})
    coverage = found.json() if found.ok else None
    if args.junit_xml:
        args.junit_xml.write_bytes(runner.junit_report(outcomes))
    if args.json:
        print(runner.json_report(outcomes, coverage))
    else:
        print(f"Shop: {ctx.shop.handle} (genstore-sandbox coverage --shop {ctx.shop.handle})")
        print(runner.text_report(outcomes, args.verbose, coverage))
    return 1 if any(o.result == "fail" for o in outcomes) else 0


def cmd_serve(args: argparse.Namespace) -> int:
    from sandbox.app import outbox_settings, prepare_for_serving
    from sandbox.server import serve

    try:
        settings = Settings.from_env(
            host=args.host,
            port=args.port,
            fixtures=args.fixtures,
            data_dir=args.data_dir,
            database=args.database,
            workers=args.workers,
            threads=args.threads,
            worker_class=args.worker_class,
            journal=args.journal,
            request_log=args.request_log,
            rate_limit=args.rate_limit,
            seed=args.seed,
            control_token=args.control_token,
            allowed_hosts=",".join(args.allowed_host) if args.allowed_host else None,
            public_url=args.public_url,
        )
        if settings.workers < 1 or settings.threads < 1:
            raise ValueError("--workers and --threads must be at least 1")
        if settings.worker_class not in WORKER_CLASSES:
            raise ValueError(
                f"worker class {settings.worker_class!r}: use one of {', '.join(WORKER_CLASSES)}"
            )
        outbox_settings(settings)  # refused here, with its variable's name, not in a worker
        if settings.port == 0:  # choose now, so the sandbox knows its own URL for callbacks
            settings = dataclasses.replace(settings, port=free_port(settings.host))
        check_port_free(settings.host, settings.port)
        # Before anything touches the store (a --reset would wipe another sandbox's state).
        db = open_database(settings.store_location)
        held = db.hold(settings.self_url)  # SQLite: its lock file; PostgreSQL: it answers
        fixtures, parsed = in_child_process(prepare_for_serving, settings, args.reset)
        release_claims_of_the_gone(db)
    except FixtureError as exc:
        print(f"genstore-sandbox: the fixtures are invalid:\n{exc}", file=sys.stderr)
        return 1
    except (StoreError, StoreInUse, ValueError, OSError) as exc:
        print(f"genstore-sandbox: {exc}", file=sys.stderr)
        return 1

    def banner(listeners: list[str]) -> None:
        print(render_banner(settings, db, listeners, fixtures, parsed), flush=True)
        db.close()  # the workers fork next: each opens connections of its own
        warning = exposure_warning(settings.host, settings.control_token)
        if warning:
            print(warning, file=sys.stderr, flush=True)

    try:
        return serve(settings, banner, fixtures)
    finally:
        if held is not None:
            held.close()


def release_claims_of_the_gone(db: Database) -> None:
    """What a stopped or killed sandbox was sending goes out again now: with a store of its
    own, every claim in it; with a shared one, those of this host's processes that have
    ended and of any process that stopped beating."""
    now = time.time()
    with db.write() as conn:
        if db.exclusive:
            release_stale_claims(conn, None)
        else:
            gone = [key for key in claimers(conn) if process_ended(key)]
            release_stale_claims(conn, now - LIVE_SECONDS, gone)
        forget_workers(conn, now - FORGET_SECONDS)


def in_child_process(function, *args):
    """``function(*args)`` in a forked process of its own, which then ends: what it took in
    memory goes back to the system rather than staying in the process every worker forks
    from. Its result and its exceptions come back pickled."""
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, *args).result()


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def check_port_free(host: str, port: int) -> None:
    """Fail fast and clearly rather than through gunicorn's five retries."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ValueError(
                f"cannot listen on {host}:{port} ({exc.strerror}); is another sandbox running? "
                "Pick another port with --port"
            ) from None


def _concurrency(settings: Settings) -> str:
    if settings.worker_class == "sync":
        return f"{settings.workers} sync workers"
    return f"{settings.workers} workers x {settings.threads} threads"


def _store_note(db: Database) -> str:
    if db.exclusive:
        return "kept across restarts; --reset reseeds"
    return "shared: every instance on it is one sandbox; --reset reseeds it for all"


def render_banner(
    settings: Settings, db, listeners: list[str], fixtures: Fixtures, parsed: bool
) -> str:
    base = listeners[0] if listeners else f"http://{settings.host}:{settings.port}"
    lines = [
        f"Genstore Sandbox {__version__} listening on {base} ({_concurrency(settings)}, gunicorn)",
        f"  dashboard       {base}/_sandbox/ui",
        f"  docs            {base}/docs",
        f"  platform API    {base}/openapi/platform.yaml (under /api/202412/ and /orders/)",
        f"  payment app API {base}/openapi/payment-app.yaml (the fake app, under /psp/)",
        f"  control API     {base}/openapi/control.yaml (under /_sandbox/)",
        f"  store           {db.describe()} ({_store_note(db)})",
        f"  fixtures        {settings.fixtures} ({fixtures.summary()}; "
        + ("loaded from the files)" if parsed else "unchanged since the last start: not parsed)"),
    ]
    conn = db.read()
    for shop in rows.list_shops(conn)[:5]:
        lines.append(f"Shop {shop.handle} ({shop.domain}) tokens:")
        for token in rows.list_tokens(conn, shop.id, live_only=True):
            owner = f"app {token.app_name}: " if token.app_name else ""
            lines.append(f"  {token.token:<34} {owner}{token.scopes}")
    first = rows.first_payment_id(conn)
    reader = rows.first_token_with_scope(conn, "payments_transaction")
    if first and reader:
        lines.append(
            f"Try: curl -H 'X-Genstore-Access-Token: {reader}' {base}/api/202412/payment/{first}"
        )
    return "\n".join(lines)


def cmd_checkout(args: argparse.Namespace) -> int:
    def start(client: SandboxClient) -> tuple[str, str | None]:
        started = client.checkout(
            card=args.card,
            magic=args.magic,
            amount=args.amount,
            currency=args.currency,
            holder=args.holder,
            manualCapture=args.manual_capture,
            offsite=args.offsite,
            app=args.app,
        )
        return started["paymentId"], None

    expected = args.expect or ("authorized" if args.manual_capture else "paid")
    return _drive(args, start, expected)


def cmd_operation(args: argparse.Namespace) -> int:
    def start(client: SandboxClient) -> tuple[str, str | None]:
        started = client.operation(args.payment_id, args.verb, getattr(args, "amount", None))
        return args.payment_id, started["id"]

    return _drive(args, start, args.expect or "succeeded")


# Exit codes of checkout, capture, void and refund (the README lists them).
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_ELSEWHERE, EXIT_TIMEOUT = 0, 1, 2, 3, 4


def _drive(args: argparse.Namespace, start, expected: str) -> int:
    """Start something on a running sandbox, wait for its outcome, print the timeline; exit 0
    only when it ended in ``expected``."""
    client = SandboxClient(args.url, args.shop, args.control_token)
    try:
        payment_id, operation_id = start(client)
        current = client.wait(payment_id, operation_id, args.timeout)
    except ClientError as exc:
        print(f"genstore-sandbox: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(json.dumps(current, indent=2) if args.json else render(current))
    payment = current["payment"]
    if operation_id is None:
        state, pending = payment["state"], payment["transactionStatus"] == "1"
        what = f"payment {payment_id}"
    else:
        operation = next(o for o in payment["operations"] if o["id"] == operation_id)
        state, pending = operation["state"], operation["state"] == "pending"
        what = f"{operation['kind']} {operation_id}"
    if state == expected:
        return EXIT_OK
    if pending:
        print(
            f"genstore-sandbox: {what} is still {state} after {args.timeout:g}s "
            f"(expected {expected})",
            file=sys.stderr,
        )
        return EXIT_TIMEOUT
    print(f"genstore-sandbox: {what} ended {state}, expected {expected}", file=sys.stderr)
    return EXIT_ELSEWHERE


def cmd_spec(args: argparse.Namespace) -> int:
    from sandbox.app import SURFACES, create_app
    from sandbox.docs import spec_yaml

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(data_dir=Path(tmp)))
        args.out.mkdir(parents=True, exist_ok=True)
        for name in SURFACES:
            target = args.out / f"{name}.yaml"
            target.write_text(spec_yaml(app, name), encoding="utf-8")
            print(f"wrote {target}")
    return 0


def cmd_fixtures_check(args: argparse.Namespace) -> int:
    try:
        fixtures = load_fixtures(args.path, defaults=default_fixtures_dir())
    except FixtureError as exc:
        print(f"{args.path}: invalid\n{exc}", file=sys.stderr)
        return 1
    print(f"{args.path}: OK ({fixtures.summary()})")
    return 0


def cmd_fixtures_generate(args: argparse.Namespace) -> int:
    from sandbox.core.generate import write_fixture

    if args.payments < 0 or not 0 <= args.waiting <= args.payments:
        print(
            "genstore-sandbox: --payments must be 0 or more and --waiting between 0 and it",
            file=sys.stderr,
        )
        return 2
    if str(args.out) == "-":
        write_fixture(sys.stdout, args.payments, args.handle, args.json, args.waiting)
        return 0
    as_json = args.json or args.out.suffix == ".json"
    try:
        with args.out.open("w", encoding="utf-8") as out:
            write_fixture(out, args.payments, args.handle, as_json, args.waiting)
    except OSError as exc:
        print(f"genstore-sandbox: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({args.payments} payments in shop {args.handle})")
    return 0


def _help(parser: argparse.ArgumentParser) -> int:
    """A command group run without a command: its help, and exit code 2."""
    parser.print_help()
    return 2
