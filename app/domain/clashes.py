"""What stands in the way of a slot, said in words (API.md §4, §8).

A booking holds its interval plus a buffer after it: the larger of its resource's buffer and
the buffer of the service it was booked for. A new or moved booking clashes with another when
their held intervals overlap, or with a blocker occurrence its own held interval overlaps. The
refusal names the booking's time and customer (or the blocker), and the buffer when it is the
buffer, not the times themselves, that makes the clash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app import store
from app.core.times import format_instant
from app.core.vocabulary import MINUTE_MS
from app.domain import blockers
from app.domain.availability import open_intervals
from app.domain.errors import SlotConflict
from app.store import Connection

MAX_BUFFER_MS = 240 * MINUTE_MS  # the most a resource or a service keeps free after a booking


@dataclass(frozen=True)
class Clash:
    """A booking or blocker occurrence in the way; `buffer_minutes` is the buffer that made
    the clash (0 when the times themselves overlap)."""

    kind: str  # "booking" or "blocker"
    id: str
    start: int
    end: int
    buffer_minutes: int
    customer_id: str | None = None
    title: str | None = None


def held_buffer(resource: dict[str, Any], booking_buffer: int | None) -> int:
    """Minutes kept free after a booking: its resource's buffer or its service's, the larger."""
    return max(resource["buffer_minutes"], booking_buffer or 0)


def find_clash(
    db: Connection,
    resource: dict[str, Any],
    start: int,
    end: int,
    *,
    buffer_minutes: int = 0,
    ignore: str | None = None,
) -> Clash | None:
    """The first active booking (other than `ignore`) or blocker occurrence in the way of
    [start, end) on `resource`, where the new booking's own service buffer is `buffer_minutes`."""
    own = held_buffer(resource, buffer_minutes)
    held_end = end + own * MINUTE_MS
    for other in store.active_bookings_between(db, resource["id"], start - MAX_BUFFER_MS, held_end):
        theirs = held_buffer(resource, other["buffer_minutes"])
        if other["id"] == ignore or not (
            start < other["end_time"] + theirs * MINUTE_MS and other["start_time"] < held_end
        ):
            continue
        if start >= other["end_time"]:
            caused = theirs  # we start in the gap kept free after it
        elif end <= other["start_time"]:
            caused = own  # it starts in the gap kept free after us
        else:
            caused = 0
        return Clash(
            "booking",
            other["id"],
            other["start_time"],
            other["end_time"],
            caused,
            other["customer_id"],
            other["title"],
        )
    for occurrence in blockers.occurrences_for_resource(db, resource, start, held_end):
        caused = own if end <= occurrence.start else 0
        blocker = store.get_blocker(db, occurrence.owner)
        return Clash(
            "blocker",
            occurrence.owner,
            occurrence.start,
            occurrence.end,
            caused,
            title=blocker["title"],
        )
    return None


def describe(db: Connection, clash: Clash) -> str:
    """The clash in words: "booked from … to … for Ada Lovelace (Trim)", "blocked from … to …"."""
    span = f"from {format_instant(clash.start)} to {format_instant(clash.end)}"
    if clash.kind == "blocker":
        return f"it is blocked {span}" + (f" ({clash.title})" if clash.title else "")
    words = f"it is booked {span}"
    if clash.customer_id:
        try:
            words += f" for {store.get_customer(db, clash.customer_id)['name']}"
        except store.RowMissing:
            words += " for a customer who has been deleted"
    return words + (f" ({clash.title})" if clash.title else "")


def refusal(
    db: Connection, resource: dict[str, Any], start: int, end: int, clash: Clash, *, lead: str = ""
) -> SlotConflict:
    """The SlotConflict for `clash`: what is in the way, and the buffer when it is the cause.
    `lead` starts the sentence when the caller is not making a booking (an undo)."""
    what = describe(db, clash)
    if clash.buffer_minutes:
        after = "each booking" if clash.kind == "blocker" else "that booking"
        what += f", and {clash.buffer_minutes} minutes are kept free after {after}"
    opening = lead or (
        f"{resource['name']} is not free from {format_instant(start)} to {format_instant(end)}"
    )
    return SlotConflict(
        f"{opening}: {what}.",
        details=[{"field": "start_time", "message": f"Overlaps {clash.id}."}],
    )


def ensure_free(
    db: Connection,
    resource: dict[str, Any],
    start: int,
    end: int,
    *,
    buffer_minutes: int = 0,
    ignore: str | None = None,
    lead: str = "",
) -> None:
    """Raise SlotConflict saying what is in the way, unless [start, end) is free."""
    clash = find_clash(db, resource, start, end, buffer_minutes=buffer_minutes, ignore=ignore)
    if clash is not None:
        raise refusal(db, resource, start, end, clash, lead=lead)


def outside_business_hours(resource: dict[str, Any], start: int, end: int) -> bool:
    """Whether [start, end) leaves the resource's opening hours (never, with none set)."""
    if resource.get("business_hours") is None:
        return False
    spans = open_intervals(resource["business_hours"], resource["timezone"], start, end)
    return not any(span.start <= start and end <= span.end for span in spans)
