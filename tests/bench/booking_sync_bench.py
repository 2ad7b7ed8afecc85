"""`make bench`: bookings with their events synced through a hub, beside PouchDB.

Node A books BOOKINGS bookings through the domain's own write path (a `created` event, then a
`status_changed` to confirmed: two events and two change rows each), pushes them all with one
sync_once, and an empty node B pulls them with one. The hub replays each touched booking's
events and runs the double-booking rule on it; node B replays them too. The rates are
bookings per second, beside PouchDB's replication of the same number of booking documents
(tests/bench/pouchdb_reference.py), measured in the same run.

Set BENCH_SYNC_BOOKINGS to change the size (the targets are stated for 100,000).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app import store
from app.core.vocabulary import CONFIRMED
from app.domain import bookings, resources
from app.store import Connection
from sync.client import HubClient
from tests.bench.sync_bench import Timing, node, sync_key, timed_sync

BOOKINGS = int(os.environ.get("BENCH_SYNC_BOOKINGS", "100000"))
RESOURCES = 20
SEED_TRANSACTION = 5_000  # bookings per local write transaction while seeding
BASE_MS = 1_900_000_000_000  # 2030: far from any real booking
SLOT_MS = 3 * 3_600_000  # one hour booked every three, per resource


@dataclass
class BookingSync:
    """One hub's figures: node A's push and node B's fresh pull, and the CPU behind them."""

    bookings: int
    push: Timing
    pull: Timing

    @property
    def push_rate(self) -> float:
        return self.bookings / self.push.push_s

    @property
    def pull_rate(self) -> float:
        return self.bookings / self.pull.pull_s

    @property
    def push_cpu(self) -> float:
        """CPU seconds of the push, node and hub together (they take turns per batch)."""
        return sum(self.push.push_cpu)

    @property
    def pull_cpu(self) -> float:
        return sum(self.pull.pull_cpu)


def seed_bookings(db: Connection, count: int) -> None:
    """Book `count` confirmed bookings on RESOURCES resources, none overlapping another."""
    with store.transaction(db):
        resource_ids = [resources.create(db, {"name": f"Room {i}"})["id"] for i in range(RESOURCES)]
    for first in range(0, count, SEED_TRANSACTION):
        with store.transaction(db):
            for index in range(first, min(count, first + SEED_TRANSACTION)):
                slot, resource = divmod(index, RESOURCES)
                new = bookings.NewBooking(
                    resource_id=resource_ids[resource],
                    start=BASE_MS + slot * SLOT_MS,
                    duration_minutes=60,
                    title=f"Booking {index}",
                )
                booking = bookings.create_in_transaction(db, new, actor="bench")
                bookings.transition_in_transaction(
                    db, booking, CONFIRMED, cancel_reason=None, actor="bench"
                )


def seeded_node(path: Path, count: int = BOOKINGS) -> Connection:
    """A new node holding `count` bookings (each hub gets its own: a node syncs with one hub)."""
    db = node(str(path))
    seed_bookings(db, count)
    return db


def run(
    hub_url: str,
    hub_target: str,
    node_a: Connection,
    folder: Path,
    name: str,
    hub_cpu: Callable[[], float],
) -> BookingSync:
    """Push node A's bookings to the hub in one sync_once, pull them into an empty node B.

    `hub_target` is the hub's database (a path or a postgresql:// URL), `hub_url` the hub
    serving it (`hub_cpu` the CPU seconds its processes have used so far).
    """
    key_a, key_b = sync_key(hub_target, f"{name}-a"), sync_key(hub_target, f"{name}-b")
    node_b = node(str(folder / f"{name}-node-b.db"))
    try:
        pushed = timed_sync(node_a, HubClient(hub_url, key_a), hub_cpu=hub_cpu)
        expected = store.count_rows(node_a, "booking_events") + RESOURCES
        assert pushed.report.pushed == expected, (pushed.report, expected)
        pulled = timed_sync(node_b, HubClient(hub_url, key_b), hub_cpu=hub_cpu)
        assert pulled.report.applied == expected, (pulled.report, expected)
        held = store.count_rows(node_b, "bookings")
        assert held == store.count_rows(node_a, "bookings"), held
    finally:
        node_b.close()
    return BookingSync(held, pushed, pulled)
