"""Blockers (API.md §5): holidays, breaks and recurring closures of a resource.

What a repeating blocker's rule means, and how far it may reach, is app/domain/recurrence.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from app import store
from app.core import deadline
from app.core.ids import new_id
from app.core.times import wall_ms
from app.domain import Precondition
from app.domain import check as _check
from app.domain.availability import Interval
from app.domain.errors import InvalidInput, UnknownResource
from app.domain.recurrence import check_bounds, local_time, occurrences, widen_all_day
from app.store import Connection

MAX_OCCURRENCES_LISTED = 100


def occurrences_for_resource(
    db: Connection, resource: dict[str, Any], start: int, end: int
) -> Iterator[Interval]:
    """Every blocker occurrence of the resource overlapping [start, end)."""
    for blocker in store.blockers_for_resource(db, resource["id"], before=end):
        yield from occurrences(blocker, resource["timezone"], start, end)


# --- services ---------------------------------------------------------------------------------

Blocker = dict[str, Any]


@dataclass(frozen=True)
class NewBlocker:
    """What a caller asks to block; instants in ms. With `all_day` the interval widens to whole
    local days; `recurrence` is the structured form or {"rrule": ...}, as stored."""

    resource_id: str
    start: int
    end: int
    title: str | None = None
    all_day: bool = False
    recurrence: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def create(db: Connection, new: NewBlocker) -> tuple[Blocker, list[str]]:
    """Store a blocker; return its row and the ids of active bookings it now covers.

    Bookings in the way do not stop a blocker: staff close for a holiday, then call customers.
    Raises UnknownResource, or InvalidInput for an RRULE dateutil cannot use.
    """
    # Validate and shape the blocker before taking the write lock: a pathological rule can
    # take dateutil seconds to refuse, and other writers must not wait on that.
    resource = store.get_resource(db, new.resource_id, missing=UnknownResource)
    blocker = new_blocker(new, resource["timezone"])
    with store.transaction(db):
        resource = store.get_resource(db, new.resource_id, missing=UnknownResource)
        conflicting = covered_bookings(db, blocker, resource)
        store.insert_blocker(db, blocker)
    return blocker, conflicting


def new_blocker(new: NewBlocker, timezone: str) -> Blocker:
    """The row for `new` (all-day widened to whole local days); InvalidInput for a rule that
    cannot be used within the bounds."""
    start, end = new.start, new.end
    if new.all_day:
        start, end = widen_all_day(start, end, timezone)
    now = wall_ms()
    blocker = {
        "id": new_id("blk"),
        "resource_id": new.resource_id,
        "title": new.title,
        "start_time": start,
        "end_time": end,
        "all_day": new.all_day,
        "recurrence": new.recurrence,
        "metadata": new.metadata,
        "created_at": now,
        "updated_at": now,
    }
    _check_rule(blocker, timezone)
    return blocker


def _check_rule(blocker: dict[str, Any], timezone: str) -> None:
    """InvalidInput unless dateutil can use the rule within the blocker bounds (README)."""
    if not blocker["recurrence"]:
        return
    try:
        check_bounds(blocker["recurrence"], local_time(blocker["start_time"], ZoneInfo(timezone)))
    except ValueError as error:
        raise InvalidInput(
            "The recurrence rule cannot be used.",
            details=[{"field": "recurrence.rrule", "message": str(error)}],
        ) from None


def covered_bookings(db: Connection, blocker: dict[str, Any], resource: dict[str, Any]) -> list:
    """Ids of the resource's active bookings that one of the blocker's occurrences overlaps."""
    covered = []
    for booking in store.active_bookings_from(db, resource["id"], blocker["start_time"]):
        deadline.check()
        window = (booking["start_time"], booking["end_time"])
        if next(occurrences(blocker, resource["timezone"], *window), None) is not None:
            covered.append(booking["id"])
    return covered


def get(db: Connection, blocker_id: str) -> Blocker:
    return store.get_blocker(db, blocker_id)


def delete(db: Connection, blocker_id: str, *, precondition: Precondition = None) -> Blocker:
    with store.transaction(db):
        _check(precondition)
        blocker = store.get_blocker(db, blocker_id)
        store.delete_blocker(db, blocker_id)
    return blocker


def find(
    db: Connection,
    *,
    after_id: str | None,
    limit: int,
    resource_id: str | None = None,
    start: int | None = None,
    end: int | None = None,
) -> list[tuple[Blocker, list[Interval] | None]]:
    """Up to `limit` blockers in id order after `after_id`. With a window (`start` or `end`),
    only those occurring in it, each with its occurrences there (at most 100); else None."""
    windowed = start is not None or end is not None
    first = start if start is not None else 0
    last = end if end is not None else 253402300800000  # year 10000
    zones: dict[str, str] = {}
    found: list[tuple[Blocker, list[Interval] | None]] = []
    for blocker in store.iter_blockers(db, after_id=after_id, resource_id=resource_id):
        deadline.check()
        hits = None
        if windowed:
            zone = zones.get(blocker["resource_id"])
            if zone is None:
                zone = zones[blocker["resource_id"]] = store.resource_timezone(
                    db, blocker["resource_id"]
                )
            hits = list(occurrences(blocker, zone, first, last, MAX_OCCURRENCES_LISTED))
            if not hits:
                continue
        found.append((blocker, hits))
        if len(found) >= limit:
            break
    return found
