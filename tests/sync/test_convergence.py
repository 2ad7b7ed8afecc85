"""Convergence (SYNC.md §7): random work on several nodes, random syncs, lost answers and
duplicate deliveries end with every replica equal to the hub; the order and batching of pushes
do not change the merged state; an interrupted sync equals an uninterrupted one; and the
double booking of one slot, told as a story.

`make soak` runs both property tests with SYNC_EXAMPLES=500 (the default is 15).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import sys
import tempfile
from contextlib import closing
from itertools import combinations
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from app import store
from app.store import changelog
from sync import merge
from sync.client import HubUnavailable
from tests.sync.harness import (
    BLOCKERS,
    BOOKINGS,
    CUSTOMERS,
    RESOURCES,
    SERVICES,
    Replica,
    SteppedClock,
    anomalies,
    change_ids,
    expect,
    exported_state,
    hub_client_for,
    settle,
)

NODES = 3
EXAMPLES = int(os.environ.get("SYNC_EXAMPLES", "15"))  # `make soak` sets 500
DAY = "2030-01-07"
# Few resources and few start times, so that offline bookings collide often; 30 and 60
# minute bookings from these starts also make chains (10:00-11:00 overlaps 10:30-11:30,
# which overlaps 11:00-11:30, which does not overlap 10:00-11:00).
STARTS = [f"{DAY}T10:00:00Z", f"{DAY}T10:30:00Z", f"{DAY}T11:00:00Z"]
DURATIONS = [30, 60]
BLOCKER_STARTS = [f"{DAY}T10:00:00Z", f"{DAY}T12:00:00Z"]
TARGETS = ["confirmed", "checked_in", "completed", "cancelled", "no_show"]
FORWARD = {"pending": "confirmed", "confirmed": "checked_in", "checked_in": "completed"}

node_numbers = st.integers(0, NODES - 1)
MAX_COPIES = 2  # nodes the state machine may add, each from a copy of another's file
acting = st.integers(0, NODES + MAX_COPIES - 1)  # taken modulo the nodes there are
picks = st.integers(0, 1_000)
names = st.sampled_from(["Ada", "Bo", "Cy", "Di"])
titles = st.one_of(st.none(), st.sampled_from(["Trim", "Colour", "Shave"]))
customer_patches = st.fixed_dictionaries(
    {},
    optional={
        "name": names,
        "phone": st.sampled_from(["1", "2", "3"]),
        "email": st.sampled_from(["a@example.com", "b@example.com"]),
        "tags": st.lists(st.sampled_from(["vip", "new"]), max_size=2),
    },
)
resource_patches = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["Chair", "Sink", "Room"]),
        "default_duration_minutes": st.sampled_from([30, 60, 90]),
    },
)


def copy_database(replica: Replica, path: Path) -> None:
    """A consistent copy of a replica's live file (SQLite's backup API)."""
    with closing(sqlite3.connect(path)) as copy:
        replica.db.conn.backup(copy)


def marked_copy(source: Path, path: Path) -> Path:
    """A copy of `source` with the mark `booking backup` leaves on the backups it writes."""
    shutil.copyfile(source, path)
    copy = store.open_db(str(path))
    store.mark_as_backup(copy)
    copy.close()
    return path


def put_back(source: Path, replica: Replica, aside: Path | None = None) -> Replica:
    """Close the replica, put `source` in place of its file (WAL and -shm removed first) and
    open it again with the same sync key. Over the live file (its inode stays), or with
    `aside`, as a new file, the broken one kept there so its inode is not handed on."""
    replica.close()
    store.close_thread_connections()
    live = Path(replica.path)
    for suffix in ("-wal", "-shm"):
        Path(f"{live}{suffix}").unlink(missing_ok=True)
    if aside is not None:
        live.rename(aside)
    shutil.copyfile(source, live)  # onto the existing file when there is one: same inode
    return replica.reopen()


def assert_like_the_hub(hub: Replica, node: Replica, names: set[str]) -> None:
    """Both hold exactly the customers `names`, the same records and every change."""
    for replica in (hub, node):
        held = {row[0] for row in replica.db.execute("SELECT name FROM customers")}
        assert held == names, replica.name
    assert exported_state(node) == exported_state(hub)
    assert change_ids(node) == change_ids(hub)


def allowed(response, *statuses: int) -> None:
    """An operation a random run may fairly be refused (the record is unknown on this node,
    the slot is taken there, the move is not allowed): never a 500, never anything else."""
    assert response.status_code in statuses, response.get_json()


def overlapping_pairs(replica: Replica) -> list[tuple[str, str]]:
    """Pairs of active bookings overlapping on one resource."""
    rows = replica.db.execute(
        "SELECT id, resource_id, start_time, end_time FROM bookings "
        "WHERE status IN ('pending', 'confirmed', 'checked_in') ORDER BY id"
    ).fetchall()
    return [
        (a[0], b[0])
        for a, b in combinations(rows, 2)
        if a[1] == b[1] and a[2] < b[3] and b[2] < a[3]
    ]


def assert_overlaps_are_double_booking_anomalies(replica: Replica) -> None:
    """No two active bookings overlap unless staff were told: a double_booking anomaly names
    the pair, or each of the two is a booking that could not be cancelled (with several
    customers already in one chair, each is reported against the slot's rightful holder)."""
    recorded = replica.db.execute(
        "SELECT booking_id, other_booking_id FROM anomalies WHERE kind = 'double_booking'"
    ).fetchall()
    named = {frozenset(row) for row in recorded}
    seated = {booking_id for booking_id, _ in recorded}
    unexplained = [
        pair
        for pair in overlapping_pairs(replica)
        if frozenset(pair) not in named and not set(pair) <= seated
    ]
    assert not unexplained, f"{replica.name}: active bookings overlap: {unexplained}"


# --- the state machine ------------------------------------------------------------------------


class SyncingShops(RuleBasedStateMachine):
    """A hub and three shop laptops doing random work and syncing at random.

    Customers, spare resources and blockers are picked by `pick` (an index taken modulo the
    ids made so far, anywhere), so a node often acts on one it has not heard of yet: a fair
    404 or 422. Bookings are picked among those the acting node holds.
    """

    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        where = self.where = Path(self.folder.name)
        self.hub = Replica(where, "hub")
        self.nodes = [Replica(where, f"n{number}") for number in range(NODES)]
        for node in self.nodes:
            node.connect(self.hub)
        self.made: dict[str, list[str]] = {
            "customers": [],
            "resources": [],
            "blockers": [],
            "services": [],
        }
        self.chairs: list[str] = []
        self.snapshots: list[tuple[str, Path]] = []  # (node name, earlier copy of its file)
        self.files = 0

    def _node(self, number: int) -> Replica:
        """The acting node: an index taken modulo the nodes there are (copies join them)."""
        return self.nodes[number % len(self.nodes)]

    def _pick(self, kind: str, pick: int) -> str | None:
        made = self.made[kind]
        return made[pick % len(made)] if made else None

    @initialize()
    def two_chairs_known_everywhere(self):
        first = self.nodes[0]
        for number in (1, 2):
            chair = expect(first, "POST", RESOURCES, {"name": f"Chair {number}"}, 201)
            self.chairs.append(chair["id"])
        for node in self.nodes:
            node.sync()

    # customers, resources, blockers

    @rule(
        node=acting,
        action=st.sampled_from(["create", "patch", "delete"]),
        pick=picks,
        name=names,
        patch=customer_patches,
    )
    def customer_work(self, node, action, pick, name, patch):
        replica, customer = self._node(node), self._pick("customers", pick)
        if action == "create":
            made = expect(replica, "POST", CUSTOMERS, {"name": name}, 201)
            self.made["customers"].append(made["id"])
        elif customer is None:
            return
        elif action == "patch":
            allowed(replica.call("PATCH", f"{CUSTOMERS}/{customer}", patch), 200, 404)
        else:
            allowed(replica.call("DELETE", f"{CUSTOMERS}/{customer}"), 200, 404)

    @rule(
        node=acting,
        action=st.sampled_from(["create", "patch", "rename_chair", "delete"]),
        pick=picks,
        name=names,
        patch=resource_patches,
    )
    def resource_work(self, node, action, pick, name, patch):
        """Spare resources come and go; the two chairs are renamed but never deleted."""
        replica, spare = self._node(node), self._pick("resources", pick)
        if action == "rename_chair":
            url = f"{RESOURCES}/{self.chairs[pick % 2]}"
            allowed(replica.call("PATCH", url, {"name": name}), 200)
        elif action == "create":
            made = expect(replica, "POST", RESOURCES, {"name": name}, 201)
            self.made["resources"].append(made["id"])
        elif spare is None:
            return
        elif action == "patch":
            allowed(replica.call("PATCH", f"{RESOURCES}/{spare}", patch), 200, 404)
        else:
            allowed(replica.call("DELETE", f"{RESOURCES}/{spare}"), 200, 404, 422)

    @rule(
        node=acting,
        action=st.sampled_from(["create", "delete"]),
        pick=picks,
        start=st.sampled_from(BLOCKER_STARTS),
    )
    def blocker_work(self, node, action, pick, start):
        replica, blocker = self._node(node), self._pick("blockers", pick)
        if action == "create" or blocker is None:
            resources = self.chairs + self.made["resources"]
            body = {
                "resource_id": resources[pick % len(resources)],
                "title": "Closed",
                "start_time": start,
                "end_time": start.replace(":00:00Z", ":30:00Z"),
            }
            response = replica.call("POST", BLOCKERS, body)
            allowed(response, 201, 422)  # unknown_resource
            if response.status_code == 201:
                self.made["blockers"].append(response.get_json()["data"]["id"])
        else:
            allowed(replica.call("DELETE", f"{BLOCKERS}/{blocker}"), 200, 404)

    # bookings

    def _book(self, node: int, chair: int, start: str, minutes: int, customer: int | None):
        body = {"resource_id": self.chairs[chair], "start_time": start, "duration_minutes": minutes}
        if customer is not None and self.made["customers"]:
            body["customer_id"] = self._pick("customers", customer)
        response = self._node(node).call("POST", BOOKINGS, body)
        allowed(response, 201, 422)  # slot_conflict, unknown_customer
        return response.get_json()["data"]["id"] if response.status_code == 201 else None

    @rule(
        node=acting,
        chair=st.integers(0, 1),
        start=st.sampled_from(STARTS),
        minutes=st.sampled_from(DURATIONS),
        customer=st.one_of(st.none(), picks),
    )
    def book(self, node, chair, start, minutes, customer):
        self._book(node, chair, start, minutes, customer)

    @rule(
        nodes=st.lists(acting, min_size=2, max_size=NODES, unique=True),
        chair=st.integers(0, 1),
        start=st.sampled_from(STARTS),
        minutes=st.sampled_from(DURATIONS),
        seat=st.sampled_from([None, 0, -1]),
    )
    def book_one_slot_on_several_nodes(self, nodes, chair, start, minutes, seat):
        """Shops that have not synced take the same slot: the double booking sync must fix.
        With `seat`, one of those customers is checked in at once (then it cannot be undone)."""
        made = [(node, self._book(node, chair, start, minutes, None)) for node in nodes]
        if seat is not None and made[seat][1] is not None:
            node, booking = made[seat]
            for status in ("confirmed", "checked_in"):
                url = f"{BOOKINGS}/{booking}/transition"
                expect(self._node(node), "POST", url, {"status": status})

    def _known_booking(self, node: int, pick: int) -> str | None:
        """A booking this node knows (its own, or one it pulled), picked by `pick`."""
        rows = self._node(node).db.execute("SELECT id FROM bookings ORDER BY id").fetchall()
        return rows[pick % len(rows)][0] if rows else None

    @rule(node=acting, pick=picks, target_status=st.sampled_from(TARGETS))
    def transition(self, node, pick, target_status):
        booking = self._known_booking(node, pick)
        if booking is not None:
            url = f"{BOOKINGS}/{booking}/transition"
            allowed(self._node(node).call("POST", url, {"status": target_status}), 200, 422)

    @rule(node=acting, pick=picks)
    def move_along(self, node, pick):
        """The usual day: pending → confirmed → checked_in → completed."""
        booking = self._known_booking(node, pick)
        if booking is not None:
            status = store.get_booking(self._node(node).db, booking)["status"]
            if status in FORWARD:
                body = {"status": FORWARD[status]}
                url = f"{BOOKINGS}/{booking}/transition"
                allowed(self._node(node).call("POST", url, body), 200)

    @rule(node=acting, pick=picks, title=titles)
    def retitle_booking(self, node, pick, title):
        booking = self._known_booking(node, pick)
        if booking is not None:
            url = f"{BOOKINGS}/{booking}"
            allowed(self._node(node).call("PATCH", url, {"title": title}), 200, 422)

    @rule(
        node=acting,
        pick=picks,
        chair=st.one_of(st.none(), st.integers(0, 1)),
        start=st.one_of(st.none(), st.sampled_from(STARTS)),
        minutes=st.one_of(st.none(), st.sampled_from(DURATIONS)),
    )
    def move_booking(self, node, pick, chair, start, minutes):
        """Another time, chair or length: into slots other nodes may have booked offline."""
        booking = self._known_booking(node, pick)
        if booking is None:
            return
        body = {"start_time": start or STARTS[pick % len(STARTS)]}
        if chair is not None:
            body["resource_id"] = self.chairs[chair]
        if minutes is not None:
            body["duration_minutes"] = minutes
        url = f"{BOOKINGS}/{booking}/move"
        allowed(self._node(node).call("POST", url, body), 200, 422)

    @rule(node=acting, pick=picks)
    def undo_status(self, node, pick):
        """Staff take back the latest status change, as this node sees it."""
        booking = self._known_booking(node, pick)
        if booking is None:
            return
        replica = self._node(node)
        events = expect(replica, "GET", f"{BOOKINGS}/{booking}")["events"]
        changes = [e for e in events if e["type"] == "status_changed"]
        if changes:
            body = {"event_id": changes[-1]["id"]}
            # slot_conflict, or invalid_correction (an undo already, or a sync decision)
            allowed(replica.call("POST", f"{BOOKINGS}/{booking}/undo", body), 200, 422)

    @rule(
        node=acting,
        action=st.sampled_from(["create", "patch", "delete", "book"]),
        pick=picks,
        chair=st.integers(0, 1),
        start=st.sampled_from(STARTS),
        price=st.sampled_from([0, 2500, 8000]),
    )
    def service_work(self, node, action, pick, chair, start, price):
        """Services come and go and change price; a booking may name one (on either chair)."""
        replica, service = self._node(node), self._pick("services", pick)
        if action == "create":
            body = {
                "name": "Trim",
                "duration_minutes": 30,
                "price_minor": price,
                "currency": "EUR",
                "resource_ids": self.chairs[: 1 + pick % 2],
            }
            made = expect(replica, "POST", SERVICES, body, 201)
            self.made["services"].append(made["id"])
        elif service is None:
            return
        elif action == "patch":
            body = {"price_minor": price, "buffer_minutes": pick % 3 * 10}
            allowed(replica.call("PATCH", f"{SERVICES}/{service}", body), 200, 404)
        elif action == "delete":
            allowed(replica.call("DELETE", f"{SERVICES}/{service}"), 200, 404)
        else:
            body = {"resource_id": self.chairs[chair], "start_time": start, "service_id": service}
            # slot_conflict, unknown_service (not here yet, or deleted), service_not_offered
            allowed(replica.call("POST", BOOKINGS, body), 201, 422)

    @rule(node=acting, pick=picks)
    def delete_booking(self, node, pick):
        booking = self._known_booking(node, pick)
        if booking is not None:
            allowed(self._node(node).call("DELETE", f"{BOOKINGS}/{booking}"), 200, 422)

    # the network

    @rule(node=acting, batch=st.integers(1, 6), page=st.integers(1, 8))
    def sync(self, node, batch, page):
        self._node(node).sync(batch=batch, page_size=page)

    @rule(node=acting, delivered=st.integers(0, 3), batch=st.integers(1, 6), page=st.integers(1, 8))
    def lose_answer(self, node, delivered, batch, page):
        """The hub handles a request but its answer never arrives (after `delivered` did)."""
        transport = self._node(node).transport
        transport.drop_next, transport.deliver_before_drop = 1, delivered
        try:
            self._node(node).sync(batch=batch, page_size=page)
        except HubUnavailable:
            assert transport.drop_next == 0
        else:  # the sync needed fewer calls than that
            assert delivered > 0
        finally:
            transport.drop_next = transport.deliver_before_drop = 0

    @rule(node=acting, data=st.data())
    def duplicate(self, node, data):
        """Deliver an already acknowledged batch to the hub again."""
        replica = self._node(node)
        acked = int(store.sync_state(replica.db).get("acked_through") or 0)
        if not acked:
            return
        first = data.draw(st.integers(1, acked), label="from")
        last = data.draw(st.integers(first, acked), label="through")
        batch = changelog.own_pending(replica.db, first - 1, last - first + 1)
        before = change_ids(self.hub)
        answer = replica.hub_client.push(store.node_id(replica.db), batch)
        assert answer["acked_through"] >= last
        assert change_ids(self.hub) == before

    # copies and restores (SYNC.md §3a)

    def _new_file(self, stem: str) -> Path:
        self.files += 1
        return self.where / f"{stem}-{self.files}.db"

    @rule(node=acting)
    def snapshot(self, node):
        """An earlier copy of a laptop's file, as a backup tool takes it (SQLite's backup API,
        no mark of `booking backup`), kept in the machine's folder."""
        replica = self._node(node)
        path = self._new_file(f"snapshot-{replica.name}")
        copy_database(replica, path)
        self.snapshots.append((replica.name, path))

    @rule(pick=picks, same_inode=st.booleans(), marked=st.booleans())
    def restore_from_snapshot(self, pick, same_inode, marked):
        """A laptop gets an earlier copy of its own file back, after a repair: put over the
        live file (its inode stays) or as a new file, with or without the mark `booking
        backup` leaves; then it opens again with the same sync key."""
        if not self.snapshots:
            return
        name, snapshot = self.snapshots[pick % len(self.snapshots)]
        number = next(i for i, node in enumerate(self.nodes) if node.name == name)
        replica = self.nodes[number]
        # What a laptop wrote after its last sync and before its disk was replaced is gone
        # with that disk, so "every change made anywhere is held everywhere" could not hold
        # for it. A laptop repaired after a fault synced before it broke: sync first.
        replica.sync()
        source = snapshot
        if marked:
            source = marked_copy(snapshot, self._new_file("marked"))
        aside = None if same_inode else self._new_file(f"broken-{name}")
        self.nodes[number] = put_back(source, replica, aside)

    @rule(node=acting)
    def copy_to_new_node(self, node):
        """A second counter set up from a copy of a laptop's file, with a sync key of its own
        (at most MAX_COPIES of them)."""
        if len(self.nodes) >= NODES + MAX_COPIES:
            return
        name = f"copy{len(self.nodes) - NODES + 1}"
        source = self._node(node)
        copy_database(source, self.where / f"{name}.db")
        replica = Replica(self.where, name)
        replica.connect(self.hub)
        self.nodes.append(replica)

    # what must hold

    @invariant()
    def the_hub_leaves_no_overlap_unresolved(self):
        assert_overlaps_are_double_booking_anomalies(self.hub)

    def teardown(self):
        try:
            # Hypothesis calls teardown() from a `finally`: when a step failed, its error is
            # in flight here, and syncing on top of a broken run would only mask it.
            if sys.exc_info()[1] is None:
                self.sync_everyone_and_compare()
        finally:
            for replica in (self.hub, *self.nodes):
                replica.close()
            store.close_thread_connections()
            self.folder.cleanup()

    def sync_everyone_and_compare(self):
        settle(self.nodes)
        settle(self.nodes)  # quiet twice: nothing is still on its way anywhere
        everyone = [self.hub, *self.nodes]
        hub_state = exported_state(self.hub)
        for node in self.nodes:
            assert exported_state(node) == hub_state, f"{node.name} differs from the hub"
        # Nothing written anywhere is lost: every change made anywhere is held everywhere.
        held = change_ids(self.hub)
        for node in self.nodes:
            assert change_ids(node) == held, node.name
        # Every booking event made anywhere exists everywhere, unless its booking was deleted.
        made = {
            (change["entity_id"], change["payload"]["booking_id"])
            for replica in everyone
            for change in changelog.own_pending(replica.db, 0, 100_000)
            if change["entity"] == "booking_event"
        }
        for replica in everyone:
            events = {row[0] for row in replica.db.execute("SELECT id FROM booking_events")}
            for event_id, booking_id in made:
                assert event_id in events or store.is_tombstoned(
                    replica.db, "booking", booking_id
                ), (replica.name, event_id)
        for replica in everyone:
            assert_overlaps_are_double_booking_anomalies(replica)
        listed = anomalies(self.hub)
        for node in self.nodes:
            assert anomalies(node) == listed, node.name


SyncingShops.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestSyncingShopsConverge = SyncingShops.TestCase


def test_a_copy_of_a_laptop_put_back_over_itself_before_it_synced_ends_like_the_hub(tmp_path):
    """Found by the state machine: a laptop put back over its own file from an earlier plain
    copy writes before its next sync, and its file is copied to a second laptop meanwhile."""
    hub, node = Replica(tmp_path, "hub"), Replica(tmp_path, "node")
    node.connect(hub)
    copy = None
    try:
        expect(node, "POST", CUSTOMERS, {"name": "Before the copy"}, 201)
        node.sync()
        plain = tmp_path / "plain-copy.db"
        copy_database(node, plain)
        expect(node, "POST", CUSTOMERS, {"name": "After the copy"}, 201)
        node.sync()
        node = put_back(plain, node)
        expect(node, "POST", CUSTOMERS, {"name": "After the restore"}, 201)
        copy_database(node, tmp_path / "second.db")
        copy = Replica(tmp_path, "second")
        copy.connect(hub)
        settle([node, copy])
        settle([node, copy])
        for replica in (node, copy):
            assert exported_state(replica) == exported_state(hub), replica.name
    finally:
        hub.close()
        node.close()
        if copy is not None:
            copy.close()
        store.close_thread_connections()


def test_writes_only_in_a_restored_backup_reach_the_hub(tmp_path):
    """A laptop writes offline, `booking backup` copies its file, and the laptop is lost
    before it syncs: the restored file re-issues what the hub never confirmed."""
    hub, node = Replica(tmp_path, "hub"), Replica(tmp_path, "node")
    node.connect(hub)
    try:
        expect(node, "POST", CUSTOMERS, {"name": "Synced"}, 201)
        node.sync()
        expect(node, "POST", CUSTOMERS, {"name": "Only in the backup"}, 201)
        copy_database(node, tmp_path / "plain.db")
        backup = marked_copy(tmp_path / "plain.db", tmp_path / "backup.db")
        node = put_back(backup, node, aside=tmp_path / "dead-disk.db")
        settle([node])
        assert_like_the_hub(hub, node, {"Synced", "Only in the backup"})
    finally:
        hub.close()
        node.close()
        store.close_thread_connections()


def test_a_booking_written_before_a_copy_is_sent_by_both_laptops_and_ends_alike(tmp_path):
    """Unsynced writes at the moment of a copy leave with both files: the original sends them
    under its id, the copy re-issues them under its own. The booking's events then arrive
    twice under two stamps, and every replica keeps the lower one."""
    hub, node = Replica(tmp_path, "hub"), Replica(tmp_path, "node")
    node.connect(hub)
    copy = None
    try:
        chair = expect(node, "POST", RESOURCES, {"name": "Chair"}, 201)
        node.sync()
        slot = {"resource_id": chair["id"], "start_time": "2030-05-01T10:00:00Z"}
        booking = expect(node, "POST", BOOKINGS, slot, 201)
        expect(node, "POST", f"{BOOKINGS}/{booking['id']}/transition", {"status": "confirmed"}, 200)
        copy_database(node, tmp_path / "second.db")
        copy = Replica(tmp_path, "second")
        copy.connect(hub)
        settle([copy, node])
        settle([copy, node])
        for replica in (node, copy):
            assert exported_state(replica) == exported_state(hub), replica.name
        events = hub.db.execute(
            "SELECT count(*) FROM booking_events WHERE booking_id = ?", [booking["id"]]
        ).fetchone()[0]
        assert events == 2  # created and confirmed, each once
        sent_twice = hub.db.execute(
            "SELECT count(*) FROM change_log WHERE entity = 'booking_event'"
        ).fetchone()[0]
        assert sent_twice == 4  # each event under the original's id and under the copy's
    finally:
        hub.close()
        node.close()
        if copy is not None:
            copy.close()
        store.close_thread_connections()


def test_a_laptop_restored_twice_over_its_own_file_keeps_its_sync_key(tmp_path):
    """Found by the state machine (SYNC.md §3a: a backup restored twice; a restored laptop
    keeps its sync key). A laptop is restored from `booking backup` over its own file: it
    forks and its key moves to the new id. Later it is restored again, from a plain copy
    taken before the first restore, over the same file: that copy carries the first node id
    and the file's seat, so nothing local tells it apart; the hub must, on first contact."""
    hub, node = Replica(tmp_path, "hub"), Replica(tmp_path, "node")
    node.connect(hub)
    try:
        expect(node, "POST", CUSTOMERS, {"name": "Before the copy"}, 201)
        node.sync()
        plain = tmp_path / "plain-copy.db"
        copy_database(node, plain)
        expect(node, "POST", CUSTOMERS, {"name": "After the copy"}, 201)
        node.sync()

        node = put_back(marked_copy(plain, tmp_path / "backup.db"), node)
        expect(node, "POST", CUSTOMERS, {"name": "After the first restore"}, 201)
        node.sync()  # the key moves to the restored laptop's new id

        node = put_back(plain, node)
        expect(node, "POST", CUSTOMERS, {"name": "After the second restore"}, 201)
        settle([node])
        names = {
            "Before the copy",
            "After the copy",
            "After the first restore",
            "After the second restore",
        }
        assert_like_the_hub(hub, node, names)
    finally:
        hub.close()
        node.close()
        store.close_thread_connections()


def test_a_write_landing_between_push_and_pull_of_a_restored_laptop_is_not_lost(tmp_path):
    """Found by tests/live/test_copies.py (a plain copy put back over the same inode: the
    server's worker syncs while the shop writes). The restored file carries the old node id;
    its sync has nothing to push, and a write lands before the pull, whose high-water mark
    shows the hub holds more of this node id than the file: the file forks (identity.BEHIND).
    That write reused a change id the hub holds with other content; it must be re-issued
    under the new id, not taken as shared with the original."""
    hub, node = Replica(tmp_path, "hub"), Replica(tmp_path, "node")
    node.connect(hub)
    try:
        expect(node, "POST", CUSTOMERS, {"name": "Before the copy"}, 201)
        node.sync()
        plain = tmp_path / "plain-copy.db"
        copy_database(node, plain)
        for number in (1, 2):
            expect(node, "POST", CUSTOMERS, {"name": f"After the copy {number}"}, 201)
        node.sync()
        node = put_back(plain, node)  # over the same file, no mark: only the hub can tell

        transport = node.transport
        assert transport is not None
        forward, written = transport.request, []

        def request(method, url, **kwargs):
            if method == "GET" and "/sync/pull" in url and not written:
                # The shop writes while the worker's sync is between its push and its pull.
                written.append(expect(node, "POST", CUSTOMERS, {"name": "During the sync"}, 201))
            return forward(method, url, **kwargs)

        transport.request = request
        settle([node])
        assert written
        names = {"Before the copy", "After the copy 1", "After the copy 2", "During the sync"}
        assert_like_the_hub(hub, node, names)
    finally:
        hub.close()
        node.close()
        store.close_thread_connections()


# --- order independence -------------------------------------------------------------------------

SEEDED_SLOT = {"start_time": f"{DAY}T14:00:00Z", "duration_minutes": 60}
# The merge rules (LWW per field, tombstones, replay in event order) never depend on arrival.
# The hub's double-booking decisions do, by design: it acts on what it holds when a push
# lands, and its cancellations cannot be taken back. (If a booking is cancelled or deleted on
# its own node, a rival arriving between that booking and its cancellation is cancelled for
# it; arriving after, it keeps the slot.) So the offline work here keeps overlapping bookings
# from losing the slot by themselves: bookings starting at 10:00 (all of one resource
# overlap each other) are only made, retitled and confirmed; the seeded booking at 14:00,
# which nothing overlaps, may move anywhere.
booking_in_a_shared_slot = st.tuples(
    st.just("book"),
    st.integers(0, 1),
    st.just(f"{DAY}T10:00:00Z"),
    st.sampled_from(DURATIONS),
)
moving_the_seeded_booking = st.tuples(st.just("move_seeded"), st.sampled_from(TARGETS))
# Later times on either resource, which no other booking here takes: moves and undos of the
# seeded booking converge by event order alone, whatever the delivery.
rescheduling_the_seeded_booking = st.tuples(
    st.just("reschedule_seeded"),
    st.integers(0, 1),
    st.sampled_from([f"{DAY}T15:00:00Z", f"{DAY}T16:00:00Z", f"{DAY}T16:30:00Z"]),
)
offline_ops = st.one_of(
    st.tuples(st.just("create_customer"), names),
    st.tuples(st.just("patch_customer"), picks, customer_patches),
    st.tuples(st.just("delete_customer"), picks),
    st.tuples(st.just("patch_resource"), st.integers(0, 1), resource_patches),
    booking_in_a_shared_slot,
    booking_in_a_shared_slot,  # twice: collisions are the point
    st.tuples(st.just("retitle"), picks, titles),
    st.tuples(st.just("confirm"), picks),
    moving_the_seeded_booking,
    moving_the_seeded_booking,
    st.tuples(st.just("retitle_seeded"), titles),
    rescheduling_the_seeded_booking,
    st.tuples(st.just("undo_seeded")),
)
schedules = st.lists(st.tuples(node_numbers, st.integers(1, 4)), max_size=12)


def run_offline(nodes: list[Replica], seeded: dict, work: list[tuple]) -> None:
    """Each (node, op) of `work`, with no sync in between."""
    customers = list(seeded["customers"])
    bookings: list[str] = []
    for number, op in work:
        node, kind = nodes[number], op[0]
        if kind == "create_customer":
            customers.append(expect(node, "POST", CUSTOMERS, {"name": op[1]}, 201)["id"])
        elif kind == "patch_customer":
            url = f"{CUSTOMERS}/{customers[op[1] % len(customers)]}"
            allowed(node.call("PATCH", url, op[2]), 200, 404)
        elif kind == "delete_customer":
            url = f"{CUSTOMERS}/{customers[op[1] % len(customers)]}"
            allowed(node.call("DELETE", url), 200, 404)
        elif kind == "patch_resource":
            url = f"{RESOURCES}/{seeded['resources'][op[1]]}"
            allowed(node.call("PATCH", url, op[2]), 200)
        elif kind == "book":
            body = {
                "resource_id": seeded["resources"][op[1]],
                "start_time": op[2],
                "duration_minutes": op[3],
            }
            response = node.call("POST", BOOKINGS, body)
            allowed(response, 201, 422)
            if response.status_code == 201:
                bookings.append(response.get_json()["data"]["id"])
        elif kind == "retitle" and bookings:
            url = f"{BOOKINGS}/{bookings[op[1] % len(bookings)]}"
            allowed(node.call("PATCH", url, {"title": op[2]}), 200, 404)
        elif kind == "confirm" and bookings:
            url = f"{BOOKINGS}/{bookings[op[1] % len(bookings)]}/transition"
            allowed(node.call("POST", url, {"status": "confirmed"}), 200, 404, 422)
        elif kind == "move_seeded":
            url = f"{BOOKINGS}/{seeded['booking']}/transition"
            allowed(node.call("POST", url, {"status": op[1]}), 200, 422)
        elif kind == "retitle_seeded":
            url = f"{BOOKINGS}/{seeded['booking']}"
            allowed(node.call("PATCH", url, {"title": op[1]}), 200, 422)
        elif kind == "reschedule_seeded":
            body = {"resource_id": seeded["resources"][op[1]], "start_time": op[2]}
            allowed(node.call("POST", f"{BOOKINGS}/{seeded['booking']}/move", body), 200, 422)
        elif kind == "undo_seeded":
            url = f"{BOOKINGS}/{seeded['booking']}"
            changes = [
                e for e in expect(node, "GET", url)["events"] if e["type"] == "status_changed"
            ]
            if changes:
                body = {"event_id": changes[-1]["id"]}
                allowed(node.call("POST", f"{url}/undo", body), 200, 422)


def deliver(hub: Replica, nodes: list[Replica], schedule: list[tuple], order: list[int]) -> None:
    """Push every node's own changes to `hub`: first `schedule`'s (node, batch size) steps,
    then whatever is left, node by node in `order`, one batch each."""
    clients = [hub_client_for(node, hub) for node in nodes]
    sent = [0] * len(nodes)

    def push(number: int, size: int) -> None:
        node = nodes[number]
        batch = changelog.own_pending(node.db, sent[number], size)
        if batch:
            sent[number] = clients[number].push(store.node_id(node.db), batch)["acked_through"]

    for number, size in schedule:
        push(number, size)
    for number in order:
        push(number, 100_000)


def materialized(hub: Replica) -> dict:
    """What users see, leaving out what the hub itself made up: its events' ids and times,
    and which earlier booking a sync_conflict cancellation names. (With three bookings of one
    slot arriving latest first, the hub rightly cancels the third for the second, then the
    second for the first: the third's reason names the second, a booking it did overlap.)"""
    hub_node = store.node_id(hub.db)
    db = hub.db

    def rows(sql: str, params: list | tuple = ()) -> list[tuple]:
        found = [
            tuple(WINNER.sub("overlaps bk_…", v) if isinstance(v, str) else v for v in row)
            for row in db.execute(sql, params).fetchall()
        ]
        return sorted(found, key=repr)

    state = {
        table: rows(f"SELECT * FROM {table}")
        for table in ("customers", "resources", "blockers", "tombstones")
    }
    state["bookings"] = rows(
        "SELECT id, resource_id, customer_id, start_time, end_time, title, notes, metadata, "
        "status, cancel_reason, created_at FROM bookings"
    )
    state["node_events"] = rows(
        "SELECT id, hlc, applied, anomaly FROM booking_events WHERE node_id != ?", [hub_node]
    )
    state["hub_events"] = rows(
        "SELECT booking_id, type, to_status, actor, data, applied, anomaly "
        "FROM booking_events WHERE node_id = ?",
        [hub_node],
    )
    return state


WINNER = re.compile(r"overlaps bk_[0-9A-Z]+")


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    slots=st.lists(st.tuples(node_numbers, booking_in_a_shared_slot), min_size=2, max_size=5),
    work=st.lists(st.tuples(node_numbers, offline_ops), min_size=6, max_size=20),
    first_schedule=schedules,
    second_schedule=schedules,
    first_order=st.permutations(range(NODES)),
    second_order=st.permutations(range(NODES)),
)
def test_any_delivery_order_and_batching_of_the_same_changes_gives_the_same_state(
    slots, work, first_schedule, second_schedule, first_order, second_order
):
    with tempfile.TemporaryDirectory() as folder:
        where = Path(folder)
        nodes = [Replica(where, f"n{number}") for number in range(NODES)]
        hubs = [Replica(where, "hub1"), Replica(where, "hub2")]
        try:
            seeded = seed_shared_records(nodes)
            run_offline(nodes, seeded, slots + work)
            deliver(hubs[0], nodes, first_schedule, first_order)
            deliver(hubs[1], nodes, second_schedule, second_order)
            assert materialized(hubs[0]) == materialized(hubs[1])
            assert_overlaps_are_double_booking_anomalies(hubs[0])
        finally:
            for replica in (*nodes, *hubs):
                replica.close()
            store.close_thread_connections()


