"""Resources (API.md §2): what is booked — a chair, a room, a person."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from app import pagination, storage
from app.ids import new_id
from app.times import format_instant, wall_ms
from app.validation import ResourceCreate, ResourceListQuery, ResourcePatch

FIELDS = (
    "id",
    "name",
    "timezone",
    "default_duration_minutes",
    "buffer_minutes",
    "business_hours",
    "metadata",
)


def to_json(resource: dict[str, Any]) -> dict[str, Any]:
    return {
        **{name: resource[name] for name in FIELDS},
        "created_at": format_instant(resource["created_at"]),
        "updated_at": format_instant(resource["updated_at"]),
    }


def create(db: Database, payload: ResourceCreate) -> dict[str, Any]:
    now = wall_ms()
    resource = {"id": new_id("res"), **payload.model_dump(), "created_at": now, "updated_at": now}
    with storage.transaction(db):
        storage.insert_resource(db, resource)
    return to_json(resource)


def get(db: Database, resource_id: str) -> dict[str, Any]:
    return to_json(storage.get_resource(db, resource_id))


def update(db: Database, resource_id: str, payload: ResourcePatch) -> dict[str, Any]:
    """Apply the fields the client sent; unchanged values write nothing. Raises NotFound."""
    sent = {name: getattr(payload, name) for name in payload.model_fields_set}
    with storage.transaction(db):
        resource = storage.get_resource(db, resource_id)
        changes = {name: value for name, value in sent.items() if resource[name] != value}
        if changes:
            changes["updated_at"] = max(wall_ms(), resource["updated_at"])
            storage.update_resource(db, resource_id, changes)
            resource.update(changes)
    return to_json(resource)


def delete(db: Database, resource_id: str) -> dict[str, Any]:
    """Remove the resource for good. Raises NotFound."""
    with storage.transaction(db):
        resource = storage.get_resource(db, resource_id)
        storage.delete_resource(db, resource_id)
    return to_json(resource)


def list_page(
    db: Database, query: ResourceListQuery, secret: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    after_id = pagination.decode(secret, "resources", query.cursor)
    rows = storage.list_resources(db, after_id=after_id, limit=query.limit + 1, q=query.q)
    rows, meta = pagination.page(rows, query.limit, secret, "resources", lambda row: row["id"])
    return [to_json(row) for row in rows], meta
