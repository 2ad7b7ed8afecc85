"""A customer's bookings, newest first and paged, and how their bookings ended."""

from __future__ import annotations

from typing import Any

from app.store.connection import Connection

COLUMNS = ("id", "resource_id", "start_time", "end_time", "title", "status", "cancel_reason")


def bookings_before(
    db: Connection, customer_id: str, before: tuple[int, str] | None, limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` of the customer's bookings that start before `before` (start, id), newest
    first, read along the (customer_id, start_time) index."""
    start, booking_id = before if before else (2**62, "")
    cursor = db.execute(
        f"SELECT {', '.join(COLUMNS)} FROM bookings WHERE customer_id = ? "
        "AND (start_time < ? OR (start_time = ? AND id < ?)) "
        "ORDER BY start_time DESC, id DESC LIMIT ?",
        [customer_id, start, start, booking_id or "\U0010ffff", limit],
    )
    return [dict(zip(COLUMNS, row, strict=True)) for row in cursor.fetchall()]


def status_counts(db: Connection, customer_id: str) -> dict[str, int]:
    """How many of the customer's bookings are in each status."""
    rows = db.execute(
        "SELECT status, COUNT(*) FROM bookings WHERE customer_id = ? GROUP BY status",
        [customer_id],
    ).fetchall()
    return dict(rows)
