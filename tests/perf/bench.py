"""``make bench``: the sandbox next to a bare Flask app, as a matrix, in one run.

What it measures (issue 11's table), each figure the median of interleaved rounds, so drift on
a noisy machine hits every target alike; wrk with 1 thread and 8 connections:

* reads: ``GET /api/202412/payment/{id}`` on the sandbox as ``serve`` runs it (journal on),
  with ``--journal off``, and on a bare Flask app returning the same bytes, under each server
  setting of the matrix (gunicorn worker class, workers, threads), and the ratios, each target
  under its own best setting and under the same one; the legacy ``GET /orders/{id}/payments``
  next to the transaction read;
* the same read with 1,000 and with 100,000 payments in the fixtures (p50, p99, the ratio);
* result callbacks (``PUT /api/202412/app/payment/{id}``, each payment's first result) per
  second, next to the bare app taking the same PUT;
* full checkout flows settled per second (checkout, the encrypted request to the fake app, its
  callback, paid), journal on;
* start to the first 200: default fixtures, a generated 100,000-payment fixture on a fresh
  store and again with the store kept, and the bare app;
* memory of all the server's processes (RSS and PSS) at 1,000 and 100,000 payments;
* reads and full flows per second on SQLite, on PostgreSQL with one instance and with two
  instances sharing the database (tests/perf/bench_stores.py).

Every sandbox runs with ``--rate-limit off`` (Genstore's 2 requests per second would make any
throughput figure meaningless). Prints a table and writes every figure to a JSON file. A
benchmark, not a test: it never fails on a number.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from sandbox.core.generate import FIRST_ORDER, payment_id
from sandbox.testing.live import LiveSandbox
from tests.perf.bench_stores import measure_stores

LEGACY_PATH = f"/orders/{FIRST_ORDER + 5}/payments"
LEGACY_TOKEN = "gst_load_merchant_admin"
LOAD_READ = "gst_load_merchant_read"
LOAD_APP = "gst_load_app_write_payment"
READ_PAYMENT = payment_id(5)  # a paid one, in both generated fixtures
BIG, SMALL, WAITING = 100_000, 1_000, 40_000
GOALS = {"journal": 0.8, "quiet": 0.95}


@dataclass(frozen=True)
class ServerSetting:
    """One point of the server matrix: gunicorn's worker class, workers, threads."""

    worker_class: str
    workers: int
    threads: int

    @property
    def name(self) -> str:
        if self.worker_class == "sync":
            return f"sync {self.workers}w"
        return f"gthread {self.workers}w x {self.threads}t"

    def args(self) -> tuple[str, ...]:
        return ("--worker-class", self.worker_class, "--threads", str(self.threads))


MATRIX = (
    ServerSetting("gthread", 4, 2),  # serve's default on 2 cores (2 workers per CPU)
    ServerSetting("gthread", 2, 8),  # the default before issue 11
    ServerSetting("gthread", 2, 2),
    ServerSetting("sync", 2, 1),
    ServerSetting("gthread", 4, 4),
)


# ---- wrk ------------------------------------------------------------------------------------

CALLBACK_SCRIPT = """
-- Each request sends the next waiting payment its first result (wrk -s this -- FIRST TOKEN).
local n = 0
function init(args) first = tonumber(args[1]); token = args[2] end
function request()
  local k = first + n
  n = n + 1
  local id = string.format("PI0020261201%09d", k)
  local body = '{"pay":{"paymentId":"' .. id .. '","result":"true","channelPaymentId":"ch_' ..
    k .. '"}}'
  return wrk.format("PUT", "/api/202412/app/payment/" .. id,
    {["Content-Type"] = "application/json", ["X-Genstore-Access-Token"] = token}, body)
end
"""


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


@dataclass
class Load:
    """One wrk run's target: a URL, its token, and optionally a Lua script with arguments."""

    url: str
    token: str = ""
    script: Path | None = None
    script_args: tuple[str, ...] = ()


