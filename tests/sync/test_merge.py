"""Merge rules (SYNC.md §5) on real databases: per-field LWW, tombstones, booking replay,
anomalies, idempotence and suspect clocks.

Node clocks are a SteppedClock, so "later" below always means a later HLC, never luck.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import store
from app.core.clock import MAX_FUTURE_DRIFT_MS, Hlc
from app.core.ids import new_node_id
from app.core.times import wall_ms
from app.store import changelog
from sync import merge
from tests.conftest import unchanged
from tests.sync.harness import (
    BLOCKERS,
    BOOKINGS,
    CUSTOMERS,
    RESOURCES,
    Replica,
    SteppedClock,
    anomalies,
    change_ids,
    expect,
    exported_state,
    node_clock,
    settle,
)

SECOND = 1_000
SLOT = {"start_time": "2030-01-07T10:00:00Z", "duration_minutes": 60}


@pytest.fixture
def clock(monkeypatch):
    return SteppedClock(monkeypatch)


@pytest.fixture
def world(tmp_path, clock):
    """A hub and two nodes, a and b, each connected to the hub."""
    hub, a, b = (Replica(tmp_path, name) for name in ("hub", "a", "b"))
    a.connect(hub)
    b.connect(hub)
    yield SimpleNamespace(hub=hub, a=a, b=b, nodes=[a, b], everyone=[hub, a, b], clock=clock)
    for replica in (hub, a, b):
        replica.close()
    store.close_thread_connections()


def converged(world) -> dict:
    """Sync until quiet, insist that every node equals the hub, and return the hub's state."""
    settle(world.nodes)
    hub_state = exported_state(world.hub)
    for node in world.nodes:
        assert exported_state(node) == hub_state, node.name
    return hub_state


def apply(replica: Replica, changes: list[dict]) -> merge.MergeReport:
    """Merge remote changes into the replica as a pull would: one transaction."""
    with store.transaction(replica.db):
        return merge.apply_changes(replica.db, changes)


class Origin:
    """A node that exists only in this test and stamps its changes by hand."""

    def __init__(self, base: int | None = None) -> None:
        self.node_id = new_node_id()
        self.seq = 0
        self.base = wall_ms() if base is None else base

    def change(self, entity: str, entity_id: str, op: str, payload=None, *, at: int) -> dict:
        """A change stamped `at` ms past this origin's start (its wall clock then)."""
        self.seq += 1
        return {
            "change_id": f"{self.node_id}:{self.seq}",
            "origin_node": self.node_id,
            "origin_seq": self.seq,
            "hlc": Hlc(self.base + at, 0, self.node_id).encode(),
            "entity": entity,
            "entity_id": entity_id,
            "op": op,
            "payload": payload or {},
            "clock_suspect": False,
        }


# --- customers, resources, blockers: last writer wins per field ---------------------------------


@pytest.mark.parametrize("later_arrives_first", [False, True])
def test_the_later_stamp_wins_a_field_whichever_arrives_first(world, later_arrives_first):
    customer = expect(world.a, "POST", CUSTOMERS, {"name": "Ada"}, 201)
    origin = Origin(world.clock.now)
    earlier = origin.change("customer", customer["id"], "upsert", {"name": "Early"}, at=SECOND)
    later = origin.change("customer", customer["id"], "upsert", {"name": "Late"}, at=2 * SECOND)
    apply(world.a, [later, earlier] if later_arrives_first else [earlier, later])
    assert expect(world.a, "GET", f"{CUSTOMERS}/{customer['id']}")["name"] == "Late"


def test_an_older_stamp_loses_to_the_local_edit(world):
    customer = expect(world.a, "POST", CUSTOMERS, {"name": "Ada", "phone": "1"}, 201)
    stale = Origin(world.clock.now - 60 * SECOND)  # a minute before the customer existed here
    apply(world.a, [stale.change("customer", customer["id"], "upsert", {"phone": "0"}, at=0)])
    assert expect(world.a, "GET", f"{CUSTOMERS}/{customer['id']}")["phone"] == "1"


def test_two_nodes_editing_different_fields_of_one_customer_both_keep_their_edit(world):
    customer = expect(world.a, "POST", CUSTOMERS, {"name": "Ada", "phone": "1"}, 201)
    converged(world)
    world.clock.at(SECOND)
    expect(world.a, "PATCH", f"{CUSTOMERS}/{customer['id']}", {"phone": "2"})
    world.clock.at(2 * SECOND)
    expect(world.b, "PATCH", f"{CUSTOMERS}/{customer['id']}", {"email": "ada@example.com"})
    converged(world)
    for replica in world.everyone:
        seen = expect(replica, "GET", f"{CUSTOMERS}/{customer['id']}")
        assert (seen["phone"], seen["email"]) == ("2", "ada@example.com"), replica.name