def seed_shared_records(nodes: list[Replica]) -> dict:
    """Two customers, two chairs and a booking made on the first node, copied to the others
    the way a pull would, so every node can work on them offline."""
    first = nodes[0]
    seeded = {
        "customers": [
            expect(first, "POST", CUSTOMERS, {"name": name}, 201)["id"] for name in ("Ada", "Bo")
        ],
        "resources": [
            expect(first, "POST", RESOURCES, {"name": name}, 201)["id"] for name in ("A", "B")
        ],
    }
    body = {"resource_id": seeded["resources"][0], **SEEDED_SLOT}
    seeded["booking"] = expect(first, "POST", BOOKINGS, body, 201)["id"]
    made = changelog.own_pending(first.db, 0, 100)
    for node in nodes[1:]:
        with store.transaction(node.db):
            merge.apply_changes(node.db, made)
    return seeded


# --- resumability ---------------------------------------------------------------------------


@pytest.fixture
def busy_hub(tmp_path, monkeypatch):
    """A hub holding a day's work from two shops, a settled double booking among it, and two
    fresh laptops (c with one change of its own) that have never synced."""
    clock = SteppedClock(monkeypatch)
    hub, a, b, c, d = (Replica(tmp_path, name) for name in ("hub", "a", "b", "c", "d"))
    for node in (a, b, c, d):
        node.connect(hub)
    chair = expect(a, "POST", RESOURCES, {"name": "Chair"}, 201)
    settle([a, b])
    for number, shop in enumerate((a, b)):
        clock.at(number * 1_000)
        expect(shop, "POST", CUSTOMERS, {"name": f"Customer of {shop.name}"}, 201)
        expect(shop, "POST", BOOKINGS, {"resource_id": chair["id"], "start_time": STARTS[0]}, 201)
    settle([a, b])
    expect(c, "POST", CUSTOMERS, {"name": "Walk-in"}, 201)
    yield SimpleNamespace(hub=hub, c=c, d=d)
    for replica in (hub, a, b, c, d):
        replica.close()
    store.close_thread_connections()