def run_wrk(wrk: str, load: Load, seconds: int, connections: int) -> dict[str, float]:
    command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if load.token:
        command += ["-H", f"X-Genstore-Access-Token: {load.token}"]
    if load.script is not None:
        command += ["-s", str(load.script)]
    command.append(load.url)
    if load.script_args:
        command += ["--", *load.script_args]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _millis(re.search(r"\s50%\s+([\d.]+\w+)", output).group(1)),
        "p99": _millis(re.search(r"\s99%\s+([\d.]+\w+)", output).group(1)),
        "requests": float(re.search(r"(\d+) requests in", output).group(1)),
        "non_2xx": float(errors.group(1)) if errors else 0.0,
        "socket_errors": 1.0 if socket_errors else 0.0,
    }


def _millis(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


# ---- servers --------------------------------------------------------------------------------


class BareApp:
    """The reference: ``tests.perf.bare_app`` under one server setting."""

    def __init__(self, body_file: Path, setting: ServerSetting):
        command = [sys.executable, "-m", "tests.perf.bare_app", str(body_file)]
        command += [str(setting.workers), str(setting.threads), setting.worker_class]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
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

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)


def sandbox(data_dir: Path, setting: ServerSetting, *extra: str, fixtures: Path | None = None):
    return LiveSandbox(
        data_dir=data_dir,
        fixtures=fixtures,
        workers=setting.workers,
        extra_args=("--rate-limit", "off", *setting.args(), *extra),
        startup_timeout=600,
    )


def wait_for_workers(url: str, workers: int, attempts: int = 200) -> None:
    """Every worker answers before measuring (a booting worker would skew the first round)."""
    seen: set[int] = set()
    for _ in range(attempts):
        with requests.Session() as session:
            seen.add(session.get(url + "/_sandbox/health", timeout=10).json()["worker"])
        if len(seen) >= workers:
            return
    print(f"warning: only {len(seen)} of {workers} workers answered")


def process_tree(pid: int) -> list[int]:
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            queue.extend(int(child) for child in children)
    return pids


def memory_mb(pid: int) -> dict[str, float]:
    """RSS and PSS summed over a server's processes (PSS counts shared pages once)."""
    rss = pss = 0.0
    for each in process_tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) / 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) / 1024
    return {"rss": round(rss, 1), "pss": round(pss, 1), "processes": len(process_tree(pid))}


def sandbox_pid(server: LiveSandbox) -> int:
    assert server._process is not None
    return server._process.pid


# ---- the parts that are not wrk -------------------------------------------------------------


def generate(out: Path, payments: int, waiting: int = 0) -> None:
    command = [sys.executable, "-m", "sandbox", "fixtures", "generate"]
    command += ["--payments", str(payments), "--waiting", str(waiting), "--out", str(out)]
    subprocess.run(command, check=True, capture_output=True)


def first_200(start) -> tuple[float, Any]:
    started = time.monotonic()
    server = start()
    return time.monotonic() - started, server


def bare_first_200(body: Path, setting: ServerSetting) -> float:
    started = time.monotonic()
    bare = BareApp(body, setting)
    try:
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(bare.url + "/_sandbox/health", timeout=2).ok:
                    return time.monotonic() - started
            time.sleep(0.01)  # polling for readiness
    finally:
        bare.stop()


def settle_flows(servers: list[LiveSandbox], count: int) -> dict[str, float]:
    """``count`` checkouts from 16 clients (to the servers in turn: instances sharing one
    store), then wait until each one's callback has settled it: accepted per second, and
    settled per second from the first checkout to the last."""
    started = time.monotonic()
    server = servers[0]

    def checkout(n: int) -> None:
        with requests.Session() as http:
            http.post(servers[n % len(servers)].url + "/_sandbox/checkouts", json={}, timeout=60)

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


