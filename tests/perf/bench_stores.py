"""``make bench``'s store section (issue 13): reads and full flows per second on SQLite, on
PostgreSQL with one instance, and on PostgreSQL with two instances sharing the database, in
the same run and under the same server setting per instance.

Each instance runs 2 workers x 2 threads, so one instance leaves room on a 2-CPU machine
for a second: what is measured is how the store lets instances add up, not how many
processes a machine can run. PostgreSQL is a throwaway cluster (sandbox/testing/postgres.py)
with fsync on; like the SQLite store's ``synchronous=NORMAL`` it does not wait for each
commit's flush. Two instances are read by two wrk processes at once (half the connections
each) and their figures summed; their flows are checkouts sent to both in turn.
"""

from __future__ import annotations

import contextlib
import statistics
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sandbox.testing.postgres import PostgresCluster

PER_INSTANCE = ("--workers", "1", "--threads", "2", "--worker-class", "gthread")
FLOWS_GOAL = 1.6


def measure_stores(bench: Any, args: Any, wrk: str, fixtures: Path, tmp: Path) -> dict[str, Any]:
    """The store section's figures; ``bench`` is the bench module (its helpers)."""
    path = f"/api/202412/payment/{bench.READ_PAYMENT}"
    with contextlib.ExitStack() as stack:
        cluster = stack.enter_context(PostgresCluster(durable=True))
        database = cluster.new_database("bench")

        def start(name: str, *extra: str):
            server = stack.enter_context(
                bench.LiveSandbox(
                    data_dir=tmp / name,
                    fixtures=fixtures,
                    workers=int(PER_INSTANCE[1]),
                    extra_args=("--rate-limit", "off", *PER_INSTANCE, *extra),
                    startup_timeout=600,
                )
            )
            bench.wait_for_workers(server.url, int(PER_INSTANCE[1]))
            return server

        on_sqlite = start("store-sqlite")
        first = start("store-pg-1", "--database", database)
        targets: dict[str, list[Any]] = {"sqlite": [on_sqlite], "postgresql x1": [first]}
        reads: dict[str, list[float]] = {name: [] for name in [*targets, "postgresql x2"]}
        flows: dict[str, dict[str, float]] = {}

        def read_round(name: str, servers: list[Any]) -> None:
            connections = max(args.connections // len(servers), 1)
            loads = [bench.Load(s.url + path, bench.LOAD_READ) for s in servers]
            with ThreadPoolExecutor(len(loads)) as pool:
                runs = list(
                    pool.map(
                        lambda load: bench.run_wrk(wrk, load, args.seconds, connections), loads
                    )
                )
            reads[name].append(sum(run["rps"] for run in runs))

        for servers in targets.values():
            for server in servers:
                bench.run_wrk(wrk, bench.Load(server.url + path, bench.LOAD_READ), 1, 4)
        for _ in range(args.rounds):
            for name, servers in targets.items():
                read_round(name, servers)
        for name, servers in targets.items():
            flows[name] = bench.settle_flows(servers, args.flows)
        second = start("store-pg-2", "--database", database)
        pair = [first, second]
        bench.run_wrk(wrk, bench.Load(second.url + path, bench.LOAD_READ), 1, 4)
        for _ in range(args.rounds):
            read_round("postgresql x2", pair)
        flows["postgresql x2"] = bench.settle_flows(pair, args.flows)
    medians = {name: statistics.median(runs) for name, runs in reads.items()}
    print(f"\nstores, {PER_INSTANCE[1]} workers x {PER_INSTANCE[3]} threads per instance:")
    print(f"{'':<20}{'reads/s':>10}{'flows/s':>10}   rounds' reads/s")
    for name, runs in reads.items():
        rounds = ", ".join(f"{r:.0f}" for r in runs)
        print(f"{name:<20}{medians[name]:>10.0f}{flows[name]['settled']:>10.0f}   {rounds}")
    scale = flows["postgresql x2"]["settled"] / flows["postgresql x1"]["settled"]
    verdict = "meets" if scale >= FLOWS_GOAL else "misses"
    print(f"two PostgreSQL instances / one: flows {scale:.2f}x ({verdict} the {FLOWS_GOAL}x goal),"
          f" reads {medians['postgresql x2'] / medians['postgresql x1']:.2f}x")  # fmt: skip
    return {"reads": medians, "reads_rounds": reads, "flows": flows, "flows_two_vs_one": scale}
