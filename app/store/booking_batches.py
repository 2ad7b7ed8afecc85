"""What sync does to the bookings of a whole page at once, in a few statements.

A page of 500 changes touches up to 500 bookings. One statement per event, one read per
booking's history, one write per replayed row and one overlap query per booking made a
booking cost a dozen round trips; here each step is one statement (or one per 500 ids) for
the page: the events kept with one executemany, every touched booking's history read in one
query, the replayed rows written in batches, and the overlap rule asked once for the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.store.bookings import (
    _ACTIVE_SQL,
    _EVENT_COLUMNS,
    MAX_BOOKING_MS,
    _event_record,
)
from app.store.connection import Connection
from app.store.rows import BOOKING_JSON_COLUMNS, dumps, require_transaction

_CHUNK = 500  # ids bound in one IN (...): far below every backend's limit on parameters
# A replayed booking: its id, the state its events give (None: nothing to show), the
# {event id: anomaly} of the events that could not apply, and the events it was replayed from.
Replayed = tuple[str, dict[str, Any] | None, dict[str, str], list[dict[str, Any]]]

# An event's columns as they travel, then its local bookkeeping (hlc, applied, anomaly).
_SYNCED_EVENT_COLUMNS = _EVENT_COLUMNS[: _EVENT_COLUMNS.index("hlc")]
assert _EVENT_COLUMNS[len(_SYNCED_EVENT_COLUMNS) :] == ("hlc", "applied", "anomaly")
_DATA = _SYNCED_EVENT_COLUMNS.index("data")
# An event held already keeps the lower of the two stamps.
_KEEP_LOWER_STAMP = (
    "SET hlc = excluded.hlc, node_id = excluded.node_id WHERE excluded.hlc < booking_events.hlc"
)
# The touched bookings that overlap another active booking of their resource: the same test as
# bookings.overlapping_active, asked for a page of bookings in one statement.
_WITH_RIVALS_SQL = (
    "SELECT b.id FROM bookings b WHERE {touched} AND b.{active} AND EXISTS ("
    "SELECT 1 FROM bookings o WHERE o.resource_id = b.resource_id AND o.id != b.id "
    f"AND o.start_time >= b.start_time - {MAX_BOOKING_MS} AND o.start_time < b.end_time "
    "AND o.end_time > b.start_time AND o.{active})"
)


def _chunks(ids: Iterable[str]) -> Iterable[list[str]]:
    listed = list(ids)
    for start in range(0, len(listed), _CHUNK):
        yield listed[start : start + _CHUNK]


def tombstoned_among(db: Connection, entity: str, ids: Iterable[str]) -> set[str]:
    """Which of these records of `entity` are deleted (tombstoned)."""
    dead: set[str] = set()
    for chunk in _chunks(ids):
        among, params = db.dialect.one_of("entity_id", chunk)
        rows = db.execute(
            f"SELECT entity_id FROM tombstones WHERE entity = ? AND {among}", [entity, *params]
        )
        dead.update(row[0] for row in rows)
    return dead


def insert_remote_events(
    db: Connection, events: list[tuple[dict[str, Any], str]]
) -> list[dict[str, Any]]:
    """insert_remote_event for each (event, hlc) in order, in one batch: an event held
    already keeps the lower of its two stamps. Returns each event as booking_events() would
    read it back had it been new."""
    require_transaction(db)
    records, rows = [], []
    for event, hlc in events:
        values = [event.get(name) for name in _SYNCED_EVENT_COLUMNS]
        applied, anomaly = bool(event.get("applied", True)), event.get("anomaly")
        record = dict(zip(_EVENT_COLUMNS, (*values, hlc, applied, anomaly), strict=True))
        records.append(record)
        data = values[_DATA]
        if data is not None:
            values[_DATA] = dumps(data)
        rows.append((*values, hlc, int(applied), anomaly))
    if rows:
        db.upsert_rows("booking_events", _EVENT_COLUMNS, rows, key="id", update=_KEEP_LOWER_STAMP)
    return records


def events_of_bookings(db: Connection, booking_ids: Iterable[str]) -> dict[str, list[dict]]:
    """Every event of each booking, in event (HLC) order; a booking with none is left out."""
    histories: dict[str, list[dict[str, Any]]] = {}
    for chunk in _chunks(booking_ids):
        among, params = db.dialect.one_of("booking_id", chunk)
        rows = db.query(
            f"SELECT * FROM booking_events WHERE {among} ORDER BY booking_id, hlc", params
        )
        for row in rows:
            histories.setdefault(row["booking_id"], []).append(_event_record(row))
    return histories


def save_replayed_bookings(db: Connection, replayed: list[Replayed]) -> None:
    """save_replayed_booking for each booking, in batches: each event whose outcome changed
    is marked, and every booking's row is replaced by its state (or removed)."""
    require_transaction(db)
    outcomes: list[list[Any]] = []
    states: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for _booking_id, state, anomalies, events in replayed:
        for event in events:
            reason = anomalies.get(event["id"])
            if event["applied"] != (reason is None) or event["anomaly"] != reason:
                outcomes.append([int(reason is None), reason, event["id"]])
        if state is not None:
            row = dict(state)  # rows.encode, without a test of every column
            for column in BOOKING_JSON_COLUMNS:
                if row.get(column) is not None:
                    row[column] = dumps(row[column])
            states.setdefault(tuple(row), []).append(tuple(row.values()))
    if outcomes:
        db.executemany("UPDATE booking_events SET applied = ?, anomaly = ? WHERE id = ?", outcomes)
    for chunk in _chunks(booking_id for booking_id, *_ in replayed):
        among, params = db.dialect.one_of("id", chunk)
        db.execute(f"DELETE FROM bookings WHERE {among}", params)
    for columns, rows in states.items():
        db.insert_rows("bookings", columns, rows)


def bookings_with_rivals(db: Connection, booking_ids: Iterable[str]) -> set[str]:
    """The active bookings among these that overlap another active booking of their resource."""
    found: set[str] = set()
    for chunk in _chunks(booking_ids):
        among, params = db.dialect.one_of("b.id", chunk)
        sql = _WITH_RIVALS_SQL.format(touched=among, active=_ACTIVE_SQL)
        found.update(row[0] for row in db.execute(sql, params))
    return found