# ---- the run --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="per round (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (8)")
    parser.add_argument("--flows", type=int, default=1000, help="checkouts to settle (1000)")
    parser.add_argument(
        "--matrix",
        default="all",
        help="server settings to compare: 'all' or indexes such as 0,2 (0 is serve's default)",
    )
    parser.add_argument(
        "--reads-only",
        action="store_true",
        help="only the reads across the server matrix (choosing server settings)",
    )
    parser.add_argument(
        "--stores-only",
        action="store_true",
        help="only the store section: SQLite, PostgreSQL with one and with two instances",
    )
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"))
    args = parser.parse_args()
    if args.reads_only:
        reads_only(args)
        return
    if args.stores_only:
        stores_only(args)
        return
    matrix = MATRIX if args.matrix == "all" else [MATRIX[int(i)] for i in args.matrix.split(",")]
    default = MATRIX[0]
    wrk = ensure_wrk()
    cpus = os.cpu_count()
    print(f"{cpus} CPUs; wrk -t1 -c{args.connections}; {args.rounds} interleaved rounds of "
          f"{args.seconds} s; server settings: {', '.join(s.name for s in matrix)}")  # fmt: skip
    report: dict[str, Any] = {"cpus": cpus, "connections": args.connections}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        small, big = tmp / "small.json", tmp / "big.json"
        measured = matrix_section(args, matrix, default, wrk, tmp, small, big)
        # With the matrix's servers stopped: their idle threads would share the CPU.
        stores = measure_stores(sys.modules[__name__], args, wrk, small, tmp)
    report.update(measured)
    report["stores"] = stores
    args.json.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.json}")


def matrix_section(args, matrix, default, wrk, tmp: Path, small: Path, big: Path) -> dict:
    """Everything but the store section: the table of issue 11."""
    with contextlib.ExitStack() as stack:
        generate(small, SMALL)
        generate(big, BIG, WAITING)
        script = tmp / "callbacks.lua"
        script.write_text(CALLBACK_SCRIPT)

        # Start to the first 200, and memory, before any load.
        start: dict[str, float] = {}
        start["default fixtures"], demo = first_200(
            lambda: stack.enter_context(sandbox(tmp / "start", default))
        )
        demo.stop()
        start["100k payments, fresh store"], large = first_200(
            lambda: stack.enter_context(sandbox(tmp / "big", default, fixtures=big))
        )
        large.stop()
        start["100k payments, store kept"], large = first_200(
            lambda: stack.enter_context(sandbox(tmp / "big", default, fixtures=big))
        )
        servers: dict[tuple[str, str], Any] = {}
        for setting in matrix:
            for target, extra in (("journal", ()), ("quiet", ("--journal", "off"))):
                server = stack.enter_context(
                    sandbox(tmp / f"{target}-{setting.name}", setting, *extra, fixtures=small)
                )
                wait_for_workers(server.url, setting.workers)
                servers[(target, setting.name)] = server
        on_default = servers[("journal", default.name)]
        body = tmp / "body.json"
        answer = requests.get(
            on_default.url + f"/api/202412/payment/{READ_PAYMENT}",
            headers={"X-Genstore-Access-Token": LOAD_READ},
            timeout=10,
        )
        answer.raise_for_status()
        body.write_bytes(answer.content)
        for setting in matrix:
            bare = BareApp(body, setting)
            stack.callback(bare.stop)
            wait_for_workers(bare.url, setting.workers)
            servers[("bare", setting.name)] = bare
        start["bare app"] = bare_first_200(body, default)
        wait_for_workers(large.url, default.workers)
        path = f"/api/202412/payment/{READ_PAYMENT}"
        loads: dict[str, Load] = {}
        for (target, name), server in servers.items():
            loads[f"read {target} {name}"] = Load(server.url + path, LOAD_READ)
        loads["legacy read"] = Load(on_default.url + LEGACY_PATH, LEGACY_TOKEN)
        loads["read 100k"] = Load(large.url + path, LOAD_READ)
        callbacks = {"callbacks": large, "callbacks bare": servers[("bare", default.name)]}
        for load in loads.values():
            run_wrk(wrk, load, 1, args.connections)  # warm up
        # Each round sends its own block of waiting payments their first results.
        block = WAITING // max(args.rounds + 1, 1)
        results: dict[str, list[dict[str, float]]] = {name: [] for name in [*loads, *callbacks]}
        for round_no in range(args.rounds):
            for name, load in loads.items():
                results[name].append(run_wrk(wrk, load, args.seconds, args.connections))
            first = BIG - WAITING + round_no * block
            for name, server in callbacks.items():
                load = Load(server.url + "/", "", script, (str(first), LOAD_APP))
                results[name].append(run_wrk(wrk, load, args.seconds, args.connections))
            print(f"round {round_no + 1} of {args.rounds} done", flush=True)
        if max(r["requests"] for r in results["callbacks"]) > block:
            print("warning: a callback round outran its block of waiting payments")
        memory = {
            "1k payments": memory_mb(sandbox_pid(on_default)),
            "100k payments": memory_mb(sandbox_pid(large)),
            "bare app": memory_mb(servers[("bare", default.name)].pid),
        }
        flows = settle_flows([on_default], args.flows)
    return summarize(results, matrix, default, start, memory, flows, {"rounds": args.rounds})


