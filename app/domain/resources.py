"""Resources (API.md §2): what is booked — a chair, a room, a person.

Takes and returns plain rows (instants in ms); the web layer shapes them as JSON.
"""

from __future__ import annotations

from typing import Any

from app import store
from app.core.ids import new_id
from app.core.times import wall_ms
from app.core.vocabulary import MINUTE_MS
from app.domain import Precondition, blockers
from app.domain import check as _check
from app.domain.availability import Interval, free_slots, open_intervals
from app.domain.clashes import MAX_BUFFER_MS, held_buffer
from app.domain.errors import InvalidState
from app.store import Connection

Resource = dict[str, Any]


def create(db: Connection, fields: dict[str, Any]) -> Resource:
    now = wall_ms()
    resource = {"id": new_id("res"), **fields, "created_at": now, "updated_at": now}
    with store.transaction(db):
        store.insert_resource(db, resource)
    return resource


def get(db: Connection, resource_id: str) -> Resource:
    return store.get_resource(db, resource_id)


def update(
    db: Connection, resource_id: str, sent: dict[str, Any], *, precondition: Precondition = None
) -> Resource:
    """Apply the fields sent; unchanged values write nothing. Raises store.RowMissing."""
    with store.transaction(db):
        _check(precondition)
        resource = store.get_resource(db, resource_id)
        changes = {name: value for name, value in sent.items() if resource[name] != value}
        if changes:
            changes["updated_at"] = max(wall_ms(), resource["updated_at"])
            store.update_resource(db, resource_id, changes)
            resource.update(changes)
    return resource


def delete(db: Connection, resource_id: str, *, precondition: Precondition = None) -> Resource:
    """Remove the resource for good. Raises store.RowMissing, or InvalidState while it has
    pending, confirmed or checked-in bookings that end in the future."""
    with store.transaction(db):
        _check(precondition)
        resource = store.get_resource(db, resource_id)
        if store.has_future_active_bookings(db, resource_id, wall_ms()):
            raise InvalidState(
                f"{resource['name']} still has upcoming bookings; cancel or complete them first."
            )
        store.delete_resource(db, resource_id)
    return resource


def availability(
    db: Connection,
    resource_id: str,
    *,
    start: int,
    end: int,
    duration_minutes: int | None,
    step_minutes: int,
) -> list[Interval]:
    """Free slots of `duration_minutes` (else the resource's default) in [start, end), every
    `step_minutes`, that a booking could take right now. Raises store.RowMissing."""
    resource = store.get_resource(db, resource_id)
    window = Interval(start, end, "")
    duration = (duration_minutes or resource["default_duration_minutes"]) * MINUTE_MS
    buffer = resource["buffer_minutes"] * MINUTE_MS
    bookings = store.active_bookings_between(
        db, resource_id, window.start - MAX_BUFFER_MS, window.end + duration + buffer
    )
    # Each booking keeps its own buffer free after it: its service's, if that is longer.
    busy = [
        Interval(b["start_time"], b["end_time"] + _kept_free(resource, b), b["id"])
        for b in bookings
    ]
    busy += blockers.occurrences_for_resource(
        db, resource, window.start, window.end + duration + buffer
    )
    return free_slots(
        window=window,
        duration=duration,
        step=step_minutes * MINUTE_MS,
        buffer=buffer,
        open_spans=open_intervals(
            resource["business_hours"], resource["timezone"], window.start, window.end
        ),
        busy=busy,
    )


def _kept_free(resource: Resource, booking: dict[str, Any]) -> int:
    """Ms kept free after a booking: its resource's buffer, or its service's if longer."""
    return held_buffer(resource, booking["buffer_minutes"]) * MINUTE_MS


def find(
    db: Connection, *, after_id: str | None, limit: int, q: str | None = None
) -> list[Resource]:
    """Up to `limit` resources in creation order after `after_id`, filtered by `q`."""
    return store.list_resources(db, after_id=after_id, limit=limit, q=q)
