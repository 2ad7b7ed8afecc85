"""Per-field last-writer-wins records and tombstones (SYNC.md §5): customers, resources, blockers.

Local writes and remote changes go through the same functions, so both keep every field's
clock and every tombstone the same way.
"""

from __future__ import annotations

import json
from typing import Any

from app.core import json_codec
from app.store import changelog
from app.store.connection import Connection
from app.store.rows import (
    BLOCKER_JSON_COLUMNS,
    CUSTOMER_JSON_COLUMNS,
    RESOURCE_JSON_COLUMNS,
    dumps,
    insert,
    insert_sql,
    require_transaction,
    update,
    update_sql,
)

LWW_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "customer": ("customers", CUSTOMER_JSON_COLUMNS),
    "resource": ("resources", RESOURCE_JSON_COLUMNS),
    "blocker": ("blockers", BLOCKER_JSON_COLUMNS),
    "service": ("services", ("resource_ids", "metadata")),  # app/store/services.py
    # The shop's messaging configuration (app/store/messaging.py, webhooks.py, feeds.py).
    "message_template": ("message_templates", ()),
    "messaging_settings": ("messaging_settings", ("channels", "kinds", "reminder_minutes")),
    "webhook": ("webhook_subscriptions", ("events",)),
    "calendar_feed": ("calendar_feeds", ()),
}
# What a record holds before the change that creates it arrives (a later field may come
# first from another node); the creating change's older stamp still wins these fields.
PLACEHOLDERS: dict[str, dict[str, Any]] = {
    "customer": {"name": "", "tags": [], "metadata": {}, "created_at": 0, "updated_at": 0},
    "resource": {
        "name": "",
        "timezone": "UTC",
        "default_duration_minutes": 60,
        "buffer_minutes": 0,
        "metadata": {},
        "created_at": 0,
        "updated_at": 0,
    },
    "blocker": {
        "resource_id": "",
        "start_time": 0,
        "end_time": 0,
        "all_day": 0,
        "metadata": {},
        "created_at": 0,
        "updated_at": 0,
    },
    "service": {
        "name": "",
        "duration_minutes": 60,
        "price_minor": 0,
        "currency": "",
        "buffer_minutes": 0,
        "resource_ids": [],
        "metadata": {},
        "created_at": 0,
        "updated_at": 0,
    },
    "message_template": {"kind": "", "channel": "", "body": "", "created_at": 0, "updated_at": 0},
    "messaging_settings": {"created_at": 0, "updated_at": 0},
    "webhook": {"url": "", "secret": "", "created_at": 0, "updated_at": 0},
    "calendar_feed": {"token_hash": "", "created_at": 0, "updated_at": 0},
}
_CHUNK = 500  # ids bound in one IN (...)


def is_tombstoned(db: Connection, entity: str, entity_id: str) -> bool:
    row = db.one("SELECT 1 FROM tombstones WHERE entity = ? AND entity_id = ?", [entity, entity_id])
    return row is not None


def apply_fields(
    db: Connection, entity: str, record_id: str, values: dict[str, Any], hlc: str
) -> dict[str, Any]:
    """Set each field whose clock is older than `hlc` (creating the record if needed).

    Returns the fields written. A tombstoned record takes nothing: deletes win.
    """
    require_transaction(db)
    if is_tombstoned(db, entity, record_id):
        return {}
    table, json_columns = LWW_TABLES[entity]
    row = db.one(f"SELECT field_clocks FROM {table} WHERE id = ?", [record_id])
    clocks: dict[str, str] = json.loads(row[0]) if row else {}
    known = db.table_columns(table)
    winners = {
        name: value
        for name, value in values.items()
        if name in known and name not in ("id", "field_clocks") and hlc > clocks.get(name, "")
    }
    if not winners:
        return {}
    clocks.update(dict.fromkeys(winners, hlc))
    encoded = (*json_columns, "field_clocks")
    if row is None:
        record = {**PLACEHOLDERS[entity], **winners, "id": record_id, "field_clocks": clocks}
        insert(db, table, record, encoded)
    else:
        update(db, table, record_id, {**winners, "field_clocks": clocks}, encoded)
    return winners


def apply_fields_many(db: Connection, upserts: list[tuple[str, str, dict[str, Any], str]]) -> None:
    """apply_fields for each (entity, record_id, values, hlc) in order, with no delete between
    them: tombstones and field clocks are read in a few queries, and each record is written
    once, with statements of the same shape batched."""
    require_transaction(db)
    by_entity: dict[str, list[tuple[str, str, dict[str, Any], str]]] = {}
    for upsert in upserts:
        by_entity.setdefault(upsert[0], []).append(upsert)
    for entity, group in by_entity.items():
        table = LWW_TABLES[entity][0]
        ids = list(dict.fromkeys(record_id for _, record_id, _, _ in group))
        dead, clocks = _tombstones_and_clocks(db, entity, table, ids)
        existing = set(clocks)
        settable = db.table_columns(table) - {"id", "field_clocks"}
        pending: dict[str, dict[str, Any]] = {}
        for _, record_id, values, hlc in group:
            if record_id in dead:
                continue
            record_clocks = clocks.get(record_id)
            if record_clocks is None:  # a record new to this node: every field it sends wins
                winners = {name: value for name, value in values.items() if name in settable}
                clocks[record_id] = dict.fromkeys(winners, hlc)
                if winners:
                    pending[record_id] = winners
                continue
            winners = {
                name: value
                for name, value in values.items()
                if name in settable and hlc > record_clocks.get(name, "")
            }
            if winners:
                record_clocks.update(dict.fromkeys(winners, hlc))
                pending.setdefault(record_id, {}).update(winners)
        _write_batched(db, entity, pending, clocks, existing)


