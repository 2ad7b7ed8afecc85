"""The SQLite backend: connections with their pragmas, the write gate, and SQLite's errors mapped.

Everything that only SQLite has lives here and in sqlite_files.py (WAL, checkpoints, the
migrations, copies): the concern modules see a `Connection` and the store's own errors.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from contextlib import suppress
from typing import Any

from app.store.connection import Connection, Cursor, Dialect, Params
from app.store.errors import (
    CannotOpen,
    ConstraintViolated,
    StorageFull,
    StorageProblem,
    StorageUnavailable,
    StoreError,
)
from migrations.sqlite.m0011_counter import PHONE_DIGITS_SQL

BUSY_TIMEOUT_MS = 5000
# While a Checkpointer runs, a COMMIT checkpoints only if the WAL outgrows this (about 40 MB).
BACKSTOP_AUTOCHECKPOINT_PAGES = 10_000

checkpointed_paths: set[str] = set()  # database files a Checkpointer is looking after


class SqliteDialect(Dialect):
    # One writer at a time: seq order is commit order, every row is final.
    feed_width = 1
    feed_key = feed_order = "seq"
    feed_order_desc = "seq DESC"
    feed_final = "1 = 1"
    feed_after = "seq > ?"
    advisory_lock = advisory_locks = None  # BEGIN IMMEDIATE holds the database's write lock

    def insert_ignoring(self, table: str, columns: Iterable[str]) -> str:
        # OR IGNORE, not ON CONFLICT DO NOTHING: it also skips a row another version of the app
        # sent without a column this one requires, as every release so far has.
        names = list(columns)
        marks = ", ".join(f":{name}" for name in names)
        return f"INSERT OR IGNORE INTO {table} ({', '.join(names)}) VALUES ({marks})"

    def contains_text(self, column: str) -> str:
        return f"{column} LIKE ? ESCAPE '\\'"  # SQLite's LIKE ignores ASCII case

    def json_array_contains(self, column: str) -> str:
        return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value = ?)"

    def compare_ignoring_case(self, column: str, operator: str) -> str:
        return f"{column} {operator} ? COLLATE NOCASE"

    def order_ignoring_case(self, column: str) -> str:
        return f"{column} COLLATE NOCASE"

    def indexed_by(self, table: str, index: str) -> str:
        return f"{table} INDEXED BY {index}"

    def claim_rows(self, alias: str) -> str:
        return ""  # BEGIN IMMEDIATE: one writer at a time already

    phone_digits = PHONE_DIGITS_SQL  # the expression migration m0011 indexed

    def one_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        return f"{column} IN ({', '.join('?' * len(values))})", list(values)


def store_error(error: sqlite3.Error) -> StoreError | None:
    """The store's error for a sqlite3 one a caller can act on; None for a bug's."""
    if isinstance(error, sqlite3.IntegrityError):
        return ConstraintViolated(str(error))
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return None
    primary = code & 0xFF  # extended codes (SQLITE_READONLY_DBMOVED, ...) share the low byte
    if primary == sqlite3.SQLITE_FULL:
        return StorageFull(str(error))
    if primary in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN):
        return StorageUnavailable(str(error))
    return None


# Writers to one file queue on a Python lock rather than on SQLite's busy handler, whose sleeps
# turn contention into latency spikes. BEGIN IMMEDIATE still guards against other processes.
class WriteGate:
    """One per database file: the lock its writers queue on, and what the last write ran into
    ("full", "read_only" or None), so /healthz can tell without writing on every call."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.problem: str | None = None


_write_gates: dict[str, WriteGate] = {}
_write_gates_guard = threading.Lock()


def _write_gate_for(path: str) -> WriteGate:
    with _write_gates_guard:
        return _write_gates.setdefault(os.path.realpath(path), WriteGate())


