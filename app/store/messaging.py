"""The shop's messaging configuration: its settings row and its rewritten templates.

Both are synced records (last writer wins per field, app.store.LWW_TABLES), so every laptop
and the hub decide and word messages alike. Writes run inside the caller's transaction.
"""

from __future__ import annotations

from typing import Any

from app import store
from app.core import json_codec
from app.store.connection import Connection

SETTINGS_ID = "shop"
SETTINGS_JSON = ("channels", "kinds", "reminder_minutes")


def _rows(db: Connection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = db.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def settings_row(db: Connection) -> dict[str, Any] | None:
    """The shop's messaging settings as stored, or None before anyone set them."""
    rows = _rows(db, "SELECT * FROM messaging_settings WHERE id = ?", [SETTINGS_ID])
    if not rows:
        return None
    row = rows[0]
    for column in SETTINGS_JSON:
        row[column] = json_codec.loads(row[column])
    return row


def write_settings(db: Connection, changes: dict[str, Any], *, new: bool) -> None:
    store.upsert_local(db, "messaging_settings", SETTINGS_ID, changes, new=new)


def template_id(kind: str, channel: str) -> str:
    """One id per (kind, channel) on every node, so two laptops' edits merge field by field."""
    return f"{kind}.{channel}"


def templates(db: Connection) -> dict[str, dict[str, Any]]:
    """Every stored template by id; a blank body means the built-in text."""
    rows = _rows(db, "SELECT * FROM message_templates ORDER BY id", [])
    return {row["id"]: row for row in rows}


def write_template(db: Connection, kind: str, channel: str, changes: dict[str, Any]) -> None:
    record_id = template_id(kind, channel)
    new = not templates(db).get(record_id)
    values = {"kind": kind, "channel": channel, **changes} if new else changes
    store.upsert_local(db, "message_template", record_id, values, new=new)
