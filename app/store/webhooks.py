"""Webhook subscriptions, and the sender's count of failed deliveries in a row.

Subscriptions are synced (last writer wins per field); the count is the sending node's own.
Writes run inside the caller's transaction.
"""

from __future__ import annotations

from typing import Any

from app import store
from app.core import json_codec
from app.store.connection import Connection


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    row["events"] = json_codec.loads(row["events"])
    row["enabled"] = bool(row["enabled"])
    row.pop("field_clocks", None)
    return row


def _rows(db: Connection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = db.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [_decode(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


def insert(db: Connection, subscription: dict[str, Any]) -> None:
    store.upsert_local(db, "webhook", subscription["id"], subscription, new=True)


def update(db: Connection, subscription_id: str, changes: dict[str, Any]) -> None:
    store.upsert_local(db, "webhook", subscription_id, changes)


def delete(db: Connection, subscription_id: str) -> None:
    store.delete_local(db, "webhook", subscription_id)


def get(db: Connection, subscription_id: str) -> dict[str, Any] | None:
    rows = _rows(db, "SELECT * FROM webhook_subscriptions WHERE id = ?", [subscription_id])
    return rows[0] if rows else None


def every(db: Connection) -> list[dict[str, Any]]:
    """All subscriptions in creation order (a shop has a handful)."""
    return _rows(db, "SELECT * FROM webhook_subscriptions ORDER BY id", [])


def failures_in_a_row(db: Connection, subscription_id: str) -> int:
    row = db.execute(
        "SELECT failures_in_a_row FROM webhook_health WHERE subscription_id = ?",
        [subscription_id],
    ).fetchone()
    return row[0] if row else 0


def set_failures_in_a_row(db: Connection, subscription_id: str, count: int) -> None:
    assert db.in_transaction
    db.execute(
        "INSERT INTO webhook_health (subscription_id, failures_in_a_row) VALUES (?, ?) "
        "ON CONFLICT (subscription_id) "
        "DO UPDATE SET failures_in_a_row = excluded.failures_in_a_row",
        [subscription_id, count],
    )
