"""The PostgreSQL backend: a pool of psycopg 3 connections behind the store's `Connection`.

A hub on PostgreSQL (HUB.md) runs the concern modules' SQL unchanged: statements are written
with qmark (`?`) and named (`:name`) parameters, which `execute` rewrites once per statement
text into psycopg's `%s` / `%(name)s`. What PostgreSQL spells differently is in the dialect.

Connections come from one pool per database per process (sizes and timeouts: app.settings).
A statement outside a transaction borrows a connection for that statement only; a transaction
holds one from BEGIN to COMMIT. So no thread sits on an idle connection, and a connection the
database dropped (a restart, a fail-over) is checked and replaced when it is next borrowed.
Transactions run at READ COMMITTED, PostgreSQL's default: each statement sees what committed
before it, which the hub's locks (bookings.py, replication.py) rely on.

psycopg's errors become the store's: a lost or unreachable database is StorageUnavailable
(the web layer answers 503 with Retry-After), a serialization failure or deadlock is
Contention (the unit of work may be run again), a broken constraint is ConstraintViolated.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from app.store import postgres_feed
from app.store.connection import Connection, Cursor, Dialect, Params
from app.store.errors import CannotOpen
from app.store.postgres_statements import Rows, prepare_connection, store_error, to_psycopg
from app.store.postgres_urls import URL_FORM as URL_FORM  # commands name it from here
from app.store.postgres_urls import check_url, first_line, redact
from migrations.sqlite.m0011_counter import PHONE_DIGITS_SQL

SCHEMES = ("postgresql://", "postgres://")
# How the dialect spells "one of a list" (one array parameter). A statement holding it runs
# once a page over a few hundred ids and is planned at every run: a plan cached while a
# table was small (a hub's first push into an empty database) scanned the whole table on
# every later page, and no ANALYZE had run yet to replace it.
ANY_PARAMETER = "ANY(?)"


def is_postgres(target: str) -> bool:
    """Whether a --db value names a PostgreSQL database rather than a SQLite file."""
    return target.startswith(SCHEMES)


@dataclass(frozen=True)
class PoolSettings:
    """How each hub process talks to PostgreSQL (app.settings fills these from the config)."""

    min_size: int = 1
    max_size: int = 8
    wait_timeout_s: float = 3.0  # for a free connection, then 503
    connect_timeout_s: int = 3
    statement_timeout_ms: int = 30_000
    # A transaction left open holds back every pull (postgres_feed), so none may idle long.
    idle_in_transaction_timeout_ms: int = 10_000


settings = PoolSettings()


def configure(new: PoolSettings) -> None:
    """Use these settings for the pools opened from now on (a process sets them at start)."""
    global settings
    settings = new


class PostgresDialect(Dialect):
    # app.store.postgres_feed: positions are (writing transaction, seq), read below the xmin.
    feed_width = 2
    feed_key = "tx::text::bigint, seq"
    # Qualified: a bare `tx` in ORDER BY names the select list's `tx::text::bigint` (its output
    # column is called tx too), which no index serves, so every page sorted the whole log.
    feed_order = "change_log.tx, change_log.seq"
    feed_order_desc = "change_log.tx DESC, change_log.seq DESC"
    feed_final = postgres_feed.FINAL
    feed_after = "(tx, seq) > (?::text::xid8, ?)"
    # A 64-bit hash of the name: two names sharing one lock only make one wait for the other.
    advisory_lock = "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))"
    # Taken in the array's order (a function scan WITH ORDINALITY yields it in that order).
    advisory_locks = (
        "SELECT pg_advisory_xact_lock(hashtextextended(name, 0)) "
        "FROM unnest(?::text[]) WITH ORDINALITY AS held(name, place) ORDER BY place"
    )

    def insert_ignoring(self, table: str, columns: Iterable[str]) -> str:
        names = list(columns)
        marks = ", ".join(f":{name}" for name in names)
        return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks}) ON CONFLICT DO NOTHING"

    def contains_text(self, column: str) -> str:
        return f"{column} ILIKE ? ESCAPE '\\'"

    def json_array_contains(self, column: str) -> str:
        return f"EXISTS (SELECT 1 FROM jsonb_array_elements_text(({column})::jsonb) v WHERE v = ?)"

    # lower() folds ASCII only under the columns' "C" collation, as SQLite's NOCASE does.
    def compare_ignoring_case(self, column: str, operator: str) -> str:
        return f"lower({column}) {operator} lower(?)"

    def order_ignoring_case(self, column: str) -> str:
        return f"lower({column})"

    def indexed_by(self, table: str, index: str) -> str:
        return table  # PostgreSQL's planner takes no index hints

    def claim_rows(self, alias: str) -> str:
        return f" FOR UPDATE OF {alias} SKIP LOCKED"

    phone_digits = PHONE_DIGITS_SQL.replace("char(160)", "chr(160)")  # SQLite's char() is chr()

    def one_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        # One array parameter: the statement's text stays the same whatever the count (an IN
        # list of 500 `?`s is another text for each count). It is planned at every run
        # (PostgresConnection.execute), for the table as it is then.
        listed = list(values)
        kinds = {type(value) for value in listed}
        if kinds == {int} or kinds == {str}:  # ids compare as the "C" collation's bytes do
            # The range bounds the index scan however stale the table's statistics are: with
            # none yet (a hub's first big push), plans read every row of the node's changes,
            # or of booking_events, and filtered them, a page's cost growing with the table.
            return f"({column} = {ANY_PARAMETER} AND {column} BETWEEN ? AND ?)", [
                listed,
                min(listed),
                max(listed),
            ]
        return f"{column} = {ANY_PARAMETER}", [listed]


# --- statements ----------------------------------------------------------------------------

FEW_ROWS = 64  # insert_rows: up to this many go in as one INSERT, more as a COPY

# --- checks on borrowing -----------------------------------------------------------------------

# A connection back in the pool for less than this is lent again unchecked. The check is a
# round trip, and statements outside a transaction each borrow a connection: checking every
# one doubled the round trips of a pull. A connection that broke within that second (the
# server restarted) fails its statement as StorageUnavailable, a 503 the client retries, and
# the pool drops it; one idle longer is checked first, so a restart long ago costs no request.
RECENTLY_USED_S = 1.0
_returned_at: weakref.WeakKeyDictionary[psycopg.Connection, float] = weakref.WeakKeyDictionary()


def _note_return(conn: psycopg.Connection) -> None:
    _returned_at[conn] = time.monotonic()


def _check_unless_recent(conn: psycopg.Connection) -> None:
    returned = _returned_at.get(conn)
    if returned is None or time.monotonic() - returned > RECENTLY_USED_S:
        ConnectionPool.check_connection(conn)


# --- pools -----------------------------------------------------------------------------------

_pools: dict[str, ConnectionPool] = {}
_pools_guard = threading.Lock()


def _session_options() -> str:
    return (
        f"-c statement_timeout={settings.statement_timeout_ms} "
        f"-c idle_in_transaction_session_timeout={settings.idle_in_transaction_timeout_ms} "
        "-c timezone=UTC"
    )


def pool_for(url: str) -> ConnectionPool:
    """This process's pool for the database at `url`, opened on first use."""
    with _pools_guard:
        pool = _pools.get(url)
        if pool is None:
            pool = _pools[url] = ConnectionPool(
                url,
                min_size=settings.min_size,
                max_size=settings.max_size,
                timeout=settings.wait_timeout_s,
                kwargs={
                    "autocommit": True,  # transaction() sends BEGIN and COMMIT itself
                    "connect_timeout": settings.connect_timeout_s,
                    "options": _session_options(),
                },
                configure=prepare_connection,
                check=_check_unless_recent,
                reset=_note_return,
                reconnect_timeout=0,  # never give up: the database may be back in an hour
                name="booking",
                open=True,
            )
        return pool


