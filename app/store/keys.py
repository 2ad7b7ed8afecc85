"""API keys, their token balances, and browser sessions (node-local: never synced).

Every request reads its key, so a connection keeps the keys it has read. The cache empties
whenever another connection has committed (Connection.data_version) and whenever this
connection writes a key, so a revoked key is refused from the next request on and a token
balance is never read stale.
"""

from __future__ import annotations

import json
from typing import Any

from app.store.connection import Connection
from app.store.rows import dumps, require_transaction


def _key_cache(db: Connection) -> dict[str, dict[str, Any]]:
    version = db.data_version()
    cached = db.remembered_keys
    if cached is None or cached[0] != version:
        cached = db.remembered_keys = (version, {})
    return cached[1]


def forget_keys(db: Connection) -> None:
    """Drop the keys this connection remembers (before it writes one)."""
    db.remembered_keys = None


def insert_api_key(db: Connection, key: dict[str, Any]) -> None:
    require_transaction(db)
    forget_keys(db)
    db.execute(
        "INSERT INTO api_keys (id, name, secret_hash, scopes, rate_limit, tokens_remaining, "
        "created_at) VALUES (:id, :name, :secret_hash, :scopes, :rate_limit, "
        ":tokens_remaining, :created_at)",
        {**key, "scopes": dumps(key["scopes"])},
    )


def _key_record(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "scopes": json.loads(row["scopes"])}


def get_api_key(db: Connection, key_id: str) -> dict[str, Any] | None:
    """The key's record (a copy the caller may change), or None for an unknown id."""
    cache = _key_cache(db)
    record = cache.get(key_id)
    if record is None:
        rows = db.query("SELECT * FROM api_keys WHERE id = ?", [key_id])
        if not rows:
            return None  # not cached: unknown ids cost a query, never memory
        record = cache[key_id] = _key_record(rows[0])
    return dict(record)


def list_api_keys(db: Connection) -> list[dict[str, Any]]:
    return [_key_record(row) for row in db.query("SELECT * FROM api_keys ORDER BY id")]


def count_api_keys(db: Connection) -> int:
    return db.scalar("SELECT COUNT(*) FROM api_keys")


def revoke_api_key(db: Connection, key_id: str, now_ms: int) -> bool:
    """Revoke the key; False when it is unknown or already revoked."""
    require_transaction(db)
    forget_keys(db)
    cursor = db.execute(
        "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [now_ms, key_id]
    )
    return cursor.rowcount == 1


def spend_token(db: Connection, key_id: str) -> int | None:
    """Take one token from a limited key; the balance left, or None when it was already 0."""
    forget_keys(db)
    with db.transaction():
        row = db.one(
            "UPDATE api_keys SET tokens_remaining = tokens_remaining - 1 "
            "WHERE id = ? AND tokens_remaining > 0 RETURNING tokens_remaining",
            [key_id],
        )
    return None if row is None else row[0]


# --- browser sessions ---------------------------------------------------------------------------


def insert_ui_session(db: Connection, id_hash: str, key_id: str, now_ms: int, expired: int) -> None:
    """Record a sign-in; drop sessions made before `expired` (browsers that never signed out)."""
    require_transaction(db)
    db.execute("DELETE FROM ui_sessions WHERE created_at < ?", [expired])
    db.execute(
        "INSERT INTO ui_sessions (id_hash, key_id, created_at) VALUES (?, ?, ?)",
        [id_hash, key_id, now_ms],
    )


def ui_session_key(db: Connection, id_hash: str, expired: int) -> str | None:
    """The key id a live session signed in with, or None (signed out, expired or unknown)."""
    return db.scalar(
        "SELECT key_id FROM ui_sessions WHERE id_hash = ? AND created_at >= ?", [id_hash, expired]
    )


def delete_ui_session(db: Connection, id_hash: str) -> None:
    require_transaction(db)
    db.execute("DELETE FROM ui_sessions WHERE id_hash = ?", [id_hash])
