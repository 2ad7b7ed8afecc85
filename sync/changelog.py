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

ENTITIES = ("customer", "resource", "booking_event", "blocker", "booking", "anomaly")
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


# --- exchanging changes (SYNC.md §3, §4) -------------------------------------------------------

_WIRE_COLUMNS = "seq, origin_node, origin_seq, hlc, entity, entity_id, op, payload, clock_suspect"


def to_wire(row: tuple) -> dict[str, Any]:
    """A change_log row as it travels in push and pull."""
    _seq, node, origin_seq, hlc, entity, entity_id, op, payload, suspect = row
    return {
        "change_id": f"{node}:{origin_seq}",
        "origin_node": node,
        "origin_seq": origin_seq,
        "hlc": hlc,
        "entity": entity,
        "entity_id": entity_id,
        "op": op,
        "payload": json.loads(payload),
        "clock_suspect": bool(suspect),
    }


def own_pending(db: Database, after_seq: int, limit: int) -> list[dict[str, Any]]:
    """This node's own changes with origin_seq above `after_seq`, oldest first."""
    return held_from(db, local_node(db), after_seq, limit)


def held_from(db: Database, origin: str, after_seq: int, limit: int) -> list[dict[str, Any]]:
    """The changes held from `origin` with origin_seq above `after_seq`, oldest first."""
    rows = db.conn.execute(
        f"SELECT {_WIRE_COLUMNS} FROM change_log WHERE origin_node = ? AND origin_seq > ? "
        "ORDER BY origin_seq LIMIT ?",
        [origin, after_seq, limit],
    ).fetchall()
    return [to_wire(row) for row in rows]


def count_own_after(db: Database, after_seq: int) -> int:
    return db.conn.execute(
        "SELECT COUNT(*) FROM change_log WHERE origin_node = ? AND origin_seq > ?",
        [local_node(db), after_seq],
    ).fetchone()[0]


def since(db: Database, seq: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
    """Changes in local arrival order after `seq` (the hub's pull order): (seq, change) pairs."""
    rows = db.conn.execute(
        f"SELECT {_WIRE_COLUMNS} FROM change_log WHERE seq > ? ORDER BY seq LIMIT ?",
        [seq, limit],
    ).fetchall()
    return [(row[0], to_wire(row)) for row in rows]


def max_seq(db: Database) -> int:
    return db.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM change_log").fetchone()[0]


def held(db: Database, origin_node: str, origin_seq: int) -> bool:
    row = db.conn.execute(
        "SELECT 1 FROM change_log WHERE origin_node = ? AND origin_seq = ?",
        [origin_node, origin_seq],
    ).fetchone()
    return row is not None


def store_remote(db: Database, change: dict[str, Any], suspect: bool) -> None:
    """Keep a change that another node made, exactly as it was made."""
    assert db.conn.in_transaction
    db.conn.execute(
        "INSERT INTO change_log (origin_node, origin_seq, hlc, entity, entity_id, op, payload, "
        "clock_suspect) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            change["origin_node"], change["origin_seq"], change["hlc"], change["entity"],
            change["entity_id"], change["op"],
            json.dumps(change["payload"], separators=(",", ":"), sort_keys=True), int(suspect),
        ],
    )  # fmt: skip


def flag_suspect(db: Database, origin_node: str, origin_seq: int) -> None:
    db.conn.execute(
        "UPDATE change_log SET clock_suspect = 1 WHERE origin_node = ? AND origin_seq = ?",
        [origin_node, origin_seq],
    )


def observe(db: Database, remote_hlc: str, now_ms: int | None = None) -> None:
    """Move our clock past a remote stamp (unless it is suspect), in the caller's transaction."""
    moved = clock.receive(
        _meta(db, "hlc"), remote_hlc, local_node(db), wall_ms() if now_ms is None else now_ms
    )
    if moved is not None:
        _set_meta(db, "hlc", moved)


def suspect_changes(db: Database) -> list[dict[str, Any]]:
    rows = db.conn.execute(
        f"SELECT {_WIRE_COLUMNS} FROM change_log WHERE clock_suspect = 1 ORDER BY hlc"
    ).fetchall()
    return [to_wire(row) for row in rows]
