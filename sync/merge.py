"""Merge rules, identical on every node (SYNC.md §5).

- customers, resources, blockers: last writer wins per field, by HLC; tombstones always win;
- bookings: the replay of all their events in event order (app.domain.booking_states.replay);
- the hub alone resolves double bookings: the booking whose claim on the slot is first in event
  order keeps it, and the hub appends a `sync_conflict` cancellation for the other, or
  records a `double_booking` anomaly when the other can no longer be cancelled. A booking's
  claim is the event that gave it its current slot: its `created` event, its latest `moved`
  event, or the `corrected` event that made it active again (booking_states.slot_claim).

Everything here runs inside the caller's transaction; applying a change twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app import store
from app.core import clock
from app.core.times import wall_ms
from app.core.vocabulary import ACTIVE_STATUSES, CANCELLED
from app.domain import booking_states, bookings, messages
from app.store import Connection, changelog, outbox

SYNC_ACTOR = "sync"
# What a sync conflict may cancel: the statuses the status machine lets become cancelled.
CANCELLABLE = tuple(
    status for status, moves in booking_states.ALLOWED_MOVES.items() if CANCELLED in moves
)


@dataclass
class MergeReport:
    applied: int = 0
    skipped: int = 0
    touched_bookings: set[str] = field(default_factory=set)


def apply_changes(
    db: Connection, changes: list[dict[str, Any]], *, judge_clocks: bool = False
) -> MergeReport:
    """Apply changes made elsewhere; changes already held (same change_id) are skipped.

    The hub (`judge_clocks=True`) flags stamps more than five minutes ahead of its clock as
    `clock_suspect`; nodes keep the hub's flag, so every node lists the same anomalies. Any
    node refuses to move its own clock to a stamp that is suspect by its own wall clock.
    """
    assert db.in_transaction, "apply_changes() must run inside store.transaction()"
    report = MergeReport()
    now = wall_ms()
    held = changelog.held_among(db, changes)
    fresh: list[dict[str, Any]] = []
    stored: list[tuple[dict[str, Any], bool]] = []
    flag: list[tuple[str, int]] = []
    newest: str | None = None
    for change in changes:
        key = (change["origin_node"], change["origin_seq"])
        if key in held:
            if change.get("clock_suspect"):  # the hub flagged our own change's clock
                flag.append(key)
            report.skipped += 1
            continue
        held.add(key)
        too_far_ahead = clock.is_suspect(change["hlc"], now)
        if judge_clocks:
            flagged = too_far_ahead and not _steps_past_held_stamp(db, change)
        else:
            flagged = bool(change.get("clock_suspect"))
        stored.append((change, flagged))
        if not too_far_ahead and (newest is None or change["hlc"] > newest):
            newest = change["hlc"]  # HLC strings sort in HLC order
        fresh.append(change)
    changelog.store_remote_many(db, stored)
    for key in flag:
        changelog.flag_suspect(db, *key)
    if newest is not None:  # moving past the newest stamp moves past all of them
        changelog.observe(db, newest, now)
    # Field upserts and booking events are kept in batches; any other change (a delete, say)
    # lands after what came before it, as one by one. The two batches touch separate tables.
    upserts: list[tuple[str, str, dict[str, Any], str]] = []
    events: list[dict[str, Any]] = []
    histories: Histories = {}
    for change in fresh:
        entity = change["entity"]
        if change["op"] == "upsert" and entity in store.LWW_TABLES:
            upserts.append((entity, change["entity_id"], change["payload"], change["hlc"]))
            continue
        if entity == "booking_event" and change["op"] != "delete":
            events.append(change)
            continue
        store.apply_fields_many(db, upserts)
        _keep_events(db, events, report, histories)
        upserts, events = [], []
        _apply_effect(db, change, report)
        if entity == "booking":
            histories.pop(change["entity_id"], None)
    store.apply_fields_many(db, upserts)
    _keep_events(db, events, report, histories)
    report.applied = len(fresh)
    _rematerialize_many(db, {b: histories[b] for b in sorted(report.touched_bookings)})
    return report


# Each touched booking's events by id, as booking_events holds them: read once per page
# before its first event is kept, then kept in step with the table, so the replay reads
# nothing back.
Histories = dict[str, dict[str, dict[str, Any]]]


def _keep_events(
    db: Connection, changes: list[dict[str, Any]], report: MergeReport, histories: Histories
) -> None:
    """Keep these booking events, but none of a deleted booking (deletes win)."""
    if not changes:
        return
    booking_ids = {change["payload"]["booking_id"] for change in changes}
    deleted = store.tombstoned_among(db, "booking", booking_ids)
    unread = sorted(booking_ids - deleted - histories.keys())
    held = store.events_of_bookings(db, unread)
    for booking_id in unread:
        histories[booking_id] = {event["id"]: event for event in held.get(booking_id, [])}
    kept = [
        (change["payload"], change["hlc"])
        for change in changes
        if change["payload"]["booking_id"] not in deleted
    ]
    records = store.insert_remote_events(db, kept)
    for (event, hlc), record in zip(kept, records, strict=True):
        # What the INSERT ... ON CONFLICT just did, done to the history in memory.
        history = histories[event["booking_id"]]
        held_event = history.get(event["id"])
        if held_event is None:
            history[event["id"]] = record
        elif hlc < held_event["hlc"]:
            held_event["hlc"], held_event["node_id"] = hlc, event["node_id"]
        report.touched_bookings.add(event["booking_id"])


def _steps_past_held_stamp(db: Connection, change: dict[str, Any]) -> bool:
    """Whether a stamp far ahead is an edit stepped just past a value it replaces.

    A node stamps a local edit of a value stamped ahead of its clock in the same millisecond
    with the next counter (changelog.stamp_past): a person saw that value and changed it. The
    clock that runs ahead is the one that stamped the value, so only that change is suspect.
    """
    millis, counter, _node = change["hlc"].split("-", 2)
    low, high = f"{millis}-", f"{millis}-{counter}"
    if change["entity"] == "booking_event":
        booking_id = change["payload"].get("booking_id", "")
        return store.has_event_stamped_between(db, booking_id, low, high)
    if change["op"] == "upsert" and change["entity"] in store.LWW_TABLES:
        clocks = store.field_clocks(db, change["entity"], change["entity_id"])
        return any(low < stamp < high for stamp in clocks.values())
    return False


def _apply_effect(db: Connection, change: dict[str, Any], report: MergeReport) -> None:
    entity, op, entity_id = change["entity"], change["op"], change["entity_id"]
    if op == "delete":
        store.apply_delete(db, entity, entity_id, change["hlc"])
        report.touched_bookings.discard(entity_id)
    elif op == "upsert" and entity in store.LWW_TABLES:
        store.apply_fields(db, entity, entity_id, change["payload"], change["hlc"])
    elif entity == "booking_event":
        event = change["payload"]
        if not store.is_tombstoned(db, "booking", event["booking_id"]):
            store.insert_remote_event(db, event, change["hlc"])
            report.touched_bookings.add(event["booking_id"])
    elif entity == "anomaly":
        store.insert_anomaly(db, {**change["payload"], "hlc": change["hlc"]})
    elif entity == "message" and op == "upsert":
        outbox.apply_remote(db, change["payload"], change["hlc"])
    # Anything else comes from a newer version: it is kept in the change log, untouched.


def rematerialize(db: Connection, booking_id: str) -> dict[str, Any] | None:
    """Replay the booking's events and store the resulting row and each event's outcome."""
    state, anomalies = booking_states.replay(store.booking_events(db, booking_id))
    store.save_replayed_booking(db, booking_id, state, anomalies)
    return state


def _rematerialize_many(db: Connection, histories: Histories) -> None:
    """rematerialize() for each booking, from its history in memory; the rows and the
    events' outcomes are written back in batches."""
    replayed = []
    for booking_id, history in histories.items():
        events = list(history.values())
        state, anomalies = booking_states.replay(events)
        replayed.append((booking_id, state, anomalies, events))
    store.save_replayed_bookings(db, replayed)


