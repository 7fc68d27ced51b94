"""``make bench``: the sandbox's read path against a bare Flask app, same server, same run.

Starts ``genstore-sandbox serve`` exactly as ``make run`` does (gunicorn, same workers and
threads) and a bare Flask app that returns the same bytes under the same gunicorn settings,
waits until every worker answers, warms both, then loads ``GET /api/202412/payment/{id}`` with
wrk (installed from Debian when missing) in interleaved rounds, so drift on a noisy machine
hits both alike. It measures the sandbox twice, both with ``--rate-limit off`` (Genstore's
2 requests per second would make any throughput figure meaningless): as ``serve`` runs
otherwise (the journal records every request), and with ``--journal off`` as load tests
should run it. Prints median
requests/s, p50, p99 and the ratios; the goal is 0.8x the bare app or better. Then the
legacy order read (``GET /orders/{id}/payments``) next to the transaction read, full checkout
flows settled per second (checkout, the encrypted request to the fake app, its callback,
paid), and the time from start to the first 200, sandbox and bare app. Every figure also goes
to a JSON file (``--json``, default ``bench-results.json``). A benchmark, not a test: it never
fails on a number.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from sandbox.settings import Settings
from sandbox.testing.live import LiveSandbox

PAYMENT = "PI0020261101000000001"
TOKEN = "gst_demo_merchant_read"
PATH = f"/api/202412/payment/{PAYMENT}"
LEGACY_PATH = "/orders/1001/payments"
LEGACY_TOKEN = "gst_demo_merchant_admin"
GOAL = 0.8


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing it from Debian's packages (apt-get install wrk)")
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"], check=False, stdout=subprocess.DEVNULL
    )
    found = shutil.which("wrk")
    if not found:
        sys.exit("make bench needs wrk: apt-get install wrk (or brew install wrk)")
    return found


def run_wrk(
    wrk: str, url: str, seconds: int, connections: int, token: str = TOKEN
) -> dict[str, float]:
    command = [
        wrk,
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-H",
        f"X-Genstore-Access-Token: {token}",
        url,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _millis(re.search(r"\s50%\s+([\d.]+\w+)", output).group(1)),
        "p99": _millis(re.search(r"\s99%\s+([\d.]+\w+)", output).group(1)),
        "errors": float(len(re.findall(r"Non-2xx|Socket errors", output))),
    }


def _millis(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


class BareApp:
    def __init__(self, body_file: Path, workers: int, threads: int):
        command = [sys.executable, "-m", "tests.perf.bare_app", str(body_file)]
        self.process = subprocess.Popen(
            [*command, str(workers), str(threads)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.url = ""
        ready = threading.Event()

        def read():
            for line in self.process.stdout:
                if match := re.search(r"listening on (http://\S+)", line):
                    self.url = match.group(1)
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(30) or not self.url:
            raise RuntimeError("the bare app did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)


def wait_for_workers(url: str, workers: int, attempts: int = 200) -> None:
    """Every worker answers before measuring (a booting worker would skew the first round)."""
    seen: set[int] = set()
    for _ in range(attempts):
        with requests.Session() as session:
            seen.add(session.get(url + "/_sandbox/health", timeout=10).json()["worker"])
        if len(seen) >= workers:
            return
    print(f"warning: only {len(seen)} of {workers} workers answered")


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="per round (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--flows", type=int, default=1000, help="checkouts to settle (1000)")
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"))
    args = parser.parse_args()
    wrk = ensure_wrk()
    settings = Settings()
    print(
        f"workers={settings.workers} threads={settings.threads} connections={args.connections} "
        f"{args.rounds} rounds of {args.seconds}s each, interleaved; path GET {PATH}"
    )
    names = {
        "journal": "sandbox, journal on",
        "quiet": "sandbox, journal off",
        "bare": "bare Flask (reference)",
    }
    results: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        servers = {
            "journal": stack.enter_context(
                sandbox_server(Path(tmp) / "a", settings, ("--rate-limit", "off"))
            ),
            "quiet": stack.enter_context(
                sandbox_server(
                    Path(tmp) / "b", settings, ("--rate-limit", "off", "--journal", "off")
                )
            ),
        }
        response = requests.get(
            servers["quiet"].url + PATH, headers={"X-Genstore-Access-Token": TOKEN}
        )
        response.raise_for_status()
        body_file = Path(tmp) / "body.json"
        body_file.write_bytes(response.content)
        bare = BareApp(body_file, settings.workers, settings.threads)
        stack.callback(bare.stop)
        wait_for_workers(bare.url, settings.workers)
        urls = {name: server.url + PATH for name, server in servers.items()}
        urls["bare"] = bare.url + PATH
        legacy_url = servers["journal"].url + LEGACY_PATH
        for url in urls.values():
            run_wrk(wrk, url, 2, args.connections)  # warm up
        legacy: list[dict[str, float]] = []
        for _ in range(args.rounds):
            for name, url in urls.items():
                results[name].append(run_wrk(wrk, url, args.seconds, args.connections))
            legacy.append(run_wrk(wrk, legacy_url, args.seconds, args.connections, LEGACY_TOKEN))
        flows = settle_flows(servers["journal"], args.flows)
    print(f"{'':<26}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}   (medians; rounds' req/s)")
    summary = {}
    for name, label in names.items():
        runs = results[name]
        summary[name] = {k: median([r[k] for r in runs]) for k in ("rps", "p50", "p99")}
        rounds = ", ".join(f"{r['rps']:.0f}" for r in runs)
        figures = summary[name]
        print(
            f"{label:<26}{figures['rps']:>10.0f}{figures['p50']:>10.2f}{figures['p99']:>10.2f}"
            f"   ({rounds})"
        )
    for name in ("quiet", "journal"):
        ratio = summary[name]["rps"] / summary["bare"]["rps"]
        verdict = "meets" if ratio >= GOAL else "misses"
        print(f"ratio {names[name]} / bare: {ratio:.2f}x ({verdict} the {GOAL}x goal)")
    legacy_rps = median([r["rps"] for r in legacy])
    slower = summary["journal"]["rps"] / legacy_rps
    print(f"legacy GET {LEGACY_PATH}: {legacy_rps:.0f} req/s, {slower:.2f}x slower than the "
          "transaction read (goal: within 1.5x)")  # fmt: skip
    print(
        f"full checkout flows, journal on: {flows['accepted']:.0f}/s accepted, "
        f"{flows['settled']:.0f}/s settled ({args.flows} checkouts; goal 300/s)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        start = {"sandbox": first_200_seconds(Path(tmp)), "bare": bare_first_200_seconds(Path(tmp))}
    print(f"start to first 200: sandbox {start['sandbox']:.2f} s, bare app {start['bare']:.2f} s "
          "(goal 0.5 s)")  # fmt: skip
    if any(r["errors"] for runs in results.values() for r in runs):
        print("warning: wrk reported non-2xx responses or socket errors")
    report = {
        "reads": {name: {"median": summary[name], "rounds": results[name]} for name in names},
        "legacy_read": {"median_rps": legacy_rps, "rounds": legacy},
        "flows": flows,
        "start_to_first_200_s": start,
    }
    args.json.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.json}")


def settle_flows(server: LiveSandbox, count: int) -> dict[str, float]:
    """``count`` checkouts from 16 clients, then wait until each one's callback has settled
    it: accepted per second, and settled per second from the first checkout to the last."""
    started = time.monotonic()

    def checkout(_: int) -> None:
        with requests.Session() as http:
            http.post(server.url + "/_sandbox/checkouts", json={}, timeout=60)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(checkout, range(count)))
    accepted = time.monotonic() - started
    while True:
        waiting = [
            server.control("GET", "/outbox", params={"state": state, "limit": 1}).json()
            for state in ("pending", "sending")
        ]
        if not any(listing["messages"] for listing in waiting):
            break
        time.sleep(0.05)  # the outbox settles them in real time
    settled = time.monotonic() - started
    return {"count": count, "accepted": count / accepted, "settled": count / settled}


def first_200_seconds(data_dir: Path) -> float:
    """From starting ``serve`` (fresh store, default fixtures) to its first 200."""
    started = time.monotonic()
    with LiveSandbox(data_dir=data_dir / "start", workers=Settings().workers):
        return time.monotonic() - started


def bare_first_200_seconds(data_dir: Path) -> float:
    body = data_dir / "body.json"
    body.write_text("{}")
    started = time.monotonic()
    bare = BareApp(body, Settings().workers, Settings().threads)
    try:
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(bare.url + PATH, timeout=2).ok:
                    return time.monotonic() - started
            time.sleep(0.01)  # polling for readiness
    finally:
        bare.stop()


@contextlib.contextmanager
def sandbox_server(data_dir: Path, settings: Settings, extra: tuple[str, ...]):
    """``serve`` with its defaults, but for ``extra`` flags; ready when every worker is."""
    with LiveSandbox(data_dir=data_dir, workers=settings.workers, extra_args=extra) as sandbox:
        wait_for_workers(sandbox.url, settings.workers)
        yield sandbox


if __name__ == "__main__":
    main()
