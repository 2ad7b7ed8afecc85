"""A customer's whole booking history, newest first, a page at a time, and how it ended."""

from __future__ import annotations

from typing import Any

from app import store
from app.store import Connection
from app.store import customer_history as stored


def page(
    db: Connection, customer_id: str, *, before_id: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to `limit` bookings older than the booking `before_id` (None: from the newest), and
    the id to ask for the next page with (None on the last page). An unknown `before_id`
    starts from the newest."""
    before = None
    if before_id:
        try:
            anchor = store.get_booking(db, before_id)
        except store.RowMissing:
            anchor = None
        if anchor is not None and anchor["customer_id"] == customer_id:
            before = (anchor["start_time"], anchor["id"])
    rows = stored.bookings_before(db, customer_id, before, limit + 1)
    next_id = rows[limit - 1]["id"] if len(rows) > limit else None
    return rows[:limit], next_id


def counts(db: Connection, customer_id: str) -> dict[str, int]:
    """Bookings per status, with `total`: the counter asks "how often did they not come?"."""
    by_status = stored.status_counts(db, customer_id)
    return {**by_status, "total": sum(by_status.values())}