# --- the hub's double-booking rule ------------------------------------------------------------


def resolve_double_bookings(db: Connection, booking_ids: set[str]) -> int:
    """On the hub: settle overlaps among active bookings touched by a push. Returns how many
    cancellations and anomalies were recorded (each is a change that flows to every node).

    Their resources are held first (store.lock_resources): a hub process settling the same
    slot for another node's push, or booking it through the API, waits, and the overlap
    query below then sees what it committed. So whichever push lands first, the last one to
    settle sees every booking of the slot, and the earliest claim wins.
    """
    if db.takes_locks:
        store.lock_resources(db, store.resources_of_bookings(db, booking_ids))
    recorded = 0
    # One query finds the bookings that overlap anything; the rest need no look. Settling
    # only ever cancels, so a booking without rivals now has none later in this loop either.
    for booking_id in sorted(store.bookings_with_rivals(db, booking_ids)):
        try:
            booking = store.get_booking(db, booking_id)
        except store.RowMissing:  # deleted, or its `created` event not yet here: nothing to do
            continue
        if booking["status"] not in ACTIVE_STATUSES:
            continue
        rivals = store.overlapping_active(db, booking)
        if not rivals:
            continue
        group = [booking["id"], *(rival["id"] for rival in rivals)]
        recorded += _settle(db, group)
    return recorded


