"""Replication state: node identity and secrets (node_meta), sync state, peers, sync keys.

node_meta holds this database's node id, clock, epoch and secrets; sync_state a node's cursor
and marks; sync_peers what the hub acknowledged of each node; api_keys' binding columns and
sync_key_moves which node each sync key serves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from app.store.connection import Connection
from app.store.keys import forget_keys
from app.store.rows import require_transaction

# --- node_meta: identity, clock and secrets -----------------------------------------------------


def meta(db: Connection, key: str) -> str | None:
    """A node_meta value (node_id, hlc, epoch, secrets, lineage, ...), or None."""
    return db.scalar("SELECT value FROM node_meta WHERE key = ?", [key])


def set_meta(db: Connection, key: str, value: str) -> None:
    """Write a node_meta value in the caller's transaction."""
    require_transaction(db)
    db.execute(
        "INSERT INTO node_meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


def node_id(db: Connection) -> str:
    """This database's node id, read once per connection.

    It changes only when a copy takes an identity of its own (sync.identity.fork), which also
    moves the stored clock: every other connection's compare-and-set in changelog.next_hlc then
    misses, and it reads the node id again before it stamps anything.
    """
    remembered = db.remembered_node_id
    if remembered is None:
        remembered = meta(db, "node_id")
        assert remembered, "the database has no node_id; run store.init_database() first"
        db.remembered_node_id = remembered
    return remembered


def former_node_ids(db: Connection) -> list[str]:
    """The node ids this database had before it was restored or copied, oldest first."""
    return json.loads(meta(db, "former_node_ids") or "[]")


def epoch_and_former_node_ids(db: Connection) -> tuple[str, list[str]]:
    """The hub's epoch and former_node_ids() in one read: every push and pull answers both."""
    values = dict(
        db.execute(
            "SELECT key, value FROM node_meta WHERE key IN ('epoch', 'former_node_ids')"
        ).fetchall()
    )
    assert values.get("epoch"), "database not migrated"
    return values["epoch"], json.loads(values.get("former_node_ids") or "[]")


def organization_id(db: Connection) -> str:
    """This database's ShingleAI organization id (a UUID made once by init_database())."""
    value = meta(db, "organization_id")
    assert value, "database not migrated"
    return value


def mark_as_backup(db: Connection) -> None:
    """Flag a fresh backup copy, so that when it is restored it takes a new identity."""
    with db.transaction():
        set_meta(db, "restored_from_backup", "1")


# --- sync state (node-local) ----------------------------------------------------------------------


def sync_state(db: Connection) -> dict[str, str | None]:
    """The node's sync bookkeeping: cursor, acked/claimed marks, backoff, last error, ..."""
    return dict(db.execute("SELECT key, value FROM sync_state").fetchall())


def set_sync_state(db: Connection, **values: str | int | None) -> None:
    """Write sync-state keys in the caller's transaction (or in their own one)."""
    rows = [(key, None if value is None else str(value)) for key, value in values.items()]
    with db.transaction():
        db.executemany(
            "INSERT INTO sync_state (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            rows,
        )


# --- the hub's peers and sync keys ----------------------------------------------------------------


def origin_lock(node: str) -> str:
    """The lock (Connection.lock) held by whoever stores changes of origin `node`: the node
    itself appending its own, a hub applying that node's push."""
    return f"origin:{node}"


def hold_push(db: Connection, key_id: str, origins: Iterable[str]) -> None:
    """Hold the sync key and the origins of a push until the transaction ends.

    Two hub processes may get the same push at once (a laptop's retry after a lost answer
    lands on the other process): the second waits here, then finds the first's changes held
    and its acknowledgement moved on, so it applies nothing twice. Holding the key keeps two
    copies of a laptop from both binding it. One call, so every push takes its locks in the
    same (sorted) order.
    """
    db.lock(f"sync_key:{key_id}", *(origin_lock(node) for node in origins))


def peer_acked(db: Connection, node: str) -> int:
    """The highest origin_seq of `node` the hub has acknowledged (0 before any)."""
    acked = db.scalar("SELECT acked_through FROM sync_peers WHERE node_id = ?", [node])
    return acked or 0


def set_peer_acked(db: Connection, node: str, acked: int) -> None:
    require_transaction(db)
    db.execute(
        "INSERT INTO sync_peers (node_id, acked_through) VALUES (?, ?) "
        "ON CONFLICT (node_id) DO UPDATE SET acked_through = excluded.acked_through",
        [node, acked],
    )


def sync_key_binding(db: Connection, key_id: str) -> tuple[str | None, str | None, int | None]:
    """The node a sync key is bound to, its lineage hash, and when that node last pushed new
    changes with it; read now, not from the cache."""
    row = db.one("SELECT node_id, lineage_hash, pushed_at FROM api_keys WHERE id = ?", [key_id])
    return (row[0], row[1], row[2]) if row else (None, None, None)


def note_sync_key_push(db: Connection, key_id: str, at_ms: int) -> None:
    require_transaction(db)
    forget_keys(db)
    db.execute("UPDATE api_keys SET pushed_at = ? WHERE id = ?", [at_ms, key_id])


def bind_sync_key(db: Connection, key_id: str, node: str, lineage_hash: str | None) -> None:
    """Bind the key to `node` (its first node, or a successor it moves to)."""
    require_transaction(db)
    forget_keys(db)
    db.execute(
        "UPDATE api_keys SET node_id = ?, lineage_hash = COALESCE(lineage_hash, ?) WHERE id = ?",
        [node, lineage_hash, key_id],
    )


def record_sync_key_move(db: Connection, key_id: str, old: str, new: str, at_ms: int) -> None:
    require_transaction(db)
    db.execute(
        "INSERT INTO sync_key_moves (key_id, node_id, moved_to, moved_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (key_id, node_id) DO UPDATE "
        "SET moved_to = excluded.moved_to, moved_at = excluded.moved_at",
        [key_id, old, new, at_ms],
    )


def sync_key_moves(db: Connection, key_id: str) -> dict[str, tuple[str, int]]:
    """The nodes this key moved away from: node id -> (the node it moved to, when)."""
    rows = db.execute(
        "SELECT node_id, moved_to, moved_at FROM sync_key_moves WHERE key_id = ?", [key_id]
    ).fetchall()
    return {node: (moved_to, at) for node, moved_to, at in rows}
