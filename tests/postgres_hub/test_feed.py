"""The pull feed on PostgreSQL loses no change whose transaction commits late (HUB.md).

Writers here insert change-log rows as the store does (the sequence is taken at insert); the
sync-level proof, with hub processes and nodes, is in tests/postgres_hub/test_hub_race.py.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import psycopg

from app.store import postgres_feed
from app.store.postgres_feed import START, Position

INSERT = (
    "INSERT INTO change_log (origin_node, origin_seq, hlc, entity, entity_id, op, payload) "
    "VALUES (%s, %s, '0', 'customer', %s, 'upsert', '{}') RETURNING seq"
)


def _write(conn: psycopg.Connection, node: str, origin_seq: int) -> int:
    return conn.execute(INSERT, [node, origin_seq, f"{node}-{origin_seq}"]).fetchone()[0]


def _ids(rows: list[tuple[Position, tuple]]) -> list[tuple[str, int]]:
    return [(row[1], row[2]) for _position, row in rows]


def _naive_since(conn: psycopg.Connection, after_seq: int) -> list[tuple[int, str, int]]:
    """The trap: "every row with seq > cursor", as the SQLite hub may do (one writer there)."""
    return conn.execute(
        "SELECT seq, origin_node, origin_seq FROM change_log WHERE seq > %s ORDER BY seq",
        [after_seq],
    ).fetchall()


def test_a_change_committed_late_is_not_skipped(postgres_url):
    slow = psycopg.connect(postgres_url)
    fast = psycopg.connect(postgres_url, autocommit=True)
    puller = psycopg.connect(postgres_url, autocommit=True)
    try:
        slow_seq = _write(slow, "slow", 1)  # takes a sequence value, does not commit yet
        fast_seq = _write(fast, "fast", 1)  # a later value, committed at once
        assert slow_seq < fast_seq

        naive = _naive_since(puller, 0)
        assert [row[1] for row in naive] == ["fast"]  # the trap: its cursor moves past slow
        naive_cursor = naive[-1][0]
        page = postgres_feed.since(puller, START, 100)
        assert page == []  # nothing is final while an older transaction runs

        slow.commit()
        assert _naive_since(puller, naive_cursor) == []  # "slow" is lost to that puller
        page = postgres_feed.since(puller, START, 100)
        assert _ids(page) == [("slow", 1), ("fast", 1)]
        assert postgres_feed.since(puller, page[-1][0], 100) == []
    finally:
        for conn in (slow, fast, puller):
            conn.close()


def test_a_rolled_back_change_never_appears_and_holds_nothing_back(postgres_url):
    with psycopg.connect(postgres_url) as aborted, psycopg.connect(postgres_url) as kept:
        _write(aborted, "gone", 1)
        _write(kept, "kept", 1)
        kept.commit()
        aborted.rollback()
        assert _ids(postgres_feed.since(kept, START, 100)) == [("kept", 1)]


def test_a_node_skips_its_own_changes_but_its_cursor_reaches_the_end(postgres_url):
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        _write(conn, "other", 1)
        _write(conn, "me", 1)
        _write(conn, "me", 2)
        page = postgres_feed.since(conn, START, 100, skip_node="me")
        assert _ids(page) == [("other", 1), ("me", 2)]  # the newest row comes for its position
        assert page[-1][0] == postgres_feed.end(conn)
        conn.execute("UPDATE change_log SET clock_suspect = 1 WHERE origin_seq = 1")
        flagged = postgres_feed.since(conn, START, 100, skip_node="me")
        assert _ids(flagged) == [("other", 1), ("me", 1), ("me", 2)]


WRITERS = 6
CHANGES_PER_WRITER = 60
PULLERS = 3


def _writer(url: str, node: str, stop_early: threading.Event) -> Callable[[], None]:
    """Commit CHANGES_PER_WRITER changes in small transactions, some held open a while, some
    rolled back (their origin_seq is reused, as a node resends what was not acknowledged)."""

    def run() -> None:
        chance = random.Random(node)
        with psycopg.connect(url) as conn:
            origin_seq = 1
            while origin_seq <= CHANGES_PER_WRITER and not stop_early.is_set():
                batch = chance.randint(1, 4)
                for offset in range(batch):
                    _write(conn, node, origin_seq + offset)
                time.sleep(chance.random() * 0.01)  # other transactions commit meanwhile
                if chance.random() < 0.1:
                    conn.rollback()
                    continue
                conn.commit()
                origin_seq += batch

    return run


def _puller(url: str, writers_done: threading.Event, seen: list) -> Callable[[], None]:
    """Pull small pages until the writers are done, then drain the feed."""

    def run() -> None:
        position = START
        with psycopg.connect(url, autocommit=True) as conn:
            while True:
                done = writers_done.is_set()
                page = postgres_feed.since(conn, position, 7)
                for row_position, row in page:
                    assert row_position > position, "feed order went backwards"
                    position = row_position
                    seen.append((row[1], row[2]))
                if done and not page:
                    return

    return run


def test_concurrent_writers_and_pullers_with_a_transaction_held_open(postgres_url):
    """Every puller receives every committed change exactly once, in one order, although one
    transaction stays open (with the lowest sequence value) while the others commit around it."""
    held = psycopg.connect(postgres_url)
    held_seq = _write(held, "held", 1)
    writers_done, stop_early = threading.Event(), threading.Event()
    seen: list[list[tuple[str, int]]] = [[] for _ in range(PULLERS)]
    pullers = [
        threading.Thread(target=_puller(postgres_url, writers_done, seen[index]))
        for index in range(PULLERS)
    ]
    writers = [
        threading.Thread(target=_writer(postgres_url, f"node{index}", stop_early))
        for index in range(WRITERS)
    ]
    try:
        for thread in pullers + writers:
            thread.start()
        with psycopg.connect(postgres_url, autocommit=True) as watcher:
            # The trap is armed: rows after the held one's sequence value are committed.
            deadline = time.monotonic() + 30
            while not any(row[0] > held_seq for row in _naive_since(watcher, held_seq)):
                assert time.monotonic() < deadline
                time.sleep(0.01)
        time.sleep(0.3)
        held.commit()
        for thread in writers:
            thread.join(timeout=120)
    finally:
        stop_early.set()
        writers_done.set()
        held.close()
    for thread in pullers:
        thread.join(timeout=120)
        assert not thread.is_alive()

    with psycopg.connect(postgres_url) as conn:
        committed = conn.execute("SELECT origin_node, origin_seq FROM change_log").fetchall()
    expected = {("held", 1)} | {
        (f"node{index}", seq) for index in range(WRITERS) for seq in range(1, CHANGES_PER_WRITER)
    }
    assert expected <= set(committed)
    orders = []
    for pulled in seen:
        assert len(pulled) == len(set(pulled)), "a change came twice"
        assert set(pulled) == set(committed), "a puller missed a change"
        orders.append(pulled)
    assert all(order == orders[0] for order in orders), "pullers saw different orders"
    for index in range(WRITERS):
        own = [seq for node, seq in orders[0] if node == f"node{index}"]
        assert own == sorted(own), "a node's changes came out of their order"
