"""CLI verbs for the control API of a running sandbox: journal, faults, clock, reset,
snapshot, deliveries, launch-url. Each prints a readable summary, or JSON with ``--json``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sandbox.client import DEFAULT_URL, ClientError, SandboxClient, render_coverage
from sandbox.settings import CONTROL_TOKEN_ENV


def add_commands(commands) -> None:
    def common(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--url", help=f"the sandbox (default $GENSTORE_SANDBOX_URL or {DEFAULT_URL})"
        )
        control_token_option(command)
        command.add_argument("--json", action="store_true", help="print JSON for scripts")

    journal = commands.add_parser("journal", help="list recorded HTTP exchanges, newest first")
    journal.add_argument("--shop")
    journal.add_argument("--payment", help="a payment id")
    journal.add_argument("--direction", choices=["inbound", "outbound"])
    journal.add_argument("--kind", help="e.g. app.capture or 'POST /psp/captures'")
    journal.add_argument("--path", help="path prefix, or a pattern with *")
    journal.add_argument("--limit", type=int, default=20)
    journal.add_argument("--count", action="store_true", help="only count the matches")
    journal.add_argument(
        "--har",
        type=Path,
        metavar="FILE",
        help="write the matches as an HTTP Archive (HAR 1.2), oldest first ('-': stdout)",
    )
    common(journal)
    journal.set_defaults(handler=cmd_journal)

    faults = commands.add_parser("faults", help="list, arm or clear faults")
    faults.add_argument("action", choices=["list", "arm", "clear"], nargs="?", default="list")
    faults.add_argument(
        "--target", help="app.payment, app.capture, ..., callbacks, webhook, platform"
    )
    faults.add_argument("--kind", help="status, latency, drop, commit_lost, duplicate, reorder")
    faults.add_argument("--shop")
    faults.add_argument("--payment")
    faults.add_argument("--path")
    faults.add_argument("--count", type=int)
    faults.add_argument("--probability", type=float)
    faults.add_argument("--seed", type=int)
    faults.add_argument("--status", type=int)
    faults.add_argument("--latency-ms", type=int)
    faults.add_argument("--delay-seconds", type=float)
    faults.add_argument("--id", type=int, help="with clear: only this fault")
    common(faults)
    faults.set_defaults(handler=cmd_faults)

    clock = commands.add_parser("clock", help="show, freeze, set, unfreeze or advance the clock")
    clock.add_argument("--freeze", action="store_true")
    clock.add_argument("--unfreeze", action="store_true")
    clock.add_argument("--set", dest="now", help="ISO-8601 instant with an offset")
    clock.add_argument("--advance", help="seconds, or 90s, 15m, 48h, 2d")
    clock.add_argument("--shop", help="a shop's own clock (default: the global clock)")
    clock.add_argument(
        "--follow-global", action="store_true", help="with --shop: drop the shop's own clock"
    )
    common(clock)
    clock.set_defaults(handler=cmd_clock)

    shops = commands.add_parser("shops", help="list shops, or delete one with all it holds")
    shops.add_argument("action", choices=["list", "delete"], nargs="?", default="list")
    shops.add_argument("handle", nargs="?", help="with delete: the shop's handle")
    common(shops)
    shops.set_defaults(handler=cmd_shops)

    reset = commands.add_parser("reset", help="restore the fixtures (everything, or one shop)")
    reset.add_argument("--shop")
    common(reset)
    reset.set_defaults(handler=cmd_reset)

    snapshot = commands.add_parser("snapshot", help="export or import the state as YAML")
    snapshot.add_argument("action", choices=["export", "import"])
    snapshot.add_argument(
        "file", nargs="?", help="import: the file; export: where (default stdout)"
    )
    snapshot.add_argument("--shop", help="export one shop")
    snapshot.add_argument("--mode", choices=["merge", "replace"], default="merge")
    snapshot.add_argument(
        "--logs",
        choices=["keep", "drop"],
        default="keep",
        help="import: a replaced shop's journal, history and outbox carry over (keep) or go",
    )
    common(snapshot)
    snapshot.set_defaults(handler=cmd_snapshot)

    deliveries = commands.add_parser("deliveries", help="list webhook deliveries, or redeliver one")
    deliveries.add_argument("action", choices=["list", "redeliver"], nargs="?", default="list")
    deliveries.add_argument("id", nargs="?", type=int)
    deliveries.add_argument("--shop")
    deliveries.add_argument("--topic")
    common(deliveries)
    deliveries.set_defaults(handler=cmd_deliveries)

    coverage = commands.add_parser(
        "coverage",
        help="contract coverage: what a shop's app was exercised on, and how it did",
        description="Which items of the payment contract the shop's app was exercised on "
        "(request kinds and shapes, outcomes, callbacks, status answers, faults); exit 1 when "
        "below --min.",
    )
    coverage.add_argument("--shop", required=True, help="the shop's handle")
    coverage.add_argument(
        "--min", type=float, metavar="PERCENT", help="exit 1 when coverage is below this"
    )
    common(coverage)
    coverage.set_defaults(handler=cmd_coverage)

    launch = commands.add_parser("launch-url", help="the signed URL the platform opens an app with")
    launch.add_argument("--app", default="sandbox-psp")
    launch.add_argument("--shop", default="demo")
    launch.add_argument("--path", default="/")
    common(launch)
    launch.set_defaults(handler=cmd_launch)


def control_token_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--control-token",
        metavar="TOKEN",
        help=f"the sandbox's control token (default ${CONTROL_TOKEN_ENV}, if set)",
    )


def _run(args, call, render) -> int:
    try:
        result = call(SandboxClient(args.url, token=args.control_token))
    except (ClientError, OSError) as exc:
        print(f"genstore-sandbox: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2) if args.json else render(result))
    return 0


def _query(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def cmd_shops(args) -> int:
    if args.action == "delete":
        if not args.handle:
            print("genstore-sandbox: shops delete needs a HANDLE", file=sys.stderr)
            return 2
        path = f"/_sandbox/shops/{args.handle}"
        return _run(args, lambda c: c.call("DELETE", path), lambda r: f"deleted {r['deleted']}")

    def render(result):
        lines = [f"{s['handle']:24} {s['name']} ({s['domain']}, template {s['template']})"
                 for s in result["shops"]]  # fmt: skip
        return "\n".join(lines) or "(no shops)"

    return _run(args, lambda c: c.call("GET", "/_sandbox/shops"), render)


def cmd_coverage(args) -> int:
    try:
        report = SandboxClient(args.url, token=args.control_token).call(
            "GET", "/_sandbox/coverage", params={"shop": args.shop}
        )
    except (ClientError, OSError) as exc:
        print(f"genstore-sandbox: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2) if args.json else render_coverage(report))
    if args.min is not None and report["percent"] < args.min:
        print(
            f"genstore-sandbox: coverage {report['percent']:g}% is below --min {args.min:g}%",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_journal(args) -> int:
    query = _query(
        shop=args.shop,
        paymentId=args.payment,
        direction=args.direction,
        kind=args.kind,
        path=args.path,
    )
    if args.count:
        return _run(
            args,
            lambda c: c.call("GET", "/_sandbox/journal/count", params=query),
            lambda r: str(r["count"]),
        )

    def render(result):
        lines = []
        for e in result["entries"]:
            arrow = "<-" if e["direction"] == "inbound" else "->"
            status = e["status"] if e["status"] is not None else e["error"]
            fault = f"  [{e['fault']}]" if e["fault"] else ""
            lines.append(
                f"{e['at'][:23]} {arrow} {e['method']} {e['url']} {status} "
                f"{e['durationMs']:.0f}ms{fault}"
            )
        return "\n".join(lines) or "(no exchanges)"

    params = {**query, "limit": args.limit}
    if args.har is not None:
        return _write_har(args, params)
    return _run(args, lambda c: c.call("GET", "/_sandbox/journal", params=params), render)


def _write_har(args, params: dict[str, Any]) -> int:
    try:
        archive = SandboxClient(args.url, token=args.control_token).call(
            "GET", "/_sandbox/journal", params={**params, "format": "har"}
        )
        text = json.dumps(archive, indent=2, ensure_ascii=False) + "\n"
        if str(args.har) == "-":
            sys.stdout.write(text)
        else:
            args.har.write_text(text, encoding="utf-8")
            count = len(archive["log"]["entries"])
            print(f"wrote {args.har} ({count} entr{'y' if count == 1 else 'ies'}, HAR 1.2)")
    except (ClientError, OSError) as exc:
        print(f"genstore-sandbox: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_faults(args) -> int:
    if args.action == "list":

        def render(result):
            lines = []
            for f in result["faults"]:
                where = f" {f['path']}" if f["path"] else ""
                left = f["remaining"] if f["remaining"] is not None else f"p={f['probability']}"
                lines.append(
                    f"#{f['id']} {f['kind']} on {f['target']}{where}: "
                    f"fired {f['fired']}, remaining {left}"
                )
            return "\n".join(lines) or "(no faults)"

        return _run(args, lambda c: c.call("GET", "/_sandbox/faults"), render)
    if args.action == "clear":
        path = f"/_sandbox/faults/{args.id}" if args.id else "/_sandbox/faults"
        return _run(args, lambda c: c.call("DELETE", path), lambda r: f"cleared {r['cleared']}")
    if not args.target or not args.kind:
        print("genstore-sandbox: faults arm needs --target and --kind", file=sys.stderr)
        return 2
    body = _query(
        target=args.target,
        kind=args.kind,
        shop=args.shop,
        paymentId=args.payment,
        path=args.path,
        count=args.count,
        probability=args.probability,
        seed=args.seed,
        status=args.status,
        latencyMs=args.latency_ms,
        delaySeconds=args.delay_seconds,
    )
    return _run(
        args,
        lambda c: c.call("POST", "/_sandbox/faults", json=body),
        lambda f: f"armed fault #{f['id']}: {f['kind']} on {f['target']}",
    )


def cmd_clock(args) -> int:
    body = _query(
        now=args.now,
        advance=args.advance,
        frozen=True if args.freeze else False if args.unfreeze else None,
        own=False if args.follow_global else None,
    )
    method = "POST" if body else "GET"
    if body and args.shop:
        body["shop"] = args.shop
    query = f"?shop={args.shop}" if args.shop and not body else ""
    return _run(
        args,
        lambda c: c.call(method, "/_sandbox/clock" + query, json=body or None),
        lambda r: (
            f"{r['now']} ({'frozen' if r['frozen'] else 'running'})"
            + (
                f" shop {r['shop']}{'' if r['own'] else ', following the global clock'}"
                if r["shop"]
                else ""
            )
        ),
    )


def cmd_reset(args) -> int:
    return _run(
        args,
        lambda c: c.call("POST", "/_sandbox/reset", json=_query(shop=args.shop)),
        lambda r: f"reset {r['reset']}: {', '.join(r['shops'])}",
    )


def cmd_snapshot(args) -> int:
    if args.action == "export":

        def export(client):
            response = client.raw("GET", "/_sandbox/snapshots", params=_query(shop=args.shop))
            if args.file:
                Path(args.file).write_text(response, encoding="utf-8")
                return {"written": args.file}
            return {"snapshot": response}

        return _run(
            args,
            export,
            lambda r: f"wrote {r['written']}" if "written" in r else r["snapshot"].rstrip("\n"),
        )
    if not args.file:
        print("genstore-sandbox: snapshot import needs a FILE", file=sys.stderr)
        return 2

    def load(client):
        text = Path(args.file).read_text(encoding="utf-8")
        return client.call(
            "POST",
            "/_sandbox/snapshots",
            params={"mode": args.mode, "logs": args.logs},
            data=text.encode(),
            headers={"Content-Type": "application/yaml"},
        )

    def summary(result: dict) -> str:
        kept = ", ".join(result["logsKept"]) or "none replaced"
        return (
            f"imported {', '.join(result['imported'])} ({result['mode']}); logs "
            f"{result['logs']} ({kept}); {result['cancelledMessages']} unsent messages cancelled"
        )

    return _run(args, load, summary)


def cmd_deliveries(args) -> int:
    if args.action == "redeliver":
        if args.id is None:
            print("genstore-sandbox: deliveries redeliver needs an ID", file=sys.stderr)
            return 2
        return _run(
            args,
            lambda c: c.call("POST", f"/_sandbox/deliveries/{args.id}/redeliver"),
            lambda d: f"delivery #{d['id']} scheduled",
        )

    def render(result):
        lines = [
            f"#{d['id']} {d['topic']} -> {d['address']}: {d['state']} after "
            f"{d['attempts']} attempt(s), last {d['lastStatus'] or d['lastError']}"
            for d in result["deliveries"]
        ]
        return "\n".join(lines) or "(no deliveries)"

    query = _query(shop=args.shop, topic=args.topic)
    return _run(args, lambda c: c.call("GET", "/_sandbox/deliveries", params=query), render)


def cmd_launch(args) -> int:
    query = {"shop": args.shop, "path": args.path}
    return _run(
        args,
        lambda c: c.call("GET", f"/_sandbox/apps/{args.app}/launch", params=query),
        lambda r: r["url"],
    )