# c's sync is one push, then four pages of two (the hub holds seven changes by then).
@pytest.mark.parametrize("delivered", range(5))
def test_a_sync_cut_off_anywhere_then_resumed_equals_one_done_in_one_go(busy_hub, delivered):
    cut, whole = busy_hub.c, busy_hub.d
    cut.transport.drop_next, cut.transport.deliver_before_drop = 1, delivered
    with pytest.raises(HubUnavailable):
        cut.sync(batch=1, page_size=2)
    cut.sync(batch=1, page_size=2)
    whole.sync()
    cut.sync()  # nothing new for it but what `whole` may have pushed (nothing)
    assert exported_state(cut) == exported_state(whole) == exported_state(busy_hub.hub)
    assert change_ids(cut) == change_ids(whole) == change_ids(busy_hub.hub)
    assert anomalies(cut) == anomalies(whole)


# --- the double booking, as a story -------------------------------------------------------------


@pytest.fixture
def shops(tmp_path, monkeypatch):
    clock = SteppedClock(monkeypatch)
    hub, a, b = (Replica(tmp_path, name) for name in ("hub", "a", "b"))
    a.connect(hub)
    b.connect(hub)
    chair = expect(a, "POST", RESOURCES, {"name": "Chair"}, 201)
    settle([a, b])
    yield SimpleNamespace(hub=hub, a=a, b=b, everyone=[hub, a, b], chair=chair, clock=clock)
    for replica in (hub, a, b):
        replica.close()
    store.close_thread_connections()


