"""An edit always sorts after the value it replaces (SYNC.md §1, issue #11): a hub and two
laptops, one of whose wall clocks is off by an hour up to a year, ahead or behind. Each step,
one laptop syncs, reads a record (seeing the other's last value), edits it, and syncs again.
Every edit is answered 200 and shows at once on that laptop; once everyone has synced, every
replica shows the last edit made, which was made after seeing all the others.

Only sync's clocks are skewed (app.store.changelog.wall_ms stamps local writes and moves the HLC;
sync.merge.wall_ms judges remote stamps): the laptop's offset applies while it acts, the
hub's (none) while the hub handles a request, which the in-process transport runs on the
calling thread or on the client's worker thread. `make soak` sets SYNC_EXAMPLES=500.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import store
from app.core.times import wall_ms as true_wall_ms
from tests.sync.harness import (
    BLOCKERS,
    BOOKINGS,
    CUSTOMERS,
    RESOURCES,
    Replica,
    change_ids,
    expect,
    exported_state,
)

EXAMPLES = int(os.environ.get("SYNC_EXAMPLES", "15"))
HOUR = 3_600_000
YEAR_HOURS = 365 * 24
FIVE_MINUTES = 5 * 60_000

# What a step edits: the field, through the record's PATCH, and how it reads back.
FIELDS = {"customer": "name", "resource": "name", "booking": "title"}
PATHS = {"customer": CUSTOMERS, "resource": RESOURCES, "booking": BOOKINGS, "blocker": BLOCKERS}

offsets = st.builds(
    lambda hours, sign: sign * hours * HOUR,
    st.integers(1, YEAR_HOURS),
    st.sampled_from([1, -1]),
)
steps = st.lists(
    st.tuples(st.integers(0, 1), st.sampled_from(["customer", "resource", "booking", "blocker"])),
    min_size=1,
    max_size=10,
)


class Clocks:
    """sync's wall clock, off by the acting replica's offset (a per-thread setting)."""

    def __init__(self, offsets: dict[str, int]) -> None:
        self.offsets = offsets
        self.local = threading.local()

    def wall_ms(self) -> int:
        return true_wall_ms() + getattr(self.local, "offset", 0)

    @contextmanager
    def acting(self, replica: Replica) -> Iterator[None]:
        before = getattr(self.local, "offset", 0)
        self.local.offset = self.offsets.get(replica.name, 0)
        try:
            yield
        finally:
            self.local.offset = before

    def hub_answers(self, node: Replica, hub: Replica) -> None:
        """Make the hub use its own clock while it handles `node`'s requests."""
        transport = node.transport
        assert transport is not None
        handle = transport.request

        def request(*args, **kwargs):
            with self.acting(hub):
                return handle(*args, **kwargs)

        transport.request = request  # type: ignore[method-assign]


def sync_all(clocks: Clocks, nodes: list[Replica], rounds: int = 6) -> None:
    """settle(), each laptop syncing on its own clock."""
    for _ in range(rounds):
        moved = 0
        for node in nodes:
            with clocks.acting(node):
                report = node.sync()
            moved += report.pushed + report.applied
        if not moved:
            return
    raise AssertionError(f"the replicas still exchange changes after {rounds} rounds")


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(skewed=st.integers(0, 1), offset=offsets, creator=st.integers(0, 1), work=steps)
def test_an_edit_made_after_seeing_a_value_wins_everywhere_whatever_the_clocks(
    skewed, offset, creator, work
):
    with tempfile.TemporaryDirectory() as folder:
        where = Path(folder)
        hub = Replica(where, "hub")
        nodes = [Replica(where, "a"), Replica(where, "b")]
        clocks = Clocks({nodes[skewed].name: offset})
        try:
            with (
                mock.patch("app.store.changelog.wall_ms", clocks.wall_ms),
                mock.patch("sync.merge.wall_ms", clocks.wall_ms),
            ):
                for node in nodes:
                    node.connect(hub)
                    clocks.hub_answers(node, hub)
                run(clocks, hub, nodes, creator, work)
        finally:
            for replica in (hub, *nodes):
                replica.close()
            store.close_thread_connections()


def run(clocks: Clocks, hub: Replica, nodes: list[Replica], creator: int, work) -> None:
    maker = nodes[creator]
    with clocks.acting(maker):
        resource = expect(maker, "POST", RESOURCES, {"name": "Chair"}, 201)
        made = {
            "customer": expect(maker, "POST", CUSTOMERS, {"name": "Ada"}, 201),
            "resource": resource,
            "booking": expect(
                maker,
                "POST",
                BOOKINGS,
                {"resource_id": resource["id"], "start_time": "2030-01-07T10:00:00Z"},
                201,
            ),
            "blocker": expect(
                maker,
                "POST",
                BLOCKERS,
                {
                    "resource_id": resource["id"],
                    "title": "Closed",
                    "start_time": "2030-01-08T10:00:00Z",
                    "end_time": "2030-01-08T11:00:00Z",
                },
                201,
            ),
        }
    urls = {kind: f"{PATHS[kind]}/{record['id']}" for kind, record in made.items()}
    last = {kind: made[kind][field] for kind, field in FIELDS.items()}
    blocker_deleted = False
    sync_all(clocks, nodes)

    for number, (acting, kind) in enumerate(work):
        node = nodes[acting]
        with clocks.acting(node):
            node.sync()  # sees every earlier edit: each was synced right after it was made
            if kind == "blocker":
                if not blocker_deleted:
                    # A delete made after seeing the blocker: gone, for good, everywhere.
                    expect(node, "GET", urls[kind])
                    deleted = node.call("DELETE", urls[kind])
                    assert deleted.status_code in (200, 204), deleted.get_json()
                    blocker_deleted = True
                assert node.call("GET", urls[kind]).status_code == 404, node.name
            else:
                field, value = FIELDS[kind], f"{kind} {number} on {node.name}"
                assert expect(node, "GET", urls[kind])[field] == last[kind], (node.name, kind)
                expect(node, "PATCH", urls[kind], {field: value})
                # A write answered 200 is what the very next read shows.
                assert expect(node, "GET", urls[kind])[field] == value, (node.name, kind)
                last[kind] = value
            node.sync()

    sync_all(clocks, nodes)
    for replica in (hub, *nodes):
        for kind, field in FIELDS.items():
            assert expect(replica, "GET", urls[kind])[field] == last[kind], (replica.name, kind)
        status = 404 if blocker_deleted else 200
        assert replica.call("GET", urls["blocker"]).status_code == status, replica.name
    hub_state, held = exported_state(hub), change_ids(hub)
    for node in nodes:
        assert exported_state(node) == hub_state, node.name
        assert change_ids(node) == held, node.name
    # A stamp far ahead (suspect) does not drag an honest clock into the future.
    for replica in (hub, *nodes):
        if clocks.offsets.get(replica.name, 0) <= 0:
            stamp = store.meta(replica.db, "hlc") or "0-"
            assert int(stamp.split("-")[0]) < true_wall_ms() + FIVE_MINUTES, replica.name
    # Staff are told to check the clock that ran ahead, never the one that edited after it.
    honest = {
        node.name: store.node_id(node.db) for node in nodes if node.name not in clocks.offsets
    }
    for anomaly in expect(hub, "GET", "/sync/anomalies"):
        if anomaly["kind"] == "clock_suspect":
            assert anomaly["message"].split()[1] not in honest.values(), anomaly
