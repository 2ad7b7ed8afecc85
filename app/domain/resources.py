"""Resources (API.md §2): what is booked — a chair, a room, a person."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from app import pagination, storage
from app.domain import blockers
from app.domain.availability import MINUTE, Interval, free_slots, open_intervals
from app.errors import InvalidState
from app.ids import new_id
from app.times import format_instant, parse_instant, wall_ms
from app.validation import AvailabilityQuery, ResourceCreate, ResourceListQuery, ResourcePatch

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
    """Remove the resource for good. Raises NotFound, or InvalidState while it has pending,
    confirmed or checked-in bookings that end in the future."""
    with storage.transaction(db):
        resource = storage.get_resource(db, resource_id)
        if storage.has_future_active_bookings(db, resource_id, wall_ms()):
            raise InvalidState(
                f"{resource['name']} still has upcoming bookings; cancel or complete them first."
            )
        storage.delete_resource(db, resource_id)
    return to_json(resource)


def availability(db: Database, resource_id: str, query: AvailabilityQuery) -> list[dict]:
    """Free slots of `query.duration_minutes` in [from, to), every `step_minutes`, that a
    booking could take right now. Raises NotFound."""
    resource = storage.get_resource(db, resource_id)
    window = Interval(parse_instant(query.from_), parse_instant(query.to), "")
    duration = (query.duration_minutes or resource["default_duration_minutes"]) * MINUTE
    buffer = resource["buffer_minutes"] * MINUTE
    bookings = storage.active_bookings_between(
        db, resource_id, window.start - buffer, window.end + duration + buffer
    )
    busy = [Interval(b["start_time"], b["end_time"] + buffer, b["id"]) for b in bookings]
    busy += blockers.occurrences_for_resource(
        db, resource, window.start, window.end + duration + buffer
    )
    slots = free_slots(
        window=window,
        duration=duration,
        step=query.step_minutes * MINUTE,
        buffer=buffer,
        open_spans=open_intervals(
            resource["business_hours"], resource["timezone"], window.start, window.end
        ),
        busy=busy,
    )
    # Slots overlap when the step is shorter than the duration, so most instants repeat.
    text: dict[int, str] = {}

    def formatted(millis: int) -> str:
        if millis not in text:
            text[millis] = format_instant(millis)
        return text[millis]

    return [{"start_time": formatted(s.start), "end_time": formatted(s.end)} for s in slots]


def list_page(
    db: Database, query: ResourceListQuery, secret: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    after_id = pagination.decode(secret, "resources", query.cursor)
    rows = storage.list_resources(db, after_id=after_id, limit=query.limit + 1, q=query.q)
    rows, meta = pagination.page(rows, query.limit, secret, "resources", lambda row: row["id"])
    return [to_json(row) for row in rows], meta
