"""What only the SQLite backend has: its pragmas, its files and WAL, and its error codes mapped
to the store's own errors."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from app import store
from sync import identity
from tests.store import records
from tests.store.conftest import SqliteBackend
from tests.tools.dump_schema import schema_sql

SCHEMA = Path(__file__).parent.parent / "schema.sql"


@pytest.fixture
def backend(tmp_path):
    return SqliteBackend(tmp_path)


def _write_customer(db, **overrides):
    with store.transaction(db):
        store.insert_customer(db, records.customer(**overrides))


def test_database_is_wal_with_foreign_keys_and_busy_timeout(db):
    assert db.scalar("PRAGMA journal_mode") == "wal"
    assert db.scalar("PRAGMA foreign_keys") == 1
    assert db.scalar("PRAGMA busy_timeout") == store.BUSY_TIMEOUT_MS


def test_migrating_twice_is_harmless_and_keeps_the_node_id(db_path):
    first = identity.init_database(db_path)
    assert identity.init_database(db_path) == first


def test_schema_matches_tests_schema_sql(db):
    """An insert that auto-created a table, or an edited migration, shows up here."""
    assert schema_sql(db).strip() == SCHEMA.read_text().strip(), "run `make schema`"


def test_a_database_that_cannot_be_created_says_why(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with pytest.raises(store.CannotOpen, match="Cannot open the database at .*a-file/x.db"):
        store.init_database(str(blocked / "x.db"), settle=lambda db: None)


def test_a_file_that_is_not_a_database_says_so(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"x" * 4096)
    with pytest.raises(store.CannotOpen, match="Cannot open the database at .*not a database"):
        store.init_database(str(junk), settle=lambda db: None)


def test_a_checkpointer_moves_checkpoints_off_the_commits(backend):
    checkpointer = store.Checkpointer(backend.path, interval_s=0.01)
    checkpointer.start()
    try:
        writer = backend.connect()
        autocheckpoint = writer.scalar("PRAGMA wal_autocheckpoint")
        assert autocheckpoint == store.BACKSTOP_AUTOCHECKPOINT_PAGES
        _write_customer(writer, name="Checkpointed")
        time.sleep(0.2)
        writer.close()
    finally:
        checkpointer.stop()
    # The database file itself (read without its WAL) has the row: a checkpoint copied it.
    file_only = sqlite3.connect(f"file:{backend.path}?immutable=1", uri=True)
    names = [row[0] for row in file_only.execute("SELECT name FROM customers")]
    file_only.close()
    assert names == ["Checkpointed"]
    later = backend.connect()
    assert later.scalar("PRAGMA wal_autocheckpoint") == 1000  # SQLite's default
    later.close()


def test_a_long_run_of_writes_leaves_checkpoints_to_a_thread_then_hands_them_back(backend):
    writer = backend.connect()
    try:
        with store.checkpoints_aside(writer):
            assert writer.scalar("PRAGMA wal_autocheckpoint") == store.BACKSTOP_AUTOCHECKPOINT_PAGES
            _write_customer(writer, name="Written aside")
        # The checkpointer's last round copied the row into the database file itself.
        file_only = sqlite3.connect(f"file:{backend.path}?immutable=1", uri=True)
        names = [row[0] for row in file_only.execute("SELECT name FROM customers")]
        file_only.close()
        assert names == ["Written aside"]
        assert writer.scalar("PRAGMA wal_autocheckpoint") == 1000  # SQLite's default again
    finally:
        writer.close()


def test_writes_aside_leave_a_running_checkpointer_in_charge(backend):
    checkpointer = store.Checkpointer(backend.path, interval_s=0.01)
    checkpointer.start()
    try:
        writer = backend.connect()
        with store.checkpoints_aside(writer):
            _write_customer(writer, name="Served")
        # `booking serve`'s checkpointer still looks after the file, and its commits still
        # leave checkpoints to it.
        assert writer.scalar("PRAGMA wal_autocheckpoint") == store.BACKSTOP_AUTOCHECKPOINT_PAGES
        writer.close()
    finally:
        checkpointer.stop()


@pytest.fixture
def full_disk(db, other):
    """Cap the file at its size now: SQLite then answers SQLITE_FULL as on a full disk."""
    other.execute("VACUUM")
    db.execute(f"PRAGMA max_page_count = {db.scalar('PRAGMA page_count')}")
    yield
    db.execute("PRAGMA max_page_count = 1073741823")


def test_a_full_disk_raises_storage_full_and_keeps_nothing(db, full_disk):
    before = store.count_rows(db, "change_log")
    with pytest.raises(store.StorageFull):
        _write_customer(db, metadata={"notes": "x" * 20_000})
    assert store.count_rows(db, "customers") == 0
    assert store.count_rows(db, "change_log") == before
    assert not db.in_transaction


def test_write_problem_reports_a_full_disk_until_space_returns(db, full_disk):
    assert store.write_problem(db) is None
    with pytest.raises(store.StorageFull):
        _write_customer(db, metadata={"notes": "x" * 20_000})
    assert store.write_problem(db) == "full"
    db.execute("PRAGMA max_page_count = 1073741823")
    assert store.write_problem(db) is None
    _write_customer(db)
    assert store.count_rows(db, "customers") == 1


def test_a_read_only_database_raises_storage_unavailable(db):
    db.execute("PRAGMA query_only = ON")
    try:
        with pytest.raises(store.StorageUnavailable):
            _write_customer(db)
        assert store.write_problem(db) == "read_only"
    finally:
        db.execute("PRAGMA query_only = OFF")
    assert store.write_problem(db) is None


def test_a_bug_in_sql_stays_a_bug(db):
    with pytest.raises(sqlite3.OperationalError):
        db.execute("SELECT no_such_column FROM customers")


def test_a_failed_nested_block_after_sqlite_ended_the_transaction_still_raises(db, full_disk):
    with pytest.raises(store.StorageFull), store.transaction(db):
        with store.transaction(db):
            store.insert_customer(db, records.customer(metadata={"notes": "x" * 20_000}))
    assert not db.in_transaction
