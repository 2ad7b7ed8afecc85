"""Calendar feeds, each with only a SHA-256 of its secret URL token.

Synced (last writer wins per field), so a feed made on a laptop answers on the hub. Writes run
inside the caller's transaction.
"""

from __future__ import annotations

from typing import Any

from app import store
from app.store.connection import Connection


def _rows(db: Connection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = db.execute(sql, params)
    names = [column[0] for column in cursor.description]
    found = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in found:
        row.pop("field_clocks", None)
    return found


def insert(db: Connection, feed: dict[str, Any]) -> None:
    store.upsert_local(db, "calendar_feed", feed["id"], feed, new=True)


def update(db: Connection, feed_id: str, changes: dict[str, Any]) -> None:
    store.upsert_local(db, "calendar_feed", feed_id, changes)


def get(db: Connection, feed_id: str) -> dict[str, Any] | None:
    rows = _rows(db, "SELECT * FROM calendar_feeds WHERE id = ?", [feed_id])
    return rows[0] if rows else None


def by_token_hash(db: Connection, token_hash: str) -> dict[str, Any] | None:
    rows = _rows(db, "SELECT * FROM calendar_feeds WHERE token_hash = ?", [token_hash])
    return rows[0] if rows else None


def every(db: Connection) -> list[dict[str, Any]]:
    return _rows(db, "SELECT * FROM calendar_feeds ORDER BY id", [])


def booking_versions(db: Connection, booking_ids: list[str]) -> dict[str, int]:
    """How many applied events beyond `created` each booking has: its iCalendar SEQUENCE,
    the same on every replica (the same events apply everywhere)."""
    found: dict[str, int] = {}
    for start in range(0, len(booking_ids), 500):
        chunk = booking_ids[start : start + 500]
        rows = db.execute(
            "SELECT booking_id, COUNT(*) - 1 FROM booking_events WHERE applied = 1 "
            f"AND booking_id IN ({', '.join('?' * len(chunk))}) GROUP BY booking_id",
            chunk,
        ).fetchall()
        found.update(dict(rows))
    return found
