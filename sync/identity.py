"""Which writer this database is: telling a copy apart from the original (SYNC.md §3a).

A change id is (node id, origin sequence). Two files that share a node id and both write would
hand out the same ids for different changes, and the hub would take the second as a retry of
the first: silent loss. So a database that finds it is a copy takes a new node id before it
writes, and records where it came from (its lineage). Copies are found in three ways:

- at open, the file is not where this node id was born: its device and inode (its *seat*)
  differ, as they do for a file copied to another laptop, a copy taken with its WAL, a backup
  tool's restore, a copy of a copy;
- at open, the file carries the mark `booking backup` leaves on every backup it writes;
- at open, the file beside it (`<database>-node`, written at every start) names another node
  id: an older copy was put back over the file, which keeps its inode (a restore, or a
  backup restored twice);
- on contact with the hub, for a copy nothing local can see (a file copied back over the
  original's inode, a new file that was handed the deleted original's inode number, a cloned
  disk): the hub holds changes of this node id that this file does not (a restore), or holds
  one of its change ids with other content (two live copies).

Whatever a copy wrote under the old id that the hub does not hold as such is re-issued under
the new one: same time and counter in its stamp, the new node id, the next sequence numbers.

The lineage token is a secret made with the database and copied with it: presenting it shows
the hub that a node descends from the one a sync key was bound to, so the key keeps working
for a restored laptop (sync.service.claim_key).
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from app import store
from app.core import clock
from app.core.ids import new_node_id
from app.core.times import format_instant, wall_ms
from app.store import Connection, changelog
from sync import merge

log = logging.getLogger(__name__)

# Why a database took a new identity, as `GET /sync/status` says it.
RESTORED = "restored from a backup made by `booking backup`"
COPIED = "opened as a copy of another database file (a restore, or a second laptop)"
PUT_BACK = "put back over its own file from an older copy (the node id beside it differs)"
BEHIND = "restored from an older copy: the hub holds changes this node made after it"
REUSED = "found to be a copy of another database: the hub holds some of its change ids otherwise"


def seat_of(db: Connection) -> str | None:
    """Where the database lives (a file's device:inode; a server's cluster and database)."""
    return db.seat()


def _main_file(db: Connection) -> str:
    return db.file_path()


def init_database(path: str) -> str:
    """Create or migrate the database at `path`, settle which replica it is; its node id.

    Everything that opens a database for use (`booking init`, `booking serve`, the app factory)
    comes through here, so a restored or copied file is noticed before it writes anything.
    """
    node = store.init_database(path, settle=settle_at_open)
    db = store.open_db(path)
    try:
        note_beside(db)
    finally:
        db.close()
    return node


def settle_at_open(db: Connection) -> None:
    """Run by store.migrate() in its transaction: keep this identity or take a new one.

    A database without a seat is new, or older than seats: it is the original, and takes
    this one as its seat.
    """
    token = store.meta(db, "lineage_token")
    if token is None:
        store.set_meta(db, "lineage_token", secrets.token_hex(32))
    here, recorded = seat_of(db), store.meta(db, "seat")
    beside = _read_beside(db)
    if store.meta(db, "restored_from_backup"):
        db.execute("DELETE FROM node_meta WHERE key = 'restored_from_backup'")
        fork(db, RESTORED)
    elif recorded is not None and here is not None and recorded != here:
        fork(db, COPIED)
    elif recorded is not None and beside is not None and beside != store.meta(db, "node_id"):
        fork(db, PUT_BACK)
    elif recorded is None and here is not None:
        store.set_meta(db, "seat", here)


def _beside_path(db: Connection) -> str | None:
    path = _main_file(db)
    return f"{path}-node" if path else None


def _read_beside(db: Connection) -> str | None:
    path = _beside_path(db)
    try:
        with open(path or "", encoding="utf-8") as file:
            return file.read().strip() or None
    except OSError:
        return None


def note_beside(db: Connection) -> None:
    """Write this node id into the file beside the database, after the id is committed.

    Best effort: a read-only folder only loses this one way of telling copies apart.
    """
    path = _beside_path(db)
    node = store.meta(db, "node_id")
    if path is None or node is None or _read_beside(db) == node:
        return
    try:
        with open(path, "w", encoding="utf-8") as file:
            file.write(node + "\n")
    except OSError as error:
        log.warning("Cannot write %s (%s); copies are then told apart by the hub.", path, error)


def fork(
    db: Connection, reason: str, *, shared_through: int | None = None, pull_again: bool = False
) -> str:
    """Take a new node id; re-issue our changes after `shared_through` under it. In the
    caller's transaction. Returns the new id.

    `shared_through` is the last origin sequence this copy shares with the original. By
    default it is what the hub confirmed (`acked_through`): a change written after that may
    never reach the hub under the old id (the original died, or was itself put back and
    wrote another change under that id), so the copy re-issues it. If the original pushes it
    too, the same write arrives twice under two stamps, which the merge rules settle alike
    everywhere (SYNC.md §3a). `pull_again` restarts the pull from the beginning: a copy that
    lost a race for its old id has skipped the winner's changes as its own, and must now
    take them.
    """
    assert db.in_transaction, "identity.fork() must run inside a transaction"
    old = store.meta(db, "node_id")
    assert old, "the database has no node_id yet"
    own_max = changelog.own_max_seq(db, old)
    if shared_through is None:
        shared_through = int(store.sync_state(db).get("acked_through") or 0)
    through = min(shared_through, own_max)
    new = new_node_id()
    reissued = _reissue(db, old, new, through)
    now = wall_ms()
    lineage = [*ancestry(db), {"node_id": old, "through": through, "at": now}]
    for key, value in (
        ("node_id", new),
        ("epoch", new_node_id()),  # as a hub, a copy is a restore: nodes re-send (SYNC.md §3)
        ("lineage", json.dumps(lineage)),
        ("former_node_ids", json.dumps([entry["node_id"] for entry in lineage])),
        ("forked_from", old),
        ("forked_at", str(now)),
        ("fork_reason", reason),
        # A new stamp under the new id: every connection's remembered stamp is now stale, so
        # its next write reads the node id again (changelog.next_hlc).
        ("hlc", clock.tick(store.meta(db, "hlc"), new, now)),
    ):
        store.set_meta(db, key, value)
    seat = seat_of(db)
    if seat is not None:
        store.set_meta(db, "seat", seat)
    state: dict[str, Any] = {"acked_through": 0, "claimed_as": None}
    if pull_again:
        state["pull_cursor"] = None
    store.set_sync_state(db, **state)
    changelog.forget_identity(db)
    log.warning(
        "This database was %s. It was node %s and is node %s from now on; %d of its changes "
        "were re-issued under the new id, and its sync key follows it.",
        reason,
        old,
        new,
        reissued,
    )
    return new


def ancestry(db: Connection) -> list[dict[str, Any]]:
    """The node ids this database had before, oldest first, each with the last sequence
    of its own it shares with that node."""
    return json.loads(store.meta(db, "lineage") or "[]")


def lineage_token(db: Connection) -> str:
    token = store.meta(db, "lineage_token")
    assert token, "the database has no lineage token; run storage.migrate() first"
    return token


def describe(db: Connection) -> dict[str, Any] | None:
    """When and why this database took its identity, for status views; None if it never forked."""
    forked_from = store.meta(db, "forked_from")
    if forked_from is None:
        return None
    return {
        "forked_from": forked_from,
        "forked_at": format_instant(int(store.meta(db, "forked_at") or 0)),
        "reason": store.meta(db, "fork_reason"),
        "former_node_ids": [entry["node_id"] for entry in ancestry(db)],
    }


# --- re-issuing changes under a new node id ---------------------------------------------------


def _reissue(db: Connection, old: str, new: str, through: int) -> int:
    """Move our changes after `through` from the old node id to the new one, with the stamps
    of the records they set. Returns how many moved."""
    rows = db.execute(
        "SELECT seq, hlc, entity, entity_id, op, payload FROM change_log "
        "WHERE origin_node = ? AND origin_seq > ? ORDER BY origin_seq",
        [old, through],
    ).fetchall()
    next_seq = 0  # the new node id is fresh: nothing stands under it yet
    bookings: set[str] = set()
    for seq, stamp, entity, entity_id, op, payload in rows:
        next_seq += 1
        old_stamp = clock.Hlc.decode(stamp)
        new_stamp = clock.Hlc(old_stamp.millis, old_stamp.counter, new).encode()
        body = json.loads(payload)
        _restamp_record(db, entity, entity_id, op, stamp, new_stamp, new)
        if entity == "booking_event":
            body["node_id"] = new
            bookings.add(body["booking_id"])
        db.execute(
            "UPDATE change_log SET origin_node = ?, origin_seq = ?, hlc = ?, payload = ? "
            "WHERE seq = ?",
            [new, next_seq, new_stamp, changelog.canonical(body), seq],
        )
    if bookings:
        for booking_id in sorted(bookings):
            merge.rematerialize(db, booking_id)
    return len(rows)


def _restamp_record(
    db: Connection, entity: str, entity_id: str, op: str, old: str, new: str, node: str
) -> None:
    """Where the record keeps the stamp of this change, put the new stamp (and node id)."""
    if op == "delete":
        db.execute(
            "UPDATE tombstones SET hlc = ? WHERE entity = ? AND entity_id = ? AND hlc = ?",
            [new, entity, entity_id, old],
        )
    elif entity in store.LWW_TABLES:
        table = store.LWW_TABLES[entity][0]
        db.execute(
            f"UPDATE {table} SET field_clocks = replace(field_clocks, ?, ?) WHERE id = ?",
            [json.dumps(old), json.dumps(new), entity_id],
        )
    elif entity == "booking_event":
        db.execute(
            "UPDATE booking_events SET hlc = ?, node_id = ? WHERE id = ?", [new, node, entity_id]
        )
    elif entity == "anomaly":
        db.execute("UPDATE anomalies SET hlc = ? WHERE id = ? AND hlc = ?", [new, entity_id, old])