def stores_only(args: argparse.Namespace) -> None:
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        small = tmp / "small.json"
        generate(small, SMALL)
        stores = measure_stores(sys.modules[__name__], args, wrk, small, tmp)
    args.json.write_text(json.dumps({"stores": stores}, indent=2))


def reads_only(args: argparse.Namespace) -> None:
    """The server matrix alone: the read, journal on and off and bare, per setting."""
    matrix = MATRIX if args.matrix == "all" else [MATRIX[int(i)] for i in args.matrix.split(",")]
    wrk = ensure_wrk()
    path = f"/api/202412/payment/{READ_PAYMENT}"
    loads: dict[str, Load] = {}
    with tempfile.TemporaryDirectory() as tmp_name, contextlib.ExitStack() as stack:
        tmp = Path(tmp_name)
        small = tmp / "small.json"
        generate(small, SMALL)
        body = tmp / "body.json"
        for setting in matrix:
            for target, extra in (("journal", ()), ("quiet", ("--journal", "off"))):
                server = stack.enter_context(
                    sandbox(tmp / f"{target}-{setting.name}", setting, *extra, fixtures=small)
                )
                wait_for_workers(server.url, setting.workers)
                loads[f"read {target} {setting.name}"] = Load(server.url + path, LOAD_READ)
                if not body.exists():
                    answer = requests.get(server.url + path, headers={
                        "X-Genstore-Access-Token": LOAD_READ}, timeout=10)  # fmt: skip
                    body.write_bytes(answer.content)
            bare = BareApp(body, setting)
            stack.callback(bare.stop)
            wait_for_workers(bare.url, setting.workers)
            loads[f"read bare {setting.name}"] = Load(bare.url + path, LOAD_READ)
        for load in loads.values():
            run_wrk(wrk, load, 1, args.connections)
        results: dict[str, list[dict[str, float]]] = {name: [] for name in loads}
        for round_no in range(args.rounds):
            for name, load in loads.items():
                results[name].append(run_wrk(wrk, load, args.seconds, args.connections))
            print(f"round {round_no + 1} of {args.rounds} done", flush=True)
    print(f"{'':<36}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}   rounds' req/s")
    for name, runs in results.items():
        rps, p50, p99 = (statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p99"))
        rounds = ", ".join(f"{r['rps']:.0f}" for r in runs)
        print(f"{name:<36}{rps:>9.0f}{p50:>9.2f}{p99:>9.2f}   {rounds}")
    args.json.write_text(json.dumps({"reads_only": results}, indent=2))


def summarize(results, matrix, default, start, memory, flows, meta) -> dict[str, Any]:
    """The printed table, and the same figures for the JSON file."""
    med = {
        name: {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p99", "non_2xx")}
        for name, runs in results.items()
    }
    print(f"\n{'':<44}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}   rounds' req/s")
    for name, runs in results.items():
        figures = med[name]
        rounds = ", ".join(f"{r['rps']:.0f}" for r in runs)
        print(f"{name:<44}{figures['rps']:>9.0f}{figures['p50']:>9.2f}{figures['p99']:>9.2f}"
              f"   {rounds}")  # fmt: skip
    best = {
        target: max(matrix, key=lambda s, t=target: med[f"read {t} {s.name}"]["rps"])
        for target in ("journal", "quiet", "bare")
    }
    bare_best = med[f"read bare {best['bare'].name}"]["rps"]
    ratios: dict[str, Any] = {}
    print()
    for target, label in (("journal", "journal on"), ("quiet", "journal off")):
        mine = med[f"read {target} {best[target].name}"]["rps"]
        same = {
            s.name: med[f"read {target} {s.name}"]["rps"] / med[f"read bare {s.name}"]["rps"]
            for s in matrix
        }
        ratios[target] = {"best_vs_best": mine / bare_best, "same_setting": same}
        verdict = "meets" if mine / bare_best >= GOALS[target] else "misses"
        print(f"read, {label} ({best[target].name}) / bare ({best['bare'].name}): "
              f"{mine / bare_best:.2f}x, {verdict} the {GOALS[target]}x goal; same setting: "
              + ", ".join(f"{n} {r:.2f}x" for n, r in same.items()))  # fmt: skip
    default_read = med[f"read journal {default.name}"]
    legacy = default_read["rps"] / med["legacy read"]["rps"]
    print(f"p99 at {default.name}, journal on: {default_read['p99']:.1f} ms (bare "
          f"{med[f'read bare {default.name}']['p99']:.1f} ms; goal 8 ms)")  # fmt: skip
    print(f"legacy order read: {legacy:.2f}x slower than the transaction read (goal 1.5x)")
    big_small = med["read 100k"]["p50"] / default_read["p50"]
    print(f"read with 100k payments / with 1k: p50 {big_small:.2f}x, p99 "
          f"{med['read 100k']['p99'] / default_read['p99']:.2f}x (goal 1.2x)")  # fmt: skip
    print(f"result callbacks: {med['callbacks']['rps']:.0f}/s (bare app "
          f"{med['callbacks bare']['rps']:.0f}/s); non-2xx per round "
          f"{med['callbacks']['non_2xx']:.0f}")  # fmt: skip
    print(f"full checkout flows, journal on: {flows['accepted']:.0f}/s accepted, "
          f"{flows['settled']:.0f}/s settled ({flows['count']} checkouts; goal 300/s)")  # fmt: skip
    print("start to first 200: " + ", ".join(f"{k} {v:.2f} s" for k, v in start.items())
          + " (goals 0.5 s, 15 s at 100k)")  # fmt: skip
    print("memory, all processes: " + ", ".join(
        f"{k} {v['rss']:.0f} MB RSS / {v['pss']:.0f} MB PSS ({v['processes']} processes)"
        for k, v in memory.items()) + " (goal 250 MB at 100k)")  # fmt: skip
    if any(r["socket_errors"] for runs in results.values() for r in runs):
        print("warning: wrk reported socket errors")
    return {
        **meta,
        "medians": med,
        "rounds_detail": results,
        "best_setting": {target: s.name for target, s in best.items()},
        "read_ratios": ratios,
        "legacy_slower": legacy,
        "read_100k_vs_1k": {"p50": big_small},
        "flows": flows,
        "start_to_first_200_s": start,
        "memory_mb": memory,
    }


if __name__ == "__main__":
    main()
