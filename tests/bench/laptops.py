"""`make bench`: 20 laptops syncing at once against one hub (one or more `booking serve`s).

Each laptop is a process of its own with its own SQLite node database and sync key, as a shop
laptop is. After a warm-up round (its resource goes up, the others' come down) all start
together and, for SECONDS, repeat a sync round: book ROUND_BOOKINGS bookings through the
domain (a `created` and a `status_changed` event each, so two changes), then one sync_once,
which pushes them and pulls what the other laptops pushed meanwhile. A hub of several
processes gets the laptops in turn, as a load balancer would hand them out.

    python -m tests.bench.laptops HUB_URL KEY DB_PATH SECONDS   # one laptop; the parent's
                                                                # "go" line starts it

The figures: changes the hub took in and handed out per second, and the p99 of a round.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from app import store
from app.core.vocabulary import CONFIRMED
from app.domain import bookings, resources
from sync.client import HubClient
from sync.engine import sync_once
from tests.bench.sync_bench import node, sync_key
from tests.live.server import PROJECT_ROOT

LAPTOPS = int(os.environ.get("BENCH_LAPTOPS", "20"))
ROUND_BOOKINGS = 5
BASE_MS = 1_900_000_000_000
SLOT_MS = 2 * 3_600_000
START_TIMEOUT_S = 120


@dataclass
class Laptops:
    """What all laptops did in the measured window."""

    seconds: float
    rounds: list[float]  # every round's seconds, all laptops
    pushed: int
    pulled: int
    per_laptop: list[float]  # each laptop's changes pushed and pulled per second
    cpu: float  # CPU seconds all laptops used in their windows (booking, syncing)

    @property
    def rate(self) -> float:
        return (self.pushed + self.pulled) / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.rounds)
        return ordered[min(len(ordered) - 1, int(share / 100 * len(ordered)))] if ordered else 0


def run(hub_urls: list[str], hub_target: str, folder: Path, seconds: float) -> Laptops:
    """Start LAPTOPS laptops against the hub processes at `hub_urls`, in turns; measure them."""
    processes = []
    for index in range(LAPTOPS):
        key = sync_key(hub_target, f"laptop-{index}")
        db_path = str(folder / f"laptop-{index}.db")
        url = hub_urls[index % len(hub_urls)]
        command = [sys.executable, "-m", "tests.bench.laptops", url, key, db_path, str(seconds)]
        processes.append(
            subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT
            )
        )
    try:
        for process in processes:  # each says "ready" after its warm-up round
            assert process.stdout is not None
            line = process.stdout.readline().strip()
            if line != "ready":
                raise RuntimeError(f"a laptop did not start: {line!r}")
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        reports = [
            json.loads(process.communicate(timeout=seconds + START_TIMEOUT_S)[0])
            for process in processes
        ]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    window = max(report["seconds"] for report in reports)
    return Laptops(
        seconds=window,
        rounds=[round_ for report in reports for round_ in report["rounds"]],
        pushed=sum(report["pushed"] for report in reports),
        pulled=sum(report["pulled"] for report in reports),
        per_laptop=[
            (report["pushed"] + report["pulled"]) / report["seconds"] for report in reports
        ],
        cpu=sum(report["cpu"] for report in reports),
    )


# --- one laptop (its own process) ------------------------------------------------------------


def _book(db: store.Connection, resource_id: str, first_slot: int) -> None:
    with store.transaction(db):
        for slot in range(first_slot, first_slot + ROUND_BOOKINGS):
            new = bookings.NewBooking(
                resource_id=resource_id, start=BASE_MS + slot * SLOT_MS, duration_minutes=60
            )
            booking = bookings.create_in_transaction(db, new, actor="laptop")
            bookings.transition_in_transaction(
                db, booking, CONFIRMED, cancel_reason=None, actor="laptop"
            )


def laptop(hub_url: str, key: str, db_path: str, seconds: float) -> dict:
    db = node(db_path)
    client = HubClient(hub_url, key)
    with store.transaction(db):
        resource_id = resources.create(db, {"name": Path(db_path).stem})["id"]
    sync_once(db, client)  # warm-up: claims the key, takes the other laptops' resources
    print("ready", flush=True)
    sys.stdin.readline()
    rounds: list[float] = []
    pushed = pulled = slot = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        _book(db, resource_id, slot)
        slot += ROUND_BOOKINGS
        round_started = time.perf_counter()
        report = sync_once(db, client)
        rounds.append(time.perf_counter() - round_started)
        pushed += report.pushed
        pulled += report.pulled
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    db.close()
    return {"seconds": elapsed, "rounds": rounds, "pushed": pushed, "pulled": pulled, "cpu": cpu}


if __name__ == "__main__":
    url, key, path, window = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    print(json.dumps(laptop(url, key, path, window)), flush=True)
