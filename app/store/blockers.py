"""Blockers: times a resource cannot be booked (one-off or recurring)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.store.connection import Connection
from app.store.errors import RowMissing
from app.store.lww import delete_local, upsert_local
from app.store.rows import BLOCKER_JSON_COLUMNS, Missing, decode, get


def insert_blocker(db: Connection, blocker: dict[str, Any]) -> None:
    """Insert a blocker and its `upsert` change. Call inside a transaction."""
    upsert_local(db, "blocker", blocker["id"], blocker, new=True)


def get_blocker(db: Connection, blocker_id: str, missing: Missing = RowMissing) -> dict:
    """The blocker; raises `missing` (RowMissing by default) for an unknown id."""
    return get(db, "blockers", blocker_id, BLOCKER_JSON_COLUMNS, missing)


def delete_blocker(db: Connection, blocker_id: str) -> None:
    """Remove a blocker for good and record the tombstone."""
    delete_local(db, "blocker", blocker_id)


def blockers_for_resource(db: Connection, resource_id: str, *, before: int) -> list[dict]:
    """The resource's blockers whose first occurrence starts before `before`."""
    rows = db.query(
        "SELECT * FROM blockers WHERE resource_id = ? AND start_time < ? ORDER BY start_time",
        [resource_id, before],
    )
    return [decode(row, BLOCKER_JSON_COLUMNS) for row in rows]


def iter_blockers(
    db: Connection, *, after_id: str | None, resource_id: str | None, batch: int = 200
) -> Iterator[dict[str, Any]]:
    """Blockers in id order after `after_id`, fetched a batch at a time."""
    last = after_id or ""
    while True:
        where, params = ["id > ?"], [last]
        if resource_id is not None:
            where.append("resource_id = ?")
            params.append(resource_id)
        sql = f"SELECT * FROM blockers WHERE {' AND '.join(where)} ORDER BY id LIMIT ?"
        rows = db.query(sql, [*params, batch])
        for row in rows:
            yield decode(row, BLOCKER_JSON_COLUMNS)
        if len(rows) < batch:
            return
        last = rows[-1]["id"]