class SqliteConnection(Connection):
    """A connection to one SQLite file; `conn` is the sqlite3 connection under it, for what only
    SQLite does (online backup, pragmas in tests)."""

    dialect = SqliteDialect()
    _columns: dict[str, frozenset[str]] = {}  # by table; the schema is the same for every file

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        super().__init__()
        self.conn = conn
        self._gate = _write_gate_for(path)

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        try:
            return self.conn.execute(sql, params)
        except sqlite3.Error as error:
            mapped = store_error(error)
            if mapped is None:
                raise
            raise mapped from error

    def executemany(self, sql: str, rows: Iterable[Params]) -> Cursor:
        try:
            return self.conn.executemany(sql, rows)
        except sqlite3.Error as error:
            mapped = store_error(error)
            if mapped is None:
                raise
            raise mapped from error

    def table_columns(self, table: str) -> frozenset[str]:
        columns = self._columns.get(table)
        if columns is None:
            rows = self.execute(f"PRAGMA table_info({table})").fetchall()
            columns = self._columns[table] = frozenset(row[1] for row in rows)
        return columns

    def data_version(self) -> object:
        # Moves whenever another connection commits (another thread, the CLI, any process).
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    # BEGIN IMMEDIATE takes the write lock now, so reads inside the transaction are current.
    def _begin(self) -> None:
        gate = self._gate
        gate.lock.acquire()
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException as error:
            gate.lock.release()
            if isinstance(error, StorageProblem):
                gate.problem = error.problem
            raise

    def _finish(self, error: BaseException | None) -> None:
        gate = self._gate
        try:
            if error is None:
                self._commit()
                gate.problem = None
            else:
                self.conn.rollback()
                if isinstance(error, StorageProblem):
                    gate.problem = error.problem
        except StorageProblem as failed:
            gate.problem = failed.problem
            raise
        finally:
            gate.lock.release()

    def _commit(self) -> None:
        try:
            self.conn.commit()
        except sqlite3.Error as error:
            # SQLite may already have rolled back (SQLITE_FULL); if not, nothing half-done stays.
            with suppress(sqlite3.Error):
                self.conn.rollback()
            mapped = store_error(error)
            if mapped is None:
                raise
            raise mapped from error

    def _still_open(self) -> bool:
        return self.conn.in_transaction

    def write_problem(self) -> str | None:
        """The last write's problem, checked again by a write of 64 KiB that is then undone."""
        gate = self._gate
        if gate.problem is None or not gate.lock.acquire(blocking=False):
            return gate.problem  # all well, or a write is under way and will update the problem
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute(
                "INSERT OR REPLACE INTO node_meta (key, value) VALUES ('write_probe', ?)",
                ["x" * 65_536],
            )
            self.conn.execute("DELETE FROM node_meta WHERE key = 'write_probe'")
            self.conn.commit()
            gate.problem = None
        except sqlite3.Error as error:
            with suppress(sqlite3.Error):
                self.conn.rollback()
            mapped = store_error(error)
            if isinstance(mapped, StorageProblem):
                gate.problem = mapped.problem
        finally:
            gate.lock.release()
        return gate.problem

    def file_path(self) -> str:
        for _number, name, path in self.conn.execute("PRAGMA database_list").fetchall():
            if name == "main":
                return path
        return ""

    def seat(self) -> str | None:
        """The main file's device:inode (None for an in-memory database)."""
        path = self.file_path()
        if not path:
            return None
        try:
            stat = os.stat(path)
        except OSError:
            return None
        return f"{stat.st_dev}:{stat.st_ino}"

    def close(self) -> None:
        self.conn.close()


def open_db(path: str) -> SqliteConnection:
    """A new connection for this thread: foreign keys on, busy timeout, WAL-friendly sync.

    Raises CannotOpen when the file cannot be opened (a missing folder, no permission).
    """
    try:
        # isolation_level=None: sqlite3 starts no transaction of its own; transaction() does.
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # In WAL mode NORMAL never corrupts and survives any process crash; README § Durability.
        conn.execute("PRAGMA synchronous = NORMAL")
        if os.path.realpath(path) in checkpointed_paths:
            conn.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_AUTOCHECKPOINT_PAGES}")
    except sqlite3.Error as error:
        raise CannotOpen(f"Cannot open the database at {path}: {reason(error)}.") from error
    return SqliteConnection(conn, path)


def reason(error: BaseException) -> str:
    """An error's text as the end of a sentence."""
    text = getattr(error, "strerror", None) or str(error)
    return text.rstrip(".").lower()


# One connection per (thread, database): waitress keeps its threads, so connections are reused.
_local = threading.local()


def connection(path: str) -> SqliteConnection:
    """This thread's connection to the database at `path` (opened on first use)."""
    pool: dict[str, SqliteConnection] = _local.__dict__.setdefault("pool", {})
    db = pool.get(path)
    if db is None:
        db = pool[path] = open_db(path)
    return db


def close_thread_connections() -> None:
    for db in _local.__dict__.pop("pool", {}).values():
        db.close()