@pytest.mark.parametrize("later_writer", ["a", "b"])
@pytest.mark.parametrize("first_to_sync", ["a", "b"])
def test_one_field_edited_on_two_nodes_ends_with_the_later_stamp_everywhere(
    world, later_writer, first_to_sync
):
    resource = expect(world.a, "POST", RESOURCES, {"name": "Chair"}, 201)
    converged(world)
    earlier_writer = "b" if later_writer == "a" else "a"
    world.clock.at(SECOND)
    expect(
        getattr(world, earlier_writer), "PATCH", f"{RESOURCES}/{resource['id']}", {"name": "Old"}
    )
    world.clock.at(2 * SECOND)
    expect(getattr(world, later_writer), "PATCH", f"{RESOURCES}/{resource['id']}", {"name": "New"})
    getattr(world, first_to_sync).sync()
    converged(world)
    for replica in world.everyone:
        assert expect(replica, "GET", f"{RESOURCES}/{resource['id']}")["name"] == "New"


# --- tombstones -------------------------------------------------------------------------------


def make_record(replica: Replica, entity: str) -> tuple[str, dict]:
    """Create a customer, resource or blocker through the API; return its URL and the record."""
    if entity == "customer":
        record = expect(replica, "POST", CUSTOMERS, {"name": "Ada"}, 201)
        url = f"{CUSTOMERS}/{record['id']}"
    elif entity == "resource":
        record = expect(replica, "POST", RESOURCES, {"name": "Chair"}, 201)
        url = f"{RESOURCES}/{record['id']}"
    else:
        chair = expect(replica, "POST", RESOURCES, {"name": "Chair"}, 201)
        body = {
            "resource_id": chair["id"],
            "title": "Lunch",
            "start_time": "2030-01-07T12:00:00Z",
            "end_time": "2030-01-07T13:00:00Z",
        }
        record = expect(replica, "POST", BLOCKERS, body, 201)
        url = f"{BLOCKERS}/{record['id']}"
    return url, record


