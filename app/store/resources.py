"""Resources: what is booked (a chair, a room), with its time zone, hours and buffer."""

from __future__ import annotations

from typing import Any

from app.store.connection import Connection
from app.store.errors import RowMissing
from app.store.lww import delete_local, upsert_local
from app.store.rows import RESOURCE_JSON_COLUMNS, Missing, decode, get, like


def insert_resource(db: Connection, resource: dict[str, Any]) -> None:
    """Insert a resource and its `upsert` change. Call inside a transaction."""
    upsert_local(db, "resource", resource["id"], resource, new=True)


def get_resource(db: Connection, resource_id: str, missing: Missing = RowMissing) -> dict:
    """The resource; raises `missing` (RowMissing by default) for an unknown id."""
    return get(db, "resources", resource_id, RESOURCE_JSON_COLUMNS, missing)


def update_resource(db: Connection, resource_id: str, changes: dict[str, Any]) -> None:
    """Write the changed fields and an `upsert` change carrying only them."""
    upsert_local(db, "resource", resource_id, changes)


def delete_resource(db: Connection, resource_id: str) -> None:
    """Remove a resource for good and record the tombstone."""
    delete_local(db, "resource", resource_id)


def list_resources(
    db: Connection, *, after_id: str | None, limit: int, q: str | None = None
) -> list[dict[str, Any]]:
    """Resources in id order after `after_id`, whose name holds `q`; up to `limit` rows."""
    where, params = ["1 = 1"], []
    if after_id is not None:
        where.append("id > ?")
        params.append(after_id)
    if q:
        where.append(db.dialect.contains_text("name"))
        params.append(like(q))
    sql = f"SELECT * FROM resources WHERE {' AND '.join(where)} ORDER BY id LIMIT ?"
    return [decode(row, RESOURCE_JSON_COLUMNS) for row in db.query(sql, [*params, limit])]


def resource_timezone(db: Connection, resource_id: str) -> str:
    """The resource's time zone; UTC if it has been deleted (its blockers may outlive it)."""
    zone = db.scalar("SELECT timezone FROM resources WHERE id = ?", [resource_id])
    return zone or "UTC"
