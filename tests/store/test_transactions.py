"""Transactions: a write and its change commit together or not at all, and blocks nest."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from app import store
from app.store import changelog
from tests.store import records


def _names(db) -> list[str]:
    return [row["name"] for row in store.list_customers(db, after_id=None, limit=100)]


def test_a_committed_write_is_seen_by_another_connection(db, other):
    with store.transaction(db):
        store.insert_customer(db, records.customer(name="Ada"))
    assert _names(other) == ["Ada"]


def test_an_open_transaction_is_not_seen_by_another_connection(db, other):
    with store.transaction(db):
        store.insert_customer(db, records.customer(name="Ada"))
        assert _names(db) == ["Ada"]
        assert _names(other) == []


def test_a_failed_write_leaves_neither_row_nor_change(db):
    with pytest.raises(store.ConstraintViolated), store.transaction(db):
        store.insert_customer(db, records.customer())
        store.insert_customer(db, records.customer(name=None))  # NOT NULL fails
    assert store.count_rows(db, "customers") == 0
    assert changelog.count(db) == 0


def test_an_exception_after_the_write_rolls_back_both(db):
    with pytest.raises(RuntimeError), store.transaction(db):
        store.insert_customer(db, records.customer())
        raise RuntimeError("crash before commit")
    assert store.count_rows(db, "customers") == 0 and changelog.count(db) == 0


def test_writes_outside_a_transaction_are_refused(db):
    with pytest.raises(AssertionError):
        store.insert_customer(db, records.customer())
    assert store.count_rows(db, "customers") == 0


def test_a_nested_block_that_fails_undoes_only_its_own_writes(db):
    with store.transaction(db):
        store.insert_customer(db, records.customer(name="Kept"))
        with pytest.raises(RuntimeError), store.transaction(db):
            store.insert_customer(db, records.customer(name="Undone"))
            raise RuntimeError
        assert db.in_transaction
    assert _names(db) == ["Kept"]
    assert changelog.count(db) == 1


def test_a_nested_block_commits_only_with_the_outermost_one(db, other):
    with store.transaction(db):
        with store.transaction(db):
            store.insert_customer(db, records.customer(name="Inner"))
        assert _names(other) == []
    assert _names(other) == ["Inner"]


def test_an_outer_failure_undoes_the_nested_blocks_that_succeeded(db):
    with pytest.raises(RuntimeError), store.transaction(db):
        with store.transaction(db):
            store.insert_customer(db, records.customer())
        raise RuntimeError
    assert store.count_rows(db, "customers") == 0 and changelog.count(db) == 0


def test_blocks_nest_three_deep(db):
    with store.transaction(db):
        store.insert_customer(db, records.customer(name="One"))
        with store.transaction(db):
            store.insert_customer(db, records.customer(name="Two"))
            with pytest.raises(RuntimeError), store.transaction(db):
                store.insert_customer(db, records.customer(name="Three"))
                raise RuntimeError
    assert sorted(_names(db)) == ["One", "Two"]


def test_in_transaction_says_whether_a_block_is_open(db):
    assert not db.in_transaction
    with store.transaction(db):
        assert db.in_transaction
        with store.transaction(db):
            assert db.in_transaction
        assert db.in_transaction
    assert not db.in_transaction


def test_the_connection_is_ready_after_a_failed_transaction(db):
    with pytest.raises(store.ConstraintViolated), store.transaction(db):
        store.insert_customer(db, records.customer(name=None))
    with store.transaction(db):
        store.insert_customer(db, records.customer(name="Next"))
    assert _names(db) == ["Next"]


def test_two_connections_write_in_turn(db, other):
    for writer in (db, other, db):
        with store.transaction(writer):
            store.insert_customer(writer, records.customer())
    assert store.count_rows(db, "customers") == 3
    seqs = [change["origin_seq"] for change in changelog.own_pending(db, 0, 10)]
    assert seqs == [1, 2, 3]


def test_writers_on_many_threads_queue_and_keep_origin_seq_gapless(backend):
    def write(count: int) -> None:
        db = backend.connect()  # a connection never crosses threads
        try:
            for _ in range(count):
                with store.transaction(db):
                    store.insert_customer(db, records.customer())
        finally:
            db.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        for done in [pool.submit(write, 25) for _ in range(4)]:
            done.result()
    db = backend.connect()
    seqs = [change["origin_seq"] for change in changelog.own_pending(db, 0, 200)]
    db.close()
    assert seqs == list(range(1, 101))


def test_reads_come_back_as_dicts_of_columns(db):
    assert db.query("SELECT 1 AS one, 'two' AS two") == [{"one": 1, "two": "two"}]
    assert db.one("SELECT 1, 2") == (1, 2)
    assert db.scalar("SELECT 3") == 3
    assert db.scalar("SELECT 1 WHERE 1 = 0") is None