def book(node: Replica, chair: dict, start: str) -> dict:
    body = {"resource_id": chair["id"], "start_time": start, "duration_minutes": 60}
    return expect(node, "POST", BOOKINGS, body, 201)


def test_two_shops_booking_one_slot_offline_end_with_the_first_created_booking_everywhere(shops):
    shops.clock.at(1_000)
    first = book(shops.a, shops.chair, f"{DAY}T10:00:00Z")
    shops.clock.at(2_000)
    second = book(shops.b, shops.chair, f"{DAY}T10:30:00Z")
    shops.b.sync()  # the hub hears of the later booking first: nothing to settle yet
    assert expect(shops.hub, "GET", f"{BOOKINGS}/{second['id']}")["status"] == "pending"

    # a pushes its booking (the hub settles the clash at once) and starts pulling page by
    # page, but the network drops out after the page with b's booking.
    shops.a.transport.drop_next, shops.a.transport.deliver_before_drop = 1, 2
    with pytest.raises(HubUnavailable):
        shops.a.sync(page_size=1)
    seen = {b["id"]: b for b in expect(shops.a, "GET", BOOKINGS)}
    assert seen[first["id"]]["conflict_with"] == [second["id"]]
    assert seen[second["id"]]["conflict_with"] == [first["id"]]
    assert seen[second["id"]]["status"] == "pending"

    settle([shops.a, shops.b])
    for replica in shops.everyone:
        kept = expect(replica, "GET", f"{BOOKINGS}/{first['id']}")
        lost = expect(replica, "GET", f"{BOOKINGS}/{second['id']}")
        assert (kept["status"], kept["conflict_with"]) == ("pending", [])
        assert (lost["status"], lost["conflict_with"]) == ("cancelled", [])
        assert lost["cancel_reason"] == f"sync_conflict: overlaps {first['id']}"
        decision = lost["events"][-1]
        assert decision["type"] == "status_changed" and decision["actor"] == "sync"
        assert (decision["from_status"], decision["to_status"]) == ("pending", "cancelled")
        assert decision["node_id"] == store.node_id(shops.hub.db)
        assert anomalies(replica) == []
    assert exported_state(shops.a) == exported_state(shops.b) == exported_state(shops.hub)


