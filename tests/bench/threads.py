"""`make bench`, third table: `booking serve`'s worker threads, quick + heavy (app/web/pools.py).

The same two loads against a fresh server for each setup: 1 + 0 (one pool, as before issue 12),
1 + 1 (the default: expensive requests in a pool of their own) and 4 + 0 (one pool of four):

- creates: 8 connections creating bookings, as in the first table;
- mixed: 6 connections creating, 1 reading one booking, 1 asking for 31 days of 5-minute
  availability slots (a heavy read, tens of ms of Python each).

Python runs one thread at a time. More waitress threads add no CPU, only hand-overs of the
GIL: sqlite3 lets go of it around every statement, and a thread that lets go waits for the
others to give it back. "server CPU" is the server process's CPU time per create.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from tests.bench import load
from tests.bench.servers import SECONDS, bench_key, make_resources, use_key
from tests.live.server import LiveServer

SETUPS = ((1, 0), (1, 1), (4, 0), (4, 1))  # (--threads, --heavy-threads)
ROUNDS = 5  # the setups take turns, as the first table's phases do (tests/bench/run.py)
ROUND_SHIFT_MS = 20_000 * 3_600_000


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run_loads(server: LiveServer, headers: dict, phases: dict[str, tuple], seconds: float) -> dict:
    """Run every phase at once; return each one's load.Result and the server's CPU seconds."""
    results: dict[str, load.Result] = {}

    def drive(name: str, kind: str, connections: int, params: dict) -> None:
        results[name] = load.run(
            kind,
            server.port,
            connections=connections,
            seconds=seconds,
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
    return {"results": {name: results[name] for name in phases}, "cpu": cpu}


def _phases(server: LiveServer, load_name: str) -> Callable[[int], dict[str, tuple]]:
    """The load's phases for each round; each round's creates book hours no other round uses."""
    resources = make_resources(server, 8)
    # The reads use the one resource no create touches, a year after the creates' hours.
    reads = {"resource_id": resources[7], "start_ms": load.BASE_MS + 400 * 86_400_000}
    first_slot = {"resource_id": resources[7], "start_time": load._iso(reads["start_ms"])}
    booking = server.request("POST", "/modules/booking/bookings", json=first_slot).json()

    def for_round(round_: int) -> dict[str, tuple]:
        start_ms = load.BASE_MS + round_ * ROUND_SHIFT_MS
        if load_name == "creates":
            return {"create": ("booking", 8, {"resources": resources, "start_ms": start_ms})}
        creates = {"resources": resources[:7], "start_ms": start_ms}
        return {
            "create": ("booking", 6, creates),
            "get": ("get", 1, {"booking_id": booking["data"]["id"]}),
            "availability": ("availability", 1, reads),
        }

    return for_round


def _merged(rounds: list[dict]) -> dict:
    names = rounds[0]["results"]
    results = {name: load.Result.merged([r["results"][name] for r in rounds]) for name in names}
    requests = sum(result.requests for result in results.values())
    return {"results": results, "cpu_per_request": sum(r["cpu"] for r in rounds) / requests}


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="booking-bench-threads-"))
    print(
        "\nWorker threads, quick + heavy: the same loads for each setup (a server each, in turns)"
    )
    print(f"{'threads':>7}  {'load':<8} {'requests':<13} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8}")
    with contextlib.ExitStack() as stack:
        runs = {}
        for load_name in ("creates", "mixed"):
            for setup in SETUPS:
                db_path = str(folder / f"threads-{setup[0]}-{setup[1]}-{load_name}.db")
                headers = bench_key(db_path)
                options = ("--threads", str(setup[0]), "--heavy-threads", str(setup[1]))
                server = stack.enter_context(LiveServer(db_path, *options))
                use_key(server, headers)
                runs[load_name, setup] = (server, headers, _phases(server, load_name))
        rounds: dict[tuple, list[dict]] = {key: [] for key in runs}
        for round_ in range(ROUNDS + 1):  # round 0 warms up, on hours no other round books
            for key, (server, headers, phases) in runs.items():
                seconds = 0.5 if round_ == 0 else SECONDS / ROUNDS
                measured = _run_loads(server, headers, phases(round_), seconds)
                if round_:
                    rounds[key].append(measured)
    for (load_name, setup), measured_rounds in rounds.items():
        measured = _merged(measured_rounds)
        cpu_ms = measured["cpu_per_request"] * 1000
        threads = f"{setup[0]} + {setup[1]}"
        for kind, result in measured["results"].items():
            latency = f"{result.percentile(50):8.1f} {result.percentile(99):8.1f}"
            cpu = f"   server CPU {cpu_ms:4.2f} ms a create" if load_name == "creates" else ""
            print(f"{threads:>7}  {load_name:<8} {kind:<13} {result.rate:7.0f} {latency}{cpu}")


if __name__ == "__main__":
    main()
