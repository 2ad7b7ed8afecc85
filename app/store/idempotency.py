"""Responses kept by Idempotency-Key, so a retried request is answered, not redone.

Node-local: never synced.
"""

from __future__ import annotations

from typing import Any

from app.store.connection import Connection


def get_idempotent(db: Connection, api_key_id: str, key: str, since: int) -> dict | None:
    """The response stored for this key since `since`: fingerprint, status and body."""
    rows = db.query(
        "SELECT fingerprint, status, body FROM idempotency_keys "
        "WHERE api_key_id = ? AND key = ? AND created_at >= ?",
        [api_key_id, key, since],
    )
    return rows[0] if rows else None


def save_idempotent(db: Connection, record: dict[str, Any], expired_before: int) -> None:
    """Remember a response for its Idempotency-Key, replacing an expired one."""
    with db.transaction():
        db.execute("DELETE FROM idempotency_keys WHERE created_at < ?", [expired_before])
        db.execute(
            "INSERT INTO idempotency_keys "
            "(api_key_id, key, fingerprint, status, body, created_at) "
            "VALUES (:api_key_id, :key, :fingerprint, :status, :body, :created_at) "
            "ON CONFLICT (api_key_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, "
            "status = excluded.status, body = excluded.body, created_at = excluded.created_at",
            record,
        )
