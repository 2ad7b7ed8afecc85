"""The hub's pull feed on PostgreSQL: every change, once, in one order, under concurrent writers.

The trap (HUB.md): a sequence value is handed out when a row is inserted, not when its
transaction commits. Transaction A inserts seq 7 and is still open when B inserts seq 8 and
commits; a pull reading "seq > cursor" returns 8 and moves the cursor past 7, so when A commits,
seq 7 is never sent to anybody.

The technique (the one PgQ, Skytools' queue, has used for years): each row records the
transaction that wrote it (`tx`, the 64-bit `pg_current_xact_id()`), and a pull returns only rows
whose transaction is older than the oldest one still running in its snapshot
(`pg_snapshot_xmin(pg_current_snapshot())`), ordered and cursored by (tx, seq). Why nothing can
ever land behind a cursor:

- Every transaction id below the snapshot's xmin has ended, committed or rolled back, so the
  set of rows with such a `tx` is final: all of them are visible to the pull, and no later
  transaction can add one, because transaction ids are handed out in increasing order and every
  id handed out from now on is at least the snapshot's xmin.
- A cursor (tx, seq) is the position of a row read under that rule; so every row that sorts
  before the cursor was final when it was handed out, and the next pull misses none of them.

The price: a transaction left open on the hub's cluster holds back what pulls can see
(nothing is lost, pulls just wait for it), so hub transactions are kept short and the
statement timeout bounds them (app.settings). Rows copied from a SQLite hub all carry the
migration's transaction id, ordered among themselves by their original seq.
"""

from __future__ import annotations

from typing import Any

import psycopg

Position = tuple[int, int]  # (tx, seq) of a change-log row
START: Position = (0, 0)

COLUMNS = "seq, origin_node, origin_seq, hlc, entity, entity_id, op, payload, clock_suspect"

# Rows of transactions that have ended, as of this statement's snapshot.
FINAL = "tx < pg_snapshot_xmin(pg_current_snapshot())"


def since(
    conn: psycopg.Connection, after: Position, limit: int, *, skip_node: str | None = None
) -> list[tuple[Position, tuple[Any, ...]]]:
    """Up to `limit` final rows after the position `after`, in feed order: (position, row).

    A row is `COLUMNS` in that order. `skip_node`'s own changes are left out except those
    whose clock the hub flagged, and the newest final row always comes, so the position of the
    last pair reaches the end of the feed as this statement saw it.
    """
    where = f"(tx, seq) > (%(tx)s::text::xid8, %(seq)s) AND {FINAL}"
    params: dict[str, Any] = {"tx": after[0], "seq": after[1], "limit": limit}
    if skip_node is not None:
        where += (
            " AND (origin_node <> %(skip)s OR clock_suspect = 1 OR (tx, seq) = ("
            f"SELECT tx, seq FROM change_log WHERE {FINAL} ORDER BY tx DESC, seq DESC LIMIT 1))"
        )
        params["skip"] = skip_node
    rows = conn.execute(
        f"SELECT tx::text::bigint, {COLUMNS} FROM change_log WHERE {where} "
        "ORDER BY change_log.tx, change_log.seq LIMIT %(limit)s",  # the table's tx, not the cast
        params,
    ).fetchall()
    return [((row[0], row[1]), row[1:]) for row in rows]


def end(conn: psycopg.Connection) -> Position:
    """The position of the newest final row (START when there is none)."""
    row = conn.execute(
        f"SELECT tx::text::bigint, seq FROM change_log WHERE {FINAL} "
        "ORDER BY change_log.tx DESC, change_log.seq DESC LIMIT 1"
    ).fetchone()
    return (row[0], row[1]) if row else START
