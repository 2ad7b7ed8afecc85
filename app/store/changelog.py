"""The change log and this node's clock: one row per change, in the same transaction as it.

`append` is the only writer of local changes, and the store's write functions are its only
callers, so a write cannot forget its change row without writing SQL outside app/store.
The SQLite backend's write lock makes origin_seq gapless (MAX()+1 in the insert) and the seq
order the commit order; a backend with concurrent writers must keep both promises its own way
(see HUB.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from app.core import clock, json_codec
from app.core.times import wall_ms
from app.store.connection import Connection, Dialect
from app.store.replication import meta, node_id, origin_lock

# A change stored by the hub or another node is re-encoded from its parsed payload: the
# canonical form makes that the very text its origin stored.
canonical = json_codec.dumps

ENTITIES = (
    "customer", "resource", "booking_event", "blocker", "booking", "anomaly", "service",
    # issue #18: the outbox and the shop's messaging configuration
    "message", "message_template", "messaging_settings", "webhook", "calendar_feed",
)  # fmt: skip
OPS = ("upsert", "delete", "event")


def next_hlc(db: Connection, now_ms: int | None = None) -> str:
    """A new stamp from this node's clock, persisted in the caller's transaction.

    The connection remembers the last stamp it stored and ticks from it with a compare-and-set,
    which holds only if no other connection (or a rolled-back transaction) moved the clock
    since; otherwise the stored clock is read. Every write saves a statement this way.
    """
    assert db.in_transaction, "next_hlc() must run inside store.transaction()"
    now = wall_ms() if now_ms is None else now_ms
    seen = db.seen_hlc  # stamps this transaction saw, not yet in the stored clock
    remembered = db.last_hlc
    if remembered is not None:
        stamp = clock.tick(_later(remembered, seen), node_id(db), now)
        if _clock_moved(db, remembered, stamp):
            db.last_hlc = stamp
            return stamp
    forget_identity(db)  # the clock moved under us, maybe by a fork: read the node id again
    stamp = _move_clock(db, lambda last: clock.tick(_later(last, seen), node_id(db), now))
    assert stamp is not None  # a tick always moves the clock
    db.last_hlc = stamp
    return stamp


def _later(stamp: str | None, other: str | None) -> str | None:
    """The later of two stamps (either may be None), as clock.tick reads them."""
    if stamp is None or other is None:
        return stamp or other
    return max(stamp, other)  # HLC strings sort in HLC order


def _clock_moved(db: Connection, expected: str, stamp: str) -> bool:
    """Store `stamp` as the clock if it still reads `expected` (a compare-and-set)."""
    moved = db.execute(
        "UPDATE node_meta SET value = ? WHERE key = 'hlc' AND value = ?", [stamp, expected]
    )
    return moved.rowcount == 1


def _move_clock(db: Connection, step: Callable[[str | None], str | None]) -> str | None:
    """Store `step(current clock)` as the clock; None (and nothing stored) when it gives None.

    Hub processes share one clock row: a plain read-then-write would let two of them read the
    same stamp and both write, one clock going back, two changes sharing a stamp. So the write
    is a compare-and-set, tried again from the clock as it is now when another transaction
    moved it first (PostgreSQL's UPDATE waits for that one to commit, then finds the new value).
    """
    while True:
        current = meta(db, "hlc")
        stamp = step(current)
        if stamp is None:
            return None
        if current is None:  # a new database's first stamp, which another may store first
            first = db.execute(
                db.dialect.insert_ignoring("node_meta", ("key", "value")),
                {"key": "hlc", "value": stamp},
            )
            if first.rowcount == 1:
                return stamp
        elif _clock_moved(db, current, stamp):
            return stamp


def forget_identity(db: Connection) -> None:
    """Drop this connection's memory of the node id and clock (after a fork)."""
    db.remembered_node_id = db.last_hlc = None


def stamp_past(db: Connection, current: str | None, now_ms: int | None = None) -> str:
    """A stamp for a local edit of a value stamped `current`: the next one from our clock, or
    just past `current` when that is ahead of it (a value from a fast-clocked laptop). An edit
    made after seeing a value sorts after it (SYNC.md §1), yet our clock stays where it is, so
    one wrong clock does not drag every later write of ours into the future."""
    stamp = next_hlc(db, now_ms)
    if current is not None and current >= stamp:
        return clock.tick(current, node_id(db), 0)
    return stamp


def append(
    db: Connection,
    entity: str,
    entity_id: str,
    op: str,
    payload: dict[str, Any],
    *,
    hlc: str | None = None,
) -> None:
    """Record one local change with the next gapless origin_seq. Call inside a transaction."""
    assert db.in_transaction, "changelog.append() must run inside store.transaction()"
    assert entity in ENTITIES and op in OPS, (entity, op)
    stamp = hlc or next_hlc(db)  # first: it reads the node id again if a fork moved it
    node = node_id(db)
    # Appends of one node queue (SQLite's write lock, or the dialect's lock until commit), so
    # MAX()+1 cannot race and leaves no gaps. No RETURNING: SQLite buffers its rows in a
    # temporary table, and no caller needs them.
    db.lock(origin_lock(node))
    db.execute(
        "INSERT INTO change_log (origin_node, origin_seq, hlc, entity, entity_id, op, payload) "
        "SELECT :node, COALESCE(MAX(origin_seq), 0) + 1, :hlc, :entity, :entity_id, :op, :body "
        "FROM change_log WHERE origin_node = :node",
        {
            "node": node,
            "hlc": stamp,
            "entity": entity,
            "entity_id": entity_id,
            "op": op,
            "body": canonical(payload),
        },
    )


def count(db: Connection) -> int:
    return db.execute("SELECT COUNT(*) FROM change_log").fetchone()[0]


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


_quote = json.encoder.encode_basestring_ascii  # a JSON string literal (C speed)


def wire_text(row: tuple) -> str:
    """to_wire(row) as JSON text: the stored payload, already JSON, goes in as it is."""
    _seq, node, origin_seq, hlc, entity, entity_id, op, payload, suspect = row
    return (
        f'{{"change_id":{_quote(f"{node}:{origin_seq}")},"origin_node":{_quote(node)},'
        f'"origin_seq":{int(origin_seq)},"hlc":{_quote(hlc)},"entity":{_quote(entity)},'
        f'"entity_id":{_quote(entity_id)},"op":{_quote(op)},"payload":{payload},'
        f'"clock_suspect":{"true" if suspect else "false"}}}'
    )


def held_from_text(
    db: Connection, origin: str, after_seq: int, limit: int
) -> list[tuple[int, str]]:
    """held_from as (origin_seq, JSON text) pairs, for a push body built without re-encoding."""
    rows = db.execute(
        f"SELECT {_WIRE_COLUMNS} FROM change_log WHERE origin_node = ? AND origin_seq > ? "
        "ORDER BY origin_seq LIMIT ?",
        [origin, after_seq, limit],
    ).fetchall()
    return [(row[2], wire_text(row)) for row in rows]


def own_pending(db: Connection, after_seq: int, limit: int) -> list[dict[str, Any]]:
    """This node's own changes with origin_seq above `after_seq`, oldest first."""
    return held_from(db, node_id(db), after_seq, limit)


def held_from(db: Connection, origin: str, after_seq: int, limit: int) -> list[dict[str, Any]]:
    """The changes held from `origin` with origin_seq above `after_seq`, oldest first."""
    rows = db.execute(
        f"SELECT {_WIRE_COLUMNS} FROM change_log WHERE origin_node = ? AND origin_seq > ? "
        "ORDER BY origin_seq LIMIT ?",
        [origin, after_seq, limit],
    ).fetchall()
    return [to_wire(row) for row in rows]


def own_max_seq(db: Connection, node: str | None = None) -> int:
    """The newest origin sequence `node` (this node by default) handed out; 0 before any."""
    return db.execute(
        "SELECT COALESCE(MAX(origin_seq), 0) FROM change_log WHERE origin_node = ?",
        [node or node_id(db)],
    ).fetchone()[0]


def count_own_after(db: Connection, after_seq: int) -> int:
    return db.execute(
        "SELECT COUNT(*) FROM change_log WHERE origin_node = ? AND origin_seq > ?",
        [node_id(db), after_seq],
    ).fetchone()[0]


def since(
    db: Connection,
    after: Sequence[int],
    limit: int,
    *,
    skip_node: str | None = None,
    text: bool = False,
) -> list[tuple[list[int], Any]]:
    """Changes in the hub's pull order after the position `after`: (position, change) pairs.

    A position is a few integers (the dialect's feed_key; [] is the start). Only final rows
    come, so no change can later appear before a position handed out (SYNC.md §4, HUB.md).
    `skip_node`'s own changes are left out (it holds them; SYNC.md §4 lets it skip them), except
    those whose clock the hub flagged, which that node must learn of. The newest final row
    always comes, so a cursor taken from the last pair reaches the end of the feed as this
    statement saw it.
    """
    params: list[Any] = list(_widen(db, after))
    if skip_node is not None:
        params.append(skip_node)
    statement = since_statement(db.dialect, skipping=skip_node is not None)
    rows = db.execute(statement, [*params, limit]).fetchall()
    width = db.dialect.feed_width
    encode = wire_text if text else to_wire
    return [(list(row[:width]), encode(row[width:])) for row in rows]


def since_statement(dialect: Dialect, *, skipping: bool) -> str:
    """since()'s SELECT: the position's `?`s, the skipped node's when `skipping`, the limit's."""
    where = f"{dialect.feed_final} AND {dialect.feed_after}"
    if skipping:
        where += (
            f" AND (origin_node != ? OR clock_suspect = 1 OR ({dialect.feed_key}) = ("
            f"SELECT {dialect.feed_key} FROM change_log WHERE {dialect.feed_final} "
            f"ORDER BY {dialect.feed_order_desc} LIMIT 1))"
        )
    return (
        f"SELECT {dialect.feed_key}, {_WIRE_COLUMNS} FROM change_log WHERE {where} "
        f"ORDER BY {dialect.feed_order} LIMIT ?"
    )


def _widen(db: Connection, after: Sequence[int]) -> Sequence[int]:
    """`after` as a position of the dialect's width. A narrower one is a SQLite hub's seq,
    handed out before the hub moved to PostgreSQL: its rows carry the copy's transaction id
    (app.store.postgres_copy), so the position is that id and the seq."""
    width = db.dialect.feed_width
    if not after:
        return [0] * width
    if len(after) < width:
        origin = int(meta(db, "feed_origin_tx") or 0)
        return [origin] * (width - len(after)) + list(after)
    return after


def held_among(db: Connection, changes: list[dict[str, Any]]) -> set[tuple[str, int]]:
    """Which of these changes this database already holds, as (origin_node, origin_seq)."""
    wanted: dict[str, list[int]] = {}
    for change in changes:
        wanted.setdefault(change["origin_node"], []).append(change["origin_seq"])
    found: set[tuple[str, int]] = set()
    for node, seqs in wanted.items():
        for start in range(0, len(seqs), _CHUNK):
            chunk = seqs[start : start + _CHUNK]
            among, params = db.dialect.one_of("origin_seq", chunk)
            rows = db.execute(
                f"SELECT origin_seq FROM change_log WHERE origin_node = ? AND {among}",
                [node, *params],
            )
            found.update((node, seq) for (seq,) in rows)
    return found


_CHUNK = 500  # values bound in one IN (...)


def first_differing(db: Connection, changes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first of these changes that this database holds with other content (a reused
    change id, SYNC.md §3a); None when each is absent or the very change held."""
    for change in changes:
        row = db.execute(
            "SELECT hlc, entity, entity_id, op, payload FROM change_log "
            "WHERE origin_node = ? AND origin_seq = ?",
            [change["origin_node"], change["origin_seq"]],
        ).fetchone()
        if row is None:
            continue
        hlc, entity, entity_id, op, payload = row
        same = (hlc, entity, entity_id, op) == (
            change["hlc"],
            change["entity"],
            change["entity_id"],
            change["op"],
        ) and json_codec.loads(payload) == change["payload"]
        if not same:
            return change
    return None


def store_remote_many(db: Connection, changes: list[tuple[dict[str, Any], bool]]) -> None:
    """Keep changes other nodes made, exactly as they were made: (change, suspect) pairs, in
    order, with one statement."""
    assert db.in_transaction
    columns = ("origin_node", "origin_seq", "hlc", "entity", "entity_id", "op", "payload")
    db.insert_rows(
        "change_log",
        (*columns, "clock_suspect"),
        [
            (
                change["origin_node"], change["origin_seq"], change["hlc"], change["entity"],
                change["entity_id"], change["op"], canonical(change["payload"]), int(suspect),
            )
            for change, suspect in changes
        ],
    )  # fmt: skip


def flag_suspect(db: Connection, origin_node: str, origin_seq: int) -> None:
    db.execute(
        "UPDATE change_log SET clock_suspect = 1 WHERE origin_node = ? AND origin_seq = ?",
        [origin_node, origin_seq],
    )


def observe(db: Connection, remote_hlc: str, now_ms: int | None = None) -> None:
    """Move our clock past a remote stamp (unless it is suspect), in the caller's transaction."""
    now = wall_ms() if now_ms is None else now_ms
    if db.clock_at_commit:
        _observe_at_commit(db, remote_hlc, now)
        return
    node = meta(db, "node_id")
    assert node, "database not migrated"
    _move_clock(db, lambda last: clock.receive(last, remote_hlc, node, now))


def observe_at_commit(db: Connection) -> None:
    """Have this transaction's observe() calls move the stored clock just before it commits,
    where several writers run at once (PostgreSQL); where one writes at a time (SQLite), the
    clock row is nobody else's meanwhile and observe() stays as it is.

    Moving the clock locks its row until commit, and every push moves it: moved where a push
    saw the stamps, pushes to every hub process waited there for each other's commits (23 ms
    a push, 20 laptops on one process). Moved last, the row is held for the commit only. A
    stamp this transaction makes meanwhile (next_hlc) still sorts after what it saw; a tick
    in another transaction meanwhile may not, as it could not have seen these changes yet,
    and the clock still ends past both. A transaction that rolls back leaves the clock as it
    was.
    """
    assert db.in_transaction, "observe_at_commit() must run inside store.transaction()"
    if db.dialect.advisory_lock is not None:
        db.clock_at_commit = True


def _observe_at_commit(db: Connection, remote_hlc: str, now: int) -> None:
    """observe() under observe_at_commit: remember the latest stamp seen, store it at commit."""
    if clock.receive(db.seen_hlc, remote_hlc, "", now) is None:
        return  # suspect, or no later than what this transaction saw already
    first = db.seen_hlc is None
    db.seen_hlc = remote_hlc
    if first:
        db.before_commit(lambda: _store_seen(db))


def _store_seen(db: Connection) -> None:
    """clock.receive for the stamp the transaction saw, as one compare-and-set: the stored
    clock moves to its millisecond and counter (the first 22 characters) when behind them."""
    seen = db.seen_hlc
    assert seen is not None
    ours = clock.Hlc.decode(seen)
    stamp = clock.Hlc(ours.millis, ours.counter, node_id(db)).encode()
    db.execute(
        "INSERT INTO node_meta (key, value) VALUES ('hlc', ?) ON CONFLICT (key) DO UPDATE "
        "SET value = excluded.value "
        f"WHERE substr(node_meta.value, 1, {_MILLIS_AND_COUNTER}) "
        f"< substr(excluded.value, 1, {_MILLIS_AND_COUNTER})",
        [stamp],
    )


_MILLIS_AND_COUNTER = len(clock.Hlc(0, 0, "").encode()) - 1  # "0000000000000000-00000"


def suspect_changes(db: Connection) -> list[dict[str, Any]]:
    rows = db.execute(
        f"SELECT {_WIRE_COLUMNS} FROM change_log WHERE clock_suspect = 1 ORDER BY hlc"
    ).fetchall()
    return [to_wire(row) for row in rows]