def hold_what_changes_touch(db: Connection, changes: list[dict[str, Any]]) -> None:
    """Hold, before applying a push, what its changes may write: each record whose fields
    they set or delete, each booking they add events to, and each resource such a booking may
    end up on (where it is now, where an event puts it).

    Another hub process changing the same records meanwhile waits, so neither writes over
    what the other did from a stale read (field clocks, a booking's state). And taking them
    all here, in one sorted call, before the merge moves the clock keeps every transaction's
    order the same as a local write's (records and bookings, their slots, then the clock),
    so none deadlock. resolve_double_bookings holds the slots again, in case a replay left a
    booking somewhere no change named.
    """
    if not db.takes_locks:  # one writer at a time holds the whole database (SQLite)
        return
    names: set[str] = set()
    booking_ids: set[str] = set()
    for change in changes:
        entity, entity_id = change["entity"], change["entity_id"]
        if entity in store.LWW_TABLES or (entity == "booking" and change["op"] == "delete"):
            names.add(store.record_lock(entity, entity_id))
        if entity != "booking_event":
            continue
        event = change["payload"]
        booking_ids.add(event.get("booking_id", ""))
        data = event.get("data") or {}
        target = data.get("to") if isinstance(data.get("to"), dict) else data
        if isinstance(target.get("resource_id"), str):
            names.add(store.slot_lock(target["resource_id"]))
    names.update(store.booking_lock(booking_id) for booking_id in booking_ids)
    resources = store.resources_of_bookings(db, booking_ids) if booking_ids else set()
    names.update(store.slot_lock(resource_id) for resource_id in resources)
    db.lock(*names)


def _settle(db: Connection, group: list[str]) -> int:
    """The earliest claim keeps the slot; each later overlapping booking loses. The order is
    a function of the bookings' events alone, so every hub settles a group the same way."""
    db.lock(*(store.booking_lock(b) for b in group))  # the losers get an event: hold them
    claims = {b: booking_states.slot_claim(store.booking_events(db, b)) for b in group}
    ordered = sorted(group, key=lambda b: (claims[b], b))
    keepers: list[dict[str, Any]] = []
    recorded = 0
    for booking_id in ordered:
        booking = store.get_booking(db, booking_id)
        if booking["status"] not in ACTIVE_STATUSES:
            continue
        rivals = [keeper for keeper in keepers if _overlaps(keeper, booking)]
        if not rivals:
            keepers.append(booking)
        elif booking["status"] in CANCELLABLE:
            _cancel_for_conflict(db, booking, rivals[0]["id"])
            recorded += 1
        else:  # checked in: the customer is in the chair; staff must act, on every pair
            keepers.append(booking)
            recorded += sum(_record_double_booking(db, booking, r["id"]) for r in rivals)
    return recorded


def _overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["start_time"] < b["end_time"] and b["start_time"] < a["end_time"]


def _cancel_for_conflict(db: Connection, loser: dict[str, Any], winner_id: str) -> None:
    event = bookings.new_event(
        loser["id"],
        "status_changed",
        SYNC_ACTOR,
        from_status=loser["status"],
        to_status=CANCELLED,
        data={"cancel_reason": f"sync_conflict: overlaps {winner_id}"},
    )
    after, anomaly = booking_states.step(loser, event)
    assert anomaly is None and after is not None
    store.append_booking_event(db, after, event)
    messages.booking_changed(db, loser, after)  # the customer hears of it, as of any cancel


def _record_double_booking(db: Connection, booking: dict[str, Any], winner_id: str) -> int:
    anomaly = {
        "id": f"double_booking:{winner_id}:{booking['id']}",
        "kind": "double_booking",
        "booking_id": booking["id"],
        "other_booking_id": winner_id,
        "message": f"{booking['id']} ({booking['status']}) overlaps {winner_id}; it could not "
        "be cancelled because the customer is already checked in. Call one of them.",
    }
    hlc = changelog.next_hlc(db)
    if not store.insert_anomaly(db, {**anomaly, "hlc": hlc}):
        return 0
    changelog.append(db, "anomaly", anomaly["id"], "event", anomaly, hlc=hlc)
    return 1
