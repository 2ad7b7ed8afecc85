"""The change log: one row per changed entity, written in the same transaction as the change.

`append` is the only writer of local changes, and app.storage's write functions are its only
callers, so a write cannot forget its change row without writing SQL outside storage.py.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from app.times import wall_ms
from sync import clock

ENTITIES = ("customer", "resource", "booking_event", "blocker", "booking")
OPS = ("upsert", "delete", "event")


def _meta(db: Database, key: str) -> str | None:
    row = db.conn.execute("SELECT value FROM node_meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def _set_meta(db: Database, key: str, value: str) -> None:
    db.conn.execute(
        "INSERT INTO node_meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


def local_node(db: Database) -> str:
    """This database's node id, read once per connection (it never changes)."""
    cached = getattr(db, "booking_node_id", None)
    if cached is None:
        cached = _meta(db, "node_id")
        assert cached, "the database has no node_id; run storage.migrate() first"
        db.booking_node_id = cached  # type: ignore[attr-defined]
    return cached


def next_hlc(db: Database, now_ms: int | None = None) -> str:
    """A new stamp from this node's clock, persisted in the caller's transaction."""
    assert db.conn.in_transaction, "next_hlc() must run inside storage.transaction()"
    node_id = local_node(db)
    stamp = clock.tick(_meta(db, "hlc"), node_id, wall_ms() if now_ms is None else now_ms)
    _set_meta(db, "hlc", stamp)
    return stamp


def append(
    db: Database,
    entity: str,
    entity_id: str,
    op: str,
    payload: dict[str, Any],
    *,
    hlc: str | None = None,
) -> dict[str, Any]:
    """Record one local change with the next gapless origin_seq. Call inside a transaction.

    Returns the change as it travels in push and pull.
    """
    assert db.conn.in_transaction, "changelog.append() must run inside storage.transaction()"
    assert entity in ENTITIES and op in OPS, (entity, op)
    node_id = local_node(db)
    stamp = hlc or next_hlc(db)
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    # BEGIN IMMEDIATE holds the write lock, so MAX()+1 cannot race and leaves no gaps.
    (origin_seq,) = db.conn.execute(
        "INSERT INTO change_log (origin_node, origin_seq, hlc, entity, entity_id, op, payload) "
        "SELECT :node, COALESCE(MAX(origin_seq), 0) + 1, :hlc, :entity, :entity_id, :op, :body "
        "FROM change_log WHERE origin_node = :node RETURNING origin_seq",
        {
            "node": node_id,
            "hlc": stamp,
            "entity": entity,
            "entity_id": entity_id,
            "op": op,
            "body": body,
        },
    ).fetchone()
    return {
        "change_id": f"{node_id}:{origin_seq}",
        "origin_node": node_id,
        "origin_seq": origin_seq,
        "hlc": stamp,
        "entity": entity,
        "entity_id": entity_id,
        "op": op,
        "payload": payload,
    }


def count(db: Database) -> int:
    return db.conn.execute("SELECT COUNT(*) FROM change_log").fetchone()[0]