def close_pools(url: str | None = None) -> None:
    """Close this process's pool for `url` (every pool without one), and its connections."""
    with _pools_guard:
        urls = [url] if url is not None else list(_pools)
        for each in urls:
            pool = _pools.pop(each, None)
            if pool is not None:
                pool.close()


class PostgresConnection(Connection):
    """One session's view of a PostgreSQL hub database, used by one thread at a time."""

    dialect = PostgresDialect()
    _columns: dict[str, frozenset[str]] = {}  # by table: one schema per program version

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self._pool = pool_for(url)
        self._held: psycopg.Connection | None = None  # from BEGIN to the end of the transaction
        # BEGIN goes out with the transaction's first statement, one round trip for both.
        self._begin_pending = False

    # --- statements ---------------------------------------------------------------------------

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        prepare = False if ANY_PARAMETER in sql else None  # None: psycopg's own choice
        with self._session() as conn, _mapped():
            if not self._begin_pending:
                return Rows(conn.execute(to_psycopg(sql), params, prepare=prepare))
            self._begin_pending = False
            with conn.pipeline():  # both sent at once; the results read at the end
                conn.execute("BEGIN")
                cursor = conn.execute(to_psycopg(sql), params, prepare=prepare)
            return Rows(cursor)

    def executemany(self, sql: str, rows: Iterable[Params]) -> Cursor:
        with self._session() as conn, _mapped(), conn.cursor() as cursor:
            self._send_begin(conn)
            cursor.executemany(to_psycopg(sql), list(rows))
            return Rows(cursor)

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        # COPY sends the rows as one stream that the server parses in bulk: a batched INSERT
        # costs a bind and an execute per row on both sides. But COPY takes two round trips
        # (the server must answer the COPY before the rows go), so a few rows, as a laptop's
        # sync round brings, go in as one statement over column arrays.
        rows = list(rows)
        if len(rows) <= FEW_ROWS:
            self._insert_arrays(table, columns, rows, "")
            return
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with self._session() as conn, _mapped(), conn.cursor() as cursor:
            self._send_begin(conn)
            with cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)

    def upsert_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        key: str,
        update: str,
    ) -> None:
        # A batched INSERT costs a bind and an execute per row on both sides (a page of 500
        # bookings is 1,000 events). A few rows go in as one statement over column arrays;
        # more are copied into a staging table and moved from there in one statement (psycopg
        # builds arrays value by value in Python, a COPY row in C). One statement may not
        # update a row twice, so a batch naming a key twice goes row by row.
        position = list(columns).index(key)
        conflict = f"ON CONFLICT ({key}) DO UPDATE {update}"
        if len({row[position] for row in rows}) < len(rows):
            super().upsert_rows(table, columns, rows, key=key, update=update)
        elif len(rows) <= FEW_ROWS or not self.in_transaction:
            self._insert_arrays(table, columns, rows, conflict)
        else:
            self._insert_staged(table, columns, rows, conflict)

    def _insert_staged(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], tail: str
    ) -> None:
        """INSERT the rows through a temporary table of this session (emptied by the move, and
        at commit), copied into with COPY: inside a transaction, which holds one session."""
        staging, names = f"staging_{table}", ", ".join(columns)
        self.execute(
            f"DO $$ BEGIN IF to_regclass('pg_temp.{staging}') IS NULL THEN "
            f"CREATE TEMPORARY TABLE {staging} (LIKE {table}) ON COMMIT DELETE ROWS; "
            "END IF; END $$"
        )
        with self._session() as conn, _mapped(), conn.cursor() as cursor:
            with cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        self.execute(
            f"WITH moved AS (DELETE FROM {staging} RETURNING {names}) "
            f"INSERT INTO {table} ({names}) SELECT {names} FROM moved {tail}"
        )

    def _insert_arrays(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], tail: str
    ) -> None:
        """INSERT the rows as one statement with one array parameter per column."""
        if not rows:
            return
        types = self._array_types(table)
        arrays = ", ".join(f"?::{types[column]}" for column in columns)
        self.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) {tail}",
            [list(values) for values in zip(*rows, strict=True)],
        )

    _array_types_of: dict[str, dict[str, str]] = {}  # by table: one schema per program version

    def _array_types(self, table: str) -> dict[str, str]:
        """Each column's array type (`text[]`, `int8[]`), for unnest()."""
        types = self._array_types_of.get(table)
        if types is None:
            rows = self.execute(
                "SELECT column_name, udt_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = ?",
                [table],
            ).fetchall()
            types = self._array_types_of[table] = {name: f"{udt}[]" for name, udt in rows}
        return types

    @contextmanager
    def _session(self) -> Iterator[psycopg.Connection]:
        if self._held is not None:
            yield self._held
            return
        with _mapped(), self._pool.connection() as conn:
            yield conn

    def table_columns(self, table: str) -> frozenset[str]:
        columns = self._columns.get(table)
        if columns is None:
            rows = self.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = ?",
                [table],
            ).fetchall()
            columns = self._columns[table] = frozenset(row[0] for row in rows)
        return columns

    # --- transactions -------------------------------------------------------------------------

    def _begin(self) -> None:
        with _mapped():
            self._held = self._pool.getconn()
        self._begin_pending = True  # sent with the first statement (execute)

    def _send_begin(self, conn: psycopg.Connection) -> None:
        """BEGIN on its own, before a statement that cannot share a round trip with it."""
        if self._begin_pending:
            self._begin_pending = False
            conn.execute("BEGIN")

    def _finish(self, error: BaseException | None) -> None:
        conn, self._held = self._held, None
        assert conn is not None
        begun, self._begin_pending = not self._begin_pending, False
        try:
            with _mapped():
                if not begun:
                    pass  # no statement ran: nothing to commit or roll back
                elif error is None:
                    conn.execute("COMMIT")
                elif not conn.closed:
                    conn.execute("ROLLBACK")
        finally:
            self._pool.putconn(conn)  # a broken one is discarded by the pool

    def _still_open(self) -> bool:
        conn = self._held
        if conn is None or conn.closed:
            return False
        if self._begin_pending:
            return True
        return conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS

    # --- state --------------------------------------------------------------------------------

    def data_version(self) -> object:
        return object()  # other processes write without telling us: never assume unchanged

    def write_problem(self) -> str | None:
        """None when the database answers, else "read_only" (unreachable or a standby)."""
        try:
            with self._pool.connection(timeout=settings.wait_timeout_s) as conn:
                read_only = conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]
        except (PoolTimeout, psycopg.Error):
            return "read_only"
        return "read_only" if read_only else None

    def seat(self) -> str | None:
        """The cluster's system identifier and the database's oid: a fail-over to a streaming
        replica keeps both; a database restored from pg_dump, or copied, has another oid."""
        row = self.one(
            "SELECT (SELECT system_identifier FROM pg_control_system())::text || ':' || oid::text "
            "FROM pg_database WHERE datname = current_database()"
        )
        return row[0] if row else None

    def close(self) -> None:
        if self._held is not None:
            self._finish(RuntimeError("closed inside a transaction"))


@contextmanager
def _mapped() -> Iterator[None]:
    try:
        yield
    except (psycopg.Error, PoolTimeout) as error:
        mapped = store_error(error)
        if mapped is None:
            raise
        raise mapped from error


def open_db(url: str) -> PostgresConnection:
    """A connection object for this thread; the database is reached at its first statement."""
    return PostgresConnection(url)


def reachable(url: str) -> None:
    """Raise CannotOpen with a sentence for a person when the database cannot be reached."""
    check_url(url)
    try:
        with psycopg.connect(url, connect_timeout=settings.connect_timeout_s) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        raise CannotOpen(
            f"Cannot reach the PostgreSQL database {redact(url)} ({first_line(error)}); check "
            "that the server runs and that the URL's host, port, user, password and database "
            "name are right"
        ) from error
