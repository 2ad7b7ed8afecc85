"""Bookings, their events (the history a booking's state is replayed from), and anomalies.

An anomaly is what sync records when two nodes booked the same time offline.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.core import clock
from app.core.vocabulary import ACTIVE_STATUSES, MAX_BOOKING_MINUTES, MINUTE_MS
from app.store import changelog
from app.store.connection import Connection
from app.store.errors import RowMissing
from app.store.lww import delete_local
from app.store.replication import node_id
from app.store.rows import (
    BOOKING_JSON_COLUMNS,
    EVENT_JSON_COLUMNS,
    Missing,
    decode,
    dumps,
    get,
    insert,
    insert_sql,
    require_transaction,
    update,
)

# Bookings last at most a day, so an overlap query only looks this far back from its window:
# that keeps every window query on the (resource_id, start_time) / (start_time, id) indexes.
MAX_BOOKING_MS = MAX_BOOKING_MINUTES * MINUTE_MS
_ACTIVE_SQL = f"status IN ({', '.join(repr(status) for status in ACTIVE_STATUSES)})"
_EVENT_COLUMNS = (
    "id",
    "booking_id",
    "type",
    "from_status",
    "to_status",
    "actor",
    "data",
    "occurred_at",
    "node_id",
    "hlc",
    "applied",
    "anomaly",
)
_NOT_SYNCED = ("hlc", "applied", "anomaly")  # an event's local bookkeeping, not its payload


def _event_row(event: dict[str, Any], node: str, hlc: str) -> dict[str, Any]:
    row = {**event, "node_id": node, "hlc": hlc, "applied": int(event["applied"])}
    data = row.get("data")
    if data is not None:
        row["data"] = dumps(data)
    return row


def _record_event(db: Connection, event: dict[str, Any], *, first: bool = False) -> None:
    """Stamp the event with this node's clock, store it and its change row.

    A new event must sort after every event its booking already has, or replaying the
    history elsewhere would not give the state stored here. Our clock is past every stamp it
    adopted, but not past a suspect one (SYNC.md §1): such a stamp is stepped over for this
    event only, without dragging our clock forward. The `first` event of a booking made here
    has nothing to step over: its id is new.
    """
    hlc = changelog.next_hlc(db)
    node = node_id(db)
    if not first:
        latest = db.scalar(
            "SELECT MAX(hlc) FROM booking_events WHERE booking_id = ?", [event["booking_id"]]
        )
        if latest is not None and latest >= hlc:
            hlc = clock.tick(latest, node, 0)
    event["hlc"], event["node_id"] = hlc, node
    row = _event_row(event, node, hlc)
    db.execute(insert_sql("booking_events", tuple(row)), row)
    payload = {k: v for k, v in event.items() if k not in _NOT_SYNCED}
    changelog.append(db, "booking_event", event["id"], "event", payload, hlc=hlc)


def insert_booking(db: Connection, booking: dict[str, Any], event: dict[str, Any]) -> None:
    """Insert a booking (the state its `created` event leads to), the event and its change."""
    require_transaction(db)
    insert(db, "bookings", booking, BOOKING_JSON_COLUMNS)
    _record_event(db, event, first=True)


def append_booking_event(db: Connection, booking: dict[str, Any], event: dict[str, Any]) -> None:
    """Store a new event of an existing booking and the state it leads to."""
    require_transaction(db)
    _record_event(db, event)
    changes = {k: v for k, v in booking.items() if k != "id"}
    update(db, "bookings", booking["id"], changes, BOOKING_JSON_COLUMNS)


def get_booking(db: Connection, booking_id: str, missing: Missing = RowMissing) -> dict:
    """The booking's row; raises `missing` (RowMissing by default) for an unknown id."""
    return get(db, "bookings", booking_id, BOOKING_JSON_COLUMNS, missing)


def delete_booking(db: Connection, booking_id: str) -> None:
    """Remove a booking and its events; the change is a tombstone for both."""
    delete_local(db, "booking", booking_id)


def _event_record(row: dict[str, Any]) -> dict[str, Any]:
    row = decode(row, EVENT_JSON_COLUMNS)
    row["applied"] = bool(row["applied"])
    return row


