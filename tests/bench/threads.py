"""`make bench`, third table: what `booking serve`'s 4 default worker threads cost against 1.

The same two loads against a fresh server at each thread count:

- creates: 8 connections creating bookings, as in the first table;
- mixed: 6 connections creating, 1 reading one booking, 1 asking for 31 days of 5-minute
  availability slots (a heavy read, tens of ms of Python each).

Python runs one thread at a time. More waitress threads add no CPU, only hand-overs of the
GIL: sqlite3 lets go of it around every statement, and a thread that lets go waits for the
others to give it back. "server CPU" is the server process's CPU time per create.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from tests.bench import load
from tests.bench.servers import SECONDS, bench_key, make_resources, use_key
from tests.live.server import LiveServer

THREAD_COUNTS = (1, 4, 8)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run_loads(server: LiveServer, headers: dict, phases: dict[str, tuple]) -> dict:
    """Run every phase at once; return each one's load.Result and the server CPU per request."""
    results: dict[str, load.Result] = {}

    def drive(name: str, kind: str, connections: int, params: dict) -> None:
        results[name] = load.run(
            kind,
            server.port,
            connections=connections,
            seconds=SECONDS,
            headers=headers,
            params=params,
        )

    cpu_before = _cpu_seconds(server.process.pid)
    drivers = [threading.Thread(target=drive, args=(name, *p)) for name, p in phases.items()]
    for driver in drivers:
        driver.start()
    for driver in drivers:
        driver.join()
    cpu = _cpu_seconds(server.process.pid) - cpu_before
    for name, result in results.items():
        assert not result.errors and set(result.statuses) <= {200, 201}, (name, result.statuses)
    ordered = {name: results[name] for name in phases}
    return {"results": ordered, "cpu_per_request": cpu / sum(r.requests for r in ordered.values())}


def _measure(folder: Path, threads: int, load_name: str) -> dict:
    db_path = str(folder / f"threads-{threads}-{load_name}.db")
    headers = bench_key(db_path)
    with LiveServer(db_path, "--threads", str(threads)) as server:
        use_key(server, headers)
        resources = make_resources(server, 8)
        creates = {"resources": resources, "start_ms": load.BASE_MS}
        if load_name == "creates":
            return _run_loads(server, headers, {"create": ("booking", 8, creates)})
        # The reads use the one resource no create touches, a year after the creates' hours.
        reads = {"resource_id": resources[7], "start_ms": load.BASE_MS + 400 * 86_400_000}
        first_slot = {"resource_id": resources[7], "start_time": load._iso(reads["start_ms"])}
        booking = server.request("POST", "/modules/booking/bookings", json=first_slot).json()
        phases = {
            "create": ("booking", 6, creates),
            "get": ("get", 1, {"booking_id": booking["data"]["id"]}),
            "availability": ("availability", 1, reads),
        }
        return _run_loads(server, headers, phases)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="booking-bench-threads-"))
    print("\nWorker threads: the same loads at each thread count (fresh server each)")
    print(f"{'threads':>7}  {'load':<8} {'requests':<13} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for load_name in ("creates", "mixed"):
        for threads in THREAD_COUNTS:
            measured = _measure(folder, threads, load_name)
            cpu_ms = measured["cpu_per_request"] * 1000
            for kind, result in measured["results"].items():
                latency = f"{result.percentile(50):8.1f} {result.percentile(99):8.1f}"
                cpu = f"   server CPU {cpu_ms:4.2f} ms a create" if load_name == "creates" else ""
                print(f"{threads:>7}  {load_name:<8} {kind:<13} {result.rate:7.0f} {latency}{cpu}")


if __name__ == "__main__":
    main()
