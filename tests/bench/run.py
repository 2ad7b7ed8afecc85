"""`make bench`: throughput and latency of the real server, printed beside the stack's ceiling.

Everything is measured in one run on this machine, so the ratios are what to compare; the
absolute numbers move with the machine's load. Set BENCH_SECONDS to change each load phase.
A second table (tests.bench.sync_bench) measures sync against a real hub; the sixth
(tests.bench.hub_bench) the hub on PostgreSQL beside the hub on SQLite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

from app import store
from app.core.ids import new_id
from tests.bench import hub_bench, load, recurrence_bench, search_bench, sync_bench, threads
from tests.bench.servers import SECONDS, bench_key, make_resources, use_key
from tests.live.server import LiveServer, find_free_port

CONNECTIONS = 8
ROUNDS = 5  # the ceiling and the creates take turns this many times (see _in_turns)
ROUND_SHIFT_MS = 20_000 * 3_600_000  # each round's creates start 20,000 hours later
RESOURCES = 20
BOOKINGS_PER_DAY = 8  # per resource: one hour every three hours


def _start_bare(mode: str, folder: Path) -> tuple[subprocess.Popen, int]:
    port = find_free_port()
    args = [sys.executable, "-m", "tests.bench.bare_server", mode, str(port)]
    if mode == "insert":
        args.append(str(folder / "bare.db"))
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=0.5)
            return process, port
        except requests.RequestException:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"bare {mode} server did not start")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _seed_bookings(db_path: str, total: int, resource_ids: list[str]) -> int:
    """Insert bookings directly (the API path is measured separately); return days covered."""
    db = store.open_db(db_path)
    per_resource = total // len(resource_ids)
    now = load.BASE_MS
    batch: list[tuple] = []
    with store.transaction(db):
        for index in range(per_resource):
            day, slot = divmod(index, BOOKINGS_PER_DAY)
            start = load.BASE_MS + day * 86_400_000 + slot * 3 * 3_600_000
            for resource_id in resource_ids:
                batch.append((new_id("bk"), resource_id, start, start + 3_600_000, now, now))
            if len(batch) >= 50_000:
                _insert_rows(db, batch)
                batch = []
        _insert_rows(db, batch)
    db.execute("ANALYZE")
    db.close()
    return max(1, per_resource // BOOKINGS_PER_DAY)


def _insert_rows(db, rows: list[tuple]) -> None:
    db.executemany(
        "INSERT INTO bookings (id, resource_id, start_time, end_time, status, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, 'confirmed', ?, ?)",
        rows,
    )


def _in_turns(*phases: Callable[[float, int], load.Result]) -> list[load.Result]:
    """Run the phases in turn, ROUNDS times SECONDS / ROUNDS each, after a short warm-up.

    The machine is shared and its speed drifts over a run; taking turns gives every phase the
    same machine, so their ratios hold still even when the absolute rates move.
    """
    for phase in phases:
        phase(0.5, ROUNDS)  # warm-up, on hours the measured rounds never book
    rounds: list[list[load.Result]] = [[] for _ in phases]
    for round_ in range(ROUNDS):
        for results, phase in zip(rounds, phases, strict=True):
            results.append(phase(SECONDS / ROUNDS, round_))
    return [load.Result.merged(results) for results in rounds]


def _list_latency(db_path: str, headers: dict, days: int, resources: list[str]) -> tuple:
    with LiveServer(db_path) as server:
        params = {"days": days, "resources": resources}
        load.run("list", server.port, connections=1, seconds=1, headers=headers, params=params)
        result = load.run(
            "list", server.port, connections=1, seconds=SECONDS, headers=headers, params=params
        )
        assert set(result.statuses) == {200}, result.statuses
        rss = _peak_rss_mb(server.process.pid)
    return result, rss


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="booking-bench-"))
    print(
        f"Benchmark: {CONNECTIONS} connections, {SECONDS:.0f} s per phase "
        f"(the first three in {ROUNDS} turns), 127.0.0.1"
    )
    load_average = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"(load average {load_average} on {os.cpu_count()} CPUs)\n")

    json_process, json_port = _start_bare("json", folder)
    insert_process, insert_port = _start_bare("insert", folder)
    create_db = str(folder / "create.db")
    headers = bench_key(create_db)
    with LiveServer(create_db) as server:
        use_key(server, headers)
        resources = make_resources(server, CONNECTIONS)

        def bare_json_phase(seconds: float, _round: int) -> load.Result:
            return load.run("json", json_port, connections=CONNECTIONS, seconds=seconds)

        def bare_insert_phase(seconds: float, _round: int) -> load.Result:
            return load.run("insert", insert_port, connections=CONNECTIONS, seconds=seconds)

        def creates_phase(seconds: float, round_: int) -> load.Result:
            # Each round books hours no other round uses, so every create succeeds.
            params = {"resources": resources, "start_ms": load.BASE_MS + round_ * ROUND_SHIFT_MS}
            return load.run(
                "booking",
                server.port,
                connections=CONNECTIONS,
                seconds=seconds,
                headers=headers,
                params=params,
            )

        bare_json, bare_insert, creates = _in_turns(
            bare_json_phase, bare_insert_phase, creates_phase
        )
        create_rss = _peak_rss_mb(server.process.pid)
    json_process.terminate()
    insert_process.terminate()
    assert set(creates.statuses) == {201}, creates.statuses
    for result in (bare_json, bare_insert, creates):
        assert not result.errors, result.errors

    list_db = str(folder / "list.db")
    list_headers = bench_key(list_db)
    with LiveServer(list_db) as server:
        use_key(server, list_headers)
        list_resources = make_resources(server, RESOURCES)
    days_100k = _seed_bookings(list_db, 100_000, list_resources)
    list_100k, _ = _list_latency(list_db, list_headers, days_100k, list_resources)
    days_1m = _seed_bookings(list_db, 900_000, list_resources) + days_100k
    list_1m, rss_1m = _list_latency(list_db, list_headers, days_1m, list_resources)

    rows = [
        ("bare Flask+waitress JSON endpoint", f"{bare_json.rate:8.0f} req/s", ""),
        (
            "bare one-row INSERT + COMMIT endpoint",
            f"{bare_insert.rate:8.0f} req/s",
            f"{bare_insert.rate / bare_json.rate:6.0%} of bare JSON",
        ),
        (
            "booking creates (auth, overlap check, event, change log)",
            f"{creates.rate:8.0f} req/s",
            f"{creates.rate / bare_insert.rate:6.0%} of bare insert (target >= 50%)",
        ),
        (
            "booking create latency p50 / p99",
            f"{creates.percentile(50):5.1f} / {creates.percentile(99):5.1f} ms",
            "target p99 <= 25 ms",
        ),
        (
            "list by window p50 / p99 at 100k bookings",
            f"{list_100k.percentile(50):5.1f} / {list_100k.percentile(99):5.1f} ms",
            "",
        ),
        (
            "list by window p50 / p99 at 1M bookings",
            f"{list_1m.percentile(50):5.1f} / {list_1m.percentile(99):5.1f} ms",
            f"p99 {list_1m.percentile(99) / list_100k.percentile(99):4.2f}x of 100k (target <= 2x)",
        ),
        (
            "load generator CPU per request (json / insert / create)",
            f"{bare_json.client_cpu_us:4.0f} / {bare_insert.client_cpu_us:3.0f} / "
            f"{creates.client_cpu_us:3.0f} µs",
            "shares the 2 cores with the server",
        ),
        ("server peak RSS after creates", f"{create_rss:8.1f} MB", ""),
        ("server peak RSS serving 1M bookings", f"{rss_1m:8.1f} MB", "target < 150 MB"),
    ]
    width = max(len(name) for name, _, _ in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>20}  {note}")

    sync_bench.main()  # a second table: sync over HTTP against a real hub (issue 4 §6)
    threads.main()  # a third: the default worker threads against other setups
    recurrence_bench.main()  # a fourth: the worst allowed blockers (issue 12)
    search_bench.main()  # a fifth: the customers type-ahead with 50,000 customers (issue 17)
    hub_bench.main()  # a sixth: the hub on PostgreSQL beside SQLite, bookings beside PouchDB (14)


if __name__ == "__main__":
    main()