def booking_events(
    db: Connection, booking_id: str, *, after_hlc: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """A booking's events in event (HLC) order, after `after_hlc`; all of them, or `limit`."""
    sql = "SELECT * FROM booking_events WHERE booking_id = ? AND hlc > ? ORDER BY hlc"
    params: list[Any] = [booking_id, after_hlc or ""]
    if limit is not None and limit >= 0:
        sql += " LIMIT ?"
        params.append(limit)
    return [_event_record(row) for row in db.query(sql, params)]


def recent_booking_events(db: Connection, booking_id: str, count: int) -> list[dict[str, Any]]:
    """The `count` most recent events, oldest first."""
    rows = db.query(
        "SELECT * FROM booking_events WHERE booking_id = ? ORDER BY hlc DESC LIMIT ?",
        [booking_id, count],
    )
    return [_event_record(row) for row in reversed(rows)]


def lock_resources(db: Connection, resource_ids: Iterable[str]) -> None:
    """Hold these resources' slots until the transaction ends (Connection.lock).

    Whoever checks a resource for overlaps and then writes what the check allowed (a create, a
    move, the hub settling a double booking) holds its resource first: otherwise two hub
    processes could each check, each find the slot free, and both book it. The check's reads
    come after the lock, so they see what the previous holder committed.
    """
    db.lock(*(slot_lock(resource_id) for resource_id in resource_ids))


def slot_lock(resource_id: str) -> str:
    """The lock (Connection.lock) on a resource's slots."""
    return f"slot:{resource_id}"


def booking_lock(booking_id: str) -> str:
    """The lock (Connection.lock) on one booking's state: whoever adds to its history holds it."""
    return f"booking:{booking_id}"


def booking_for_change(db: Connection, booking_id: str, missing: Missing = RowMissing) -> dict:
    """get_booking for a change of the booking: it stays held until the transaction ends, so
    a change made in another hub process meanwhile is not written over from a stale read."""
    require_transaction(db)
    db.lock(booking_lock(booking_id))
    return get_booking(db, booking_id, missing)


def resources_of_bookings(db: Connection, booking_ids: Iterable[str]) -> set[str]:
    """The resources these bookings are on now (the unknown ids are left out)."""
    ids = sorted(set(booking_ids))
    found: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        # The dialect's form: on PostgreSQL one array parameter, whose plan reads the primary
        # key; an IN list of 500 parameters was planned as a scan of the whole table.
        among, params = db.dialect.one_of("id", chunk)
        rows = db.execute(f"SELECT DISTINCT resource_id FROM bookings WHERE {among}", params)
        found.update(resource_id for (resource_id,) in rows)
    return found


_CHUNK = 500  # values bound in one IN (...)


def active_bookings_between(
    db: Connection, resource_id: str, start: int, end: int
) -> list[dict[str, Any]]:
    """Active bookings of a resource overlapping [start, end), with what a clash names."""
    return db.query(
        "SELECT id, start_time, end_time, buffer_minutes, customer_id, title FROM bookings "
        "WHERE resource_id = ? "
        f"AND start_time >= ? AND start_time < ? AND end_time > ? AND {_ACTIVE_SQL}",
        [resource_id, start - MAX_BOOKING_MS, end, start],
    )


def active_bookings_from(db: Connection, resource_id: str, start: int) -> list[dict[str, Any]]:
    """Active bookings of a resource that end after `start`."""
    return db.query(
        f"SELECT id, start_time, end_time FROM bookings WHERE resource_id = ? "
        f"AND start_time >= ? AND end_time > ? AND {_ACTIVE_SQL} ORDER BY start_time",
        [resource_id, start - MAX_BOOKING_MS, start],
    )


def has_future_active_bookings(db: Connection, resource_id: str, now_ms: int) -> bool:
    row = db.one(
        f"SELECT 1 FROM bookings WHERE resource_id = ? AND start_time >= ? AND end_time > ? "
        f"AND {_ACTIVE_SQL} LIMIT 1",
        [resource_id, now_ms - MAX_BOOKING_MS, now_ms],
    )
    return row is not None


def list_bookings(
    db: Connection,
    *,
    after: tuple[int, str] | None,
    limit: int,
    statuses: list[str] | None = None,
    resource_id: str | None = None,
    customer_id: str | None = None,
    start: int | None = None,
    end: int | None = None,
) -> list[dict[str, Any]]:
    """Bookings ordered by (start_time, id) after `after`, overlapping [start, end) if given."""
    where, params = ["1 = 1"], []
    if after is not None:
        where.append("(start_time, id) > (?, ?)")
        params.extend(after)
    if statuses:
        where.append(f"status IN ({', '.join('?' for _ in statuses)})")
        params.extend(statuses)
    for column, value in (("resource_id", resource_id), ("customer_id", customer_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if start is not None:
        where.append("start_time >= ? AND end_time > ?")
        params.extend([start - MAX_BOOKING_MS, start])
    if end is not None:
        where.append("start_time < ?")
        params.append(end)
    sql = f"SELECT * FROM bookings WHERE {' AND '.join(where)} ORDER BY start_time, id LIMIT ?"
    return [decode(row, BOOKING_JSON_COLUMNS) for row in db.query(sql, [*params, limit])]


# --- what sync needs: events from elsewhere, replay, double bookings -----------------------------


def overlapping_active(db: Connection, booking: dict[str, Any]) -> list[dict[str, Any]]:
    """Other active bookings of the same resource whose time overlaps this one's."""
    return db.query(
        f"SELECT id, status, start_time, end_time FROM bookings WHERE resource_id = ? "
        f"AND id != ? AND start_time >= ? AND start_time < ? AND end_time > ? AND {_ACTIVE_SQL} "
        "ORDER BY start_time, id",
        [
            booking["resource_id"],
            booking["id"],
            booking["start_time"] - MAX_BOOKING_MS,
            booking["end_time"],
            booking["start_time"],
        ],
    )


def has_event_stamped_between(db: Connection, booking_id: str, low: str, high: str) -> bool:
    row = db.one(
        "SELECT 1 FROM booking_events WHERE booking_id = ? AND hlc > ? AND hlc < ? LIMIT 1",
        [booking_id, low, high],
    )
    return row is not None


def insert_remote_event(db: Connection, event: dict[str, Any], hlc: str) -> bool:
    """Keep another node's booking event; False when it was already held as it is.

    One event can arrive under two stamps: a copied laptop re-issues the writes the hub had
    not confirmed, and the original may send them too (SYNC.md §3a). Every replica keeps the
    lower stamp, so all replay the same history.
    """
    require_transaction(db)
    row = _event_row({"applied": True, "anomaly": None, **event}, event["node_id"], hlc)
    row = {name: row.get(name) for name in _EVENT_COLUMNS}
    cursor = db.execute(
        f"INSERT INTO booking_events ({', '.join(row)}) "
        f"VALUES ({', '.join(':' + c for c in row)}) "
        "ON CONFLICT (id) DO UPDATE SET hlc = excluded.hlc, node_id = excluded.node_id "
        "WHERE excluded.hlc < booking_events.hlc",
        row,
    )
    return cursor.rowcount == 1


def save_replayed_booking(
    db: Connection, booking_id: str, state: dict[str, Any] | None, anomalies: dict[str, str]
) -> None:
    """Store what replaying a booking's events gave: its row, and each event's outcome."""
    require_transaction(db)
    db.execute(
        "UPDATE booking_events SET applied = 1, anomaly = NULL WHERE booking_id = ?", [booking_id]
    )
    for event_id, reason in anomalies.items():
        db.execute(
            "UPDATE booking_events SET applied = 0, anomaly = ? WHERE id = ?", [reason, event_id]
        )
    db.execute("DELETE FROM bookings WHERE id = ?", [booking_id])
    if state is not None:
        insert(db, "bookings", state, BOOKING_JSON_COLUMNS)


def unapplied_events(db: Connection) -> list[dict[str, Any]]:
    rows = db.query("SELECT * FROM booking_events WHERE applied = 0 ORDER BY hlc")
    return [_event_record(row) for row in rows]


_ANOMALY_COLUMNS = ("id", "kind", "booking_id", "other_booking_id", "message", "hlc")


def insert_anomaly(db: Connection, anomaly: dict[str, Any]) -> bool:
    """Keep a double-booking anomaly; False when it was already held."""
    require_transaction(db)
    cursor = db.execute(
        db.dialect.insert_ignoring("anomalies", _ANOMALY_COLUMNS),
        {column: anomaly.get(column) for column in _ANOMALY_COLUMNS},
    )
    return cursor.rowcount == 1


def anomaly_records(db: Connection) -> list[dict[str, Any]]:
    return db.query("SELECT * FROM anomalies ORDER BY hlc, id")