def _tombstones_and_clocks(
    db: Connection, entity: str, table: str, ids: list[str]
) -> tuple[set[str], dict[str, dict[str, str]]]:
    """Which of these records are tombstoned, and the field clocks of those held."""
    dead: set[str] = set()
    clocks: dict[str, dict[str, str]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        among, params = db.dialect.one_of("entity_id", chunk)
        dead.update(
            row[0]
            for row in db.execute(
                f"SELECT entity_id FROM tombstones WHERE entity = ? AND {among}",
                [entity, *params],
            )
        )
        among, params = db.dialect.one_of("id", chunk)
        clocks.update(
            (row[0], json_codec.loads(row[1]))
            for row in db.execute(f"SELECT id, field_clocks FROM {table} WHERE {among}", params)
        )
    return dead, clocks


def _write_batched(
    db: Connection,
    entity: str,
    pending: dict[str, dict[str, Any]],
    clocks: dict[str, dict[str, str]],
    existing: set[str],
) -> None:
    """Insert the new records and update the held ones, one batch per statement shape."""
    table, json_columns = LWW_TABLES[entity]
    inserts: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for record_id, fields in pending.items():
        # Built and encoded in place (rows.encode would copy each row twice more).
        if record_id in existing:
            row = {**fields, "_id": record_id}
        else:
            row = {**PLACEHOLDERS[entity], **fields, "id": record_id}
        for column in json_columns:
            if row.get(column) is not None:
                row[column] = dumps(row[column])
        row["field_clocks"] = dumps(clocks[record_id])
        (updates if record_id in existing else inserts).setdefault(tuple(row), []).append(row)
    for columns, rows in inserts.items():
        db.executemany(insert_sql(table, columns), rows)
    for columns, rows in updates.items():
        db.executemany(update_sql(table, columns), rows)


def apply_delete(db: Connection, entity: str, entity_id: str, hlc: str) -> None:
    """Delete the record (a booking with its events) and keep a tombstone that always wins."""
    require_transaction(db)
    db.execute(
        "INSERT INTO tombstones (entity, entity_id, hlc) VALUES (?, ?, ?) "
        "ON CONFLICT (entity, entity_id) DO UPDATE SET hlc = CASE "
        "WHEN excluded.hlc < tombstones.hlc THEN excluded.hlc ELSE tombstones.hlc END",
        [entity, entity_id, hlc],
    )
    if entity == "booking":
        db.execute("DELETE FROM booking_events WHERE booking_id = ?", [entity_id])
        db.execute("DELETE FROM bookings WHERE id = ?", [entity_id])
    else:
        db.execute(f"DELETE FROM {LWW_TABLES[entity][0]} WHERE id = ?", [entity_id])


def record_lock(entity: str, record_id: str) -> str:
    """The lock (Connection.lock) on one record's fields and their clocks."""
    return f"{entity}:{record_id}"


def upsert_local(
    db: Connection, entity: str, record_id: str, values: dict[str, Any], *, new: bool = False
) -> None:
    """A local create or edit plus its change: every sent field wins, even over a value stamped
    ahead of our clock by a fast-clocked laptop (changelog.stamp_past)."""
    require_transaction(db)
    # Another hub process may change the record's fields at once: its clocks are read after it.
    db.lock(record_lock(entity, record_id))
    # A new record has no value to step past; an edit may (changelog.stamp_past).
    current = None if new else _newest_field_clock(db, entity, record_id, values)
    hlc = changelog.stamp_past(db, current)
    apply_fields(db, entity, record_id, values, hlc)
    changelog.append(db, entity, record_id, "upsert", values, hlc=hlc)


def _newest_field_clock(
    db: Connection, entity: str, record_id: str, values: dict[str, Any]
) -> str | None:
    """The newest stamp among the fields `values` sets on the record (None for a new one)."""
    clocks = field_clocks(db, entity, record_id)
    return max((clocks[name] for name in values if name in clocks), default=None)


def field_clocks(db: Connection, entity: str, record_id: str) -> dict[str, str]:
    """The stamp of the change that last set each field of the record ({} if none)."""
    table = LWW_TABLES[entity][0]
    row = db.one(f"SELECT field_clocks FROM {table} WHERE id = ?", [record_id])
    return json_codec.loads(row[0]) if row else {}


def delete_local(db: Connection, entity: str, record_id: str) -> None:
    """A local delete plus its change: the record goes, and its tombstone wins everywhere."""
    require_transaction(db)
    db.lock(record_lock(entity, record_id))
    hlc = changelog.next_hlc(db)
    apply_delete(db, entity, record_id, hlc)
    changelog.append(db, entity, record_id, "delete", {}, hlc=hlc)