@pytest.mark.parametrize("entity", ["customer", "resource", "blocker"])
@pytest.mark.parametrize(
    "update_at, update_arrives_first",
    [
        (2 * SECOND, False),  # a later update arriving after the delete
        (SECOND // 2, False),  # a concurrent (earlier-stamped) update arriving after it
        (2 * SECOND, True),  # a later update that was there before the delete arrived
    ],
)
def test_a_delete_wins_over_any_update_and_nothing_is_resurrected(
    world, entity, update_at, update_arrives_first
):
    url, record = make_record(world.a, entity)
    origin = Origin(world.clock.now)
    delete = origin.change(entity, record["id"], "delete", at=SECOND)
    update = origin.change(
        entity, record["id"], "upsert", {"title": "x", "name": "x"}, at=update_at
    )
    apply(world.a, [update, delete] if update_arrives_first else [delete, update])
    assert world.a.call("GET", url).status_code == 404
    table = store.LWW_TABLES[entity][0]
    rows = world.a.db.execute(f"SELECT * FROM {table} WHERE id = ?", [record["id"]]).fetchall()
    assert rows == [] and store.is_tombstoned(world.a.db, entity, record["id"])


@pytest.mark.parametrize("entity", ["customer", "resource"])
def test_an_edit_made_offline_after_another_node_deleted_the_record_does_not_bring_it_back(
    world, entity
):
    url, _ = make_record(world.a, entity)
    converged(world)
    world.clock.at(SECOND)
    expect(world.a, "DELETE", url)
    world.clock.at(2 * SECOND)
    expect(world.b, "PATCH", url, {"name": "Renamed later"})
    world.b.sync()  # the hub takes the edit first ...
    state = converged(world)  # ... and then the delete
    for replica in world.everyone:
        assert replica.call("GET", url).status_code == 404, replica.name
    assert state[store.LWW_TABLES[entity][0]] == []


def test_a_booking_event_arriving_after_the_booking_was_deleted_is_kept_but_not_replayed(world):
    chair = expect(world.a, "POST", RESOURCES, {"name": "Chair"}, 201)
    booking = expect(world.a, "POST", BOOKINGS, {"resource_id": chair["id"], **SLOT}, 201)
    converged(world)
    world.clock.at(SECOND)
    expect(world.a, "DELETE", f"{BOOKINGS}/{booking['id']}")
    world.clock.at(2 * SECOND)
    expect(world.b, "PATCH", f"{BOOKINGS}/{booking['id']}", {"title": "Edited offline"})
    world.a.sync()
    state = converged(world)
    for replica in world.everyone:
        assert replica.call("GET", f"{BOOKINGS}/{booking['id']}").status_code == 404
    assert state["bookings"] == [] and state["booking_events"] == []
    # Nothing written anywhere is lost: the edit is still in every change log.
    edit = world.b.db.execute(
        "SELECT origin_node, origin_seq FROM change_log WHERE entity = 'booking_event' "
        "ORDER BY origin_seq DESC LIMIT 1"
    ).fetchone()
    for replica in world.everyone:
        assert f"{edit[0]}:{edit[1]}" in change_ids(replica)


# --- bookings: replay of events in event order --------------------------------------------------


@pytest.fixture(scope="module")
def booking_history(tmp_path_factory):
    """Every change of one booking edited on two nodes, including an event invalid at its
    place (a confirmation stamped after another node's cancellation), and what the hub made
    of them."""
    folder = tmp_path_factory.mktemp("history")
    with pytest.MonkeyPatch.context() as monkeypatch:
        clock = SteppedClock(monkeypatch)
        hub, a, b = (Replica(folder, name) for name in ("hub", "a", "b"))
        a.connect(hub)
        b.connect(hub)
        chair = expect(a, "POST", RESOURCES, {"name": "Chair"}, 201)
        booking = expect(a, "POST", BOOKINGS, {"resource_id": chair["id"], **SLOT}, 201)
        settle([a, b])
        clock.at(SECOND)
        expect(a, "PATCH", f"{BOOKINGS}/{booking['id']}", {"title": "Trim"})
        clock.at(2 * SECOND)
        expect(b, "PATCH", f"{BOOKINGS}/{booking['id']}", {"notes": "Bring photos"})
        clock.at(3 * SECOND)
        expect(b, "POST", f"{BOOKINGS}/{booking['id']}/transition", {"status": "cancelled"})
        clock.at(4 * SECOND)
        expect(a, "POST", f"{BOOKINGS}/{booking['id']}/transition", {"status": "confirmed"})
        settle([a, b])
        changes = [change for _, change in changelog.since(hub.db, [], 1000)]
        expected = booking_view(hub, booking["id"])
        for replica in (hub, a, b):
            replica.close()
        store.close_thread_connections()
    return SimpleNamespace(changes=changes, booking_id=booking["id"], expected=expected)


def booking_view(replica: Replica, booking_id: str) -> dict:
    row = store.get_booking(replica.db, booking_id)
    events = store.booking_events(replica.db, booking_id)
    return {
        "booking": row,
        "events": [(e["id"], e["type"], e["applied"], e["anomaly"]) for e in events],
    }


def test_the_history_fixture_holds_a_confirmation_that_came_too_late(booking_history):
    view = booking_history.expected
    assert view["booking"]["status"] == "cancelled"
    assert view["booking"]["title"] == "Trim" and view["booking"]["notes"] == "Bring photos"
    assert [(kind, applied) for _, kind, applied, _ in view["events"]] == [
        ("created", True),
        ("updated", True),
        ("updated", True),
        ("status_changed", True),
        ("status_changed", False),
    ]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_booking_events_arriving_in_any_order_and_batches_replay_to_the_same_state(
    booking_history, data
):
    changes = data.draw(st.permutations(booking_history.changes), label="arrival order")
    cuts = sorted(data.draw(st.sets(st.integers(1, len(changes) - 1), max_size=3), label="cuts"))
    with tempfile.TemporaryDirectory() as folder:
        node = Replica(Path(folder), "late")
        try:
            for start, end in zip([0, *cuts], [*cuts, len(changes)], strict=True):
                apply(node, changes[start:end])
            assert booking_view(node, booking_history.booking_id) == booking_history.expected
        finally:
            node.close()
            store.close_thread_connections()


def test_a_confirmation_after_a_cancellation_is_kept_unapplied_and_listed_everywhere(world):
    chair = expect(world.a, "POST", RESOURCES, {"name": "Chair"}, 201)
    booking = expect(world.a, "POST", BOOKINGS, {"resource_id": chair["id"], **SLOT}, 201)
    converged(world)
    world.clock.at(SECOND)
    expect(world.b, "POST", f"{BOOKINGS}/{booking['id']}/transition", {"status": "cancelled"})
    world.clock.at(2 * SECOND)
    confirmed = expect(
        world.a, "POST", f"{BOOKINGS}/{booking['id']}/transition", {"status": "confirmed"}
    )
    assert confirmed["status"] == "confirmed"  # a did not know yet
    world.a.sync()  # the hub hears of the confirmation first; event order still decides
    converged(world)
    listed = [anomalies(replica) for replica in world.everyone]
    assert listed[0] == listed[1] == listed[2]
    (anomaly,) = listed[0]
    for replica in world.everyone:
        seen = expect(replica, "GET", f"{BOOKINGS}/{booking['id']}")
        assert seen["status"] == "cancelled"
        last = seen["events"][-1]
        assert (last["to_status"], last["applied"]) == ("confirmed", False)
        assert last["anomaly"] == "A cancelled booking cannot become confirmed."
        assert anomaly["kind"] == "invalid_event" and anomaly["id"] == last["id"]
    assert anomaly["booking_id"] == booking["id"] and anomaly["message"]


# --- idempotence -----------------------------------------------------------------------------


def test_applying_the_same_changes_twice_changes_nothing(world):
    chair = expect(world.a, "POST", RESOURCES, {"name": "Chair"}, 201)
    customer = expect(world.a, "POST", CUSTOMERS, {"name": "Ada"}, 201)
    body = {"resource_id": chair["id"], "customer_id": customer["id"], **SLOT}
    booking = expect(world.a, "POST", BOOKINGS, body, 201)
    expect(world.a, "POST", f"{BOOKINGS}/{booking['id']}/transition", {"status": "confirmed"})
    expect(world.a, "DELETE", f"{CUSTOMERS}/{customer['id']}")
    changes = changelog.own_pending(world.a.db, 0, 100)
    first = apply(world.b, changes)
    assert first.applied == len(changes) == 5
    with unchanged(world.b.db):
        again = apply(world.b, changes)
        assert (again.applied, again.skipped) == (0, len(changes))
    assert exported_state(world.b) == exported_state(world.a)


def test_pulling_everything_again_from_the_start_changes_nothing(world):
    chair = expect(world.a, "POST", RESOURCES, {"name": "Chair"}, 201)
    expect(world.a, "POST", BOOKINGS, {"resource_id": chair["id"], **SLOT}, 201)
    world.a.sync()
    expect(world.b, "POST", CUSTOMERS, {"name": "Ada"}, 201)
    converged(world)
    before, held = exported_state(world.b), change_ids(world.b)
    store.set_sync_state(world.b.db, pull_cursor=None)
    report = world.b.sync()
    assert report.pulled == len(held) and report.applied == 0
    assert exported_state(world.b) == before and change_ids(world.b) == held


# --- JSON values ------------------------------------------------------------------------------

# JSON allows integers of any size; the fast JSON library beneath sync stops at 64 bits.
ODD_METADATA = {
    "big": 2**70,
    "below_int64": -(2**63) - 1,
    "uint64": 2**64 - 1,
    "nested": [{"digits": 10**40}],
    "small": 1.5e-07,
    "text": "Zoë ☕ \u2028 \\u00e9",
}


def test_metadata_with_integers_beyond_64_bits_syncs_digit_for_digit_everywhere(world):
    chair = expect(world.a, "POST", RESOURCES, {"name": "Chair", "metadata": ODD_METADATA}, 201)
    customer = expect(world.b, "POST", CUSTOMERS, {"name": "Ada", "metadata": ODD_METADATA}, 201)
    converged(world)
    body = {"resource_id": chair["id"], "customer_id": customer["id"], **SLOT}
    booking = expect(world.a, "POST", BOOKINGS, {**body, "metadata": ODD_METADATA}, 201)
    converged(world)
    for replica in world.everyone:
        for path in (f"{RESOURCES}/{chair['id']}", f"{CUSTOMERS}/{customer['id']}"):
            assert expect(replica, "GET", path)["metadata"] == ODD_METADATA, replica.name
        seen = expect(replica, "GET", f"{BOOKINGS}/{booking['id']}")["metadata"]
        assert seen == ODD_METADATA, replica.name
        assert isinstance(seen["big"], int) and isinstance(seen["nested"][0]["digits"], int)
    # Each change is held everywhere as the very text its origin stored.
    rows = "SELECT origin_node, origin_seq, payload FROM change_log ORDER BY 1, 2"
    held = world.hub.db.execute(rows).fetchall()
    assert any(str(2**70) in payload for _, _, payload in held)
    for node in world.nodes:
        assert node.db.execute(rows).fetchall() == held, node.name


def test_change_rows_written_in_the_older_escaped_form_still_sync(world):
    customer = expect(world.a, "POST", CUSTOMERS, {"name": "Zoë", "metadata": {"n": 1e-07}}, 201)
    # Before json_codec, payloads were written with \u escapes and Python's float spelling.
    with store.transaction(world.a.db):
        (payload,) = world.a.db.execute("SELECT payload FROM change_log").fetchone()
        older = json.dumps(json.loads(payload), separators=(",", ":"), sort_keys=True)
        assert "\\u00eb" in older and "1e-07" in older
        world.a.db.execute("UPDATE change_log SET payload = ?", [older])
    converged(world)
    for replica in world.everyone:
        seen = expect(replica, "GET", f"{CUSTOMERS}/{customer['id']}")
        assert (seen["name"], seen["metadata"]) == ("Zoë", {"n": 1e-07}), replica.name


# --- suspect clocks ---------------------------------------------------------------------------


def test_a_stamp_more_than_five_minutes_ahead_is_kept_flagged_and_does_not_drag_clocks(world):
    expect(world.b, "POST", CUSTOMERS, {"name": "Now"}, 201)
    converged(world)  # the hub's clock has seen b's stamp
    world.clock.at(MAX_FUTURE_DRIFT_MS + 60 * SECOND)  # a's date is wrong by six minutes
    customer = expect(world.a, "POST", CUSTOMERS, {"name": "From the future"}, 201)
    world.clock.at(0)
    (suspect,) = changelog.own_pending(world.a.db, 0, 10)
    hub_clock = node_clock(world.hub)
    world.a.sync()
    assert node_clock(world.hub) == hub_clock < suspect["hlc"]
    flagged = world.hub.db.execute(
        "SELECT clock_suspect FROM change_log WHERE origin_node = ? AND origin_seq = ?",
        [suspect["origin_node"], suspect["origin_seq"]],
    ).fetchone()
    assert flagged == (1,)
    converged(world)
    assert node_clock(world.b) < suspect["hlc"]
    listed = [anomalies(replica) for replica in world.everyone]
    assert listed[0] == listed[1] == listed[2]
    (anomaly,) = listed[0]
    assert anomaly["kind"] == "clock_suspect" and anomaly["id"] == suspect["change_id"]
    assert anomaly["hlc"] == suspect["hlc"] and suspect["origin_node"] in anomaly["message"]
    for replica in world.everyone:  # kept, never rejected
        assert expect(replica, "GET", f"{CUSTOMERS}/{customer['id']}")["name"] == "From the future"


def test_a_double_booking_by_a_node_whose_clock_runs_ahead_is_resolved_alike_everywhere(world):
    """The hub's sync_conflict cancellation must replay after the loser's own events, even
    when the loser's stamps are suspect (they are kept, so they still sort in event order)."""
    chair = expect(world.a, "POST", RESOURCES, {"name": "Chair"}, 201)
    converged(world)
    first = expect(world.a, "POST", BOOKINGS, {"resource_id": chair["id"], **SLOT}, 201)
    world.clock.at(MAX_FUTURE_DRIFT_MS + 60 * SECOND)
    second = expect(world.b, "POST", BOOKINGS, {"resource_id": chair["id"], **SLOT}, 201)
    world.clock.at(0)
    world.a.sync()
    settle(world.nodes)
    for replica in world.everyone:
        statuses = [
            expect(replica, "GET", f"{BOOKINGS}/{b['id']}")["status"] for b in (first, second)
        ]
        assert statuses == ["pending", "cancelled"], replica.name
    converged(world)


def test_a_booking_from_a_node_whose_clock_runs_ahead_can_be_moved_elsewhere_alike_everywhere(
    world,
):
    """A local event must replay after the booking's suspect (future) events, as it was
    applied after them where it was made."""
    chair = expect(world.a, "POST", RESOURCES, {"name": "Chair"}, 201)
    converged(world)
    world.clock.at(MAX_FUTURE_DRIFT_MS + 60 * SECOND)
    booking = expect(world.b, "POST", BOOKINGS, {"resource_id": chair["id"], **SLOT}, 201)
    world.clock.at(0)
    settle(world.nodes)
    url = f"{BOOKINGS}/{booking['id']}"
    assert expect(world.a, "POST", f"{url}/transition", {"status": "confirmed"})["status"] == (
        "confirmed"
    )
    settle(world.nodes)
    for replica in world.everyone:
        assert expect(replica, "GET", url)["status"] == "confirmed", replica.name
    converged(world)