def test_a_clash_with_a_customer_already_in_the_chair_cancels_nothing_and_is_an_anomaly(shops):
    shops.clock.at(1_000)
    first = book(shops.a, shops.chair, f"{DAY}T10:00:00Z")
    shops.clock.at(2_000)
    second = book(shops.b, shops.chair, f"{DAY}T10:30:00Z")
    for status in ("confirmed", "checked_in"):
        url = f"{BOOKINGS}/{second['id']}/transition"
        expect(shops.b, "POST", url, {"status": status})
    shops.b.sync()
    shops.a.sync()
    settle([shops.a, shops.b])
    listed = [anomalies(replica) for replica in shops.everyone]
    assert listed[0] == listed[1] == listed[2]
    (anomaly,) = listed[0]
    assert anomaly["kind"] == "double_booking"
    assert (anomaly["booking_id"], anomaly["other_booking_id"]) == (second["id"], first["id"])
    for replica in shops.everyone:
        kept = expect(replica, "GET", f"{BOOKINGS}/{first['id']}")
        seated = expect(replica, "GET", f"{BOOKINGS}/{second['id']}")
        assert (kept["status"], seated["status"]) == ("pending", "checked_in")
        assert kept["conflict_with"] == [second["id"]]  # shown, never silent
        assert all(event["actor"] != "sync" for event in kept["events"] + seated["events"])
    assert exported_state(shops.a) == exported_state(shops.b) == exported_state(shops.hub)
