"""SQL for services (what a shop sells: a name, a length, a price) and the day's booking counts.

Services are synced like resources: per-field last-writer-wins with tombstones, through
`upsert_local`/`delete_local` (the entity is "service" in the change log).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from app import store
from app.store.connection import Connection

SERVICE_JSON_COLUMNS = ("resource_ids", "metadata")


def _decode(row: tuple[Any, ...], names: list[str]) -> dict[str, Any]:
    record = dict(zip(names, row, strict=True))
    for column in SERVICE_JSON_COLUMNS:
        record[column] = json.loads(record[column])
    record.pop("field_clocks", None)
    return record


def _select(db: Connection, where: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = db.execute(f"SELECT * FROM services WHERE {where}", params)
    names = [column[0] for column in cursor.description]
    return [_decode(row, names) for row in cursor.fetchall()]


def insert_service(db: Connection, service: dict[str, Any]) -> None:
    """Insert a service and its `upsert` change (all fields). Call inside transaction()."""
    store.upsert_local(db, "service", service["id"], service, new=True)


def update_service(db: Connection, service_id: str, changes: dict[str, Any]) -> None:
    store.upsert_local(db, "service", service_id, changes)


def delete_service(db: Connection, service_id: str) -> None:
    """Remove a service for good and record the tombstone (bookings keep what they took)."""
    store.delete_local(db, "service", service_id)


def get_service(
    db: Connection, service_id: str, missing: Callable[[str], Exception] = store.RowMissing
) -> dict[str, Any]:
    rows = _select(db, "id = ?", [service_id])
    if not rows:
        raise missing(f"No service has the id {service_id!r}.")
    return rows[0]


def list_services(
    db: Connection,
    *,
    after_id: str | None,
    limit: int,
    q: str | None = None,
    resource_id: str | None = None,
) -> list[dict[str, Any]]:
    """Services in id (creation) order after `after_id`; `q` is a substring of the name, and
    `resource_id` keeps those the resource performs (a service naming no resource: all do)."""
    where, params = ["id > ?"], [after_id or ""]
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append("name LIKE ? ESCAPE '\\'")
        params.append(f"%{escaped}%")
    if resource_id is not None:
        where.append(
            "(resource_ids = '[]' OR EXISTS (SELECT 1 FROM json_each(services.resource_ids) "
            "WHERE value = ?))"
        )
        params.append(resource_id)
    return _select(db, f"{' AND '.join(where)} ORDER BY id LIMIT ?", [*params, limit])


def day_bookings(db: Connection, resource_id: str, start: int, end: int) -> list[dict[str, Any]]:
    """Status, price and currency of the resource's bookings that start in [start, end)."""
    cursor = db.execute(
        "SELECT status, price_minor, currency FROM bookings "
        "WHERE resource_id = ? AND start_time >= ? AND start_time < ?",
        [resource_id, start, end],
    )
    return [
        {"status": status, "price_minor": price, "currency": currency}
        for status, price, currency in cursor.fetchall()
    ]
