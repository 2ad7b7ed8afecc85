"""The contract every backend's connection keeps: statements, rows, nesting transactions, memory.

The concern modules (keys, customers, bookings, ...) talk only to this class, so a second
backend (PostgreSQL through psycopg 3) is a subclass plus its own `open_db`, not a second copy
of the SQL. What the subclass must provide is marked abstract below; what differs in the SQL
itself lives in its `dialect`. Everything else the concern modules write is SQL that SQLite
and PostgreSQL both run, with qmark (`?`) and named (`:name`) parameters: a driver with
another parameter style rewrites the statement text (once per text, it repeats).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

Params = Sequence[Any] | dict[str, Any]
Row = tuple[Any, ...]


class Cursor(Protocol):
    """What a statement gives back: the DB-API cursor sqlite3 and psycopg both return."""

    rowcount: int
    description: Any

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Any: ...


class Dialect(ABC):
    """The few statements whose SQL differs between backends."""

    # The pull feed (SYNC.md §4): a change-log row's position is `feed_key` (feed_width
    # integers), rows come in `feed_order`, only rows meeting `feed_final` may be read (no row
    # can appear before them later), and `feed_after` selects rows past a position's `?`s.
    feed_width: int
    feed_key: str
    feed_order: str
    feed_order_desc: str
    feed_final: str
    feed_after: str
    # Takes a lock named by the `?` text, held until the transaction ends, where several
    # processes write at once; None where writers queue for the whole database anyway.
    advisory_lock: str | None
    # The same for a list of names (one `?`, a list) in their order, in one statement.
    advisory_locks: str | None

    @abstractmethod
    def insert_ignoring(self, table: str, columns: Iterable[str]) -> str:
        """An INSERT of `columns` (named parameters) that skips a row the table already holds
        (its id taken) instead of failing; the cursor's rowcount says whether it went in."""

    @abstractmethod
    def contains_text(self, column: str) -> str:
        """A condition true when `column` holds the `?` parameter's text, ignoring ASCII case;
        the parameter is a pattern from rows.like (its % and _ escaped with a backslash)."""

    @abstractmethod
    def json_array_contains(self, column: str) -> str:
        """A condition true when the JSON array in `column` holds the `?` parameter."""

    @abstractmethod
    def compare_ignoring_case(self, column: str, operator: str) -> str:
        """`column <operator> ?` with ASCII case ignored on both sides (SQLite's NOCASE)."""

    @abstractmethod
    def order_ignoring_case(self, column: str) -> str:
        """An ORDER BY term: `column` sorted with ASCII case ignored, as compare_ignoring_case
        compares it."""

    @abstractmethod
    def indexed_by(self, table: str, index: str) -> str:
        """`table` in a FROM clause, read through `index` where the planner must be told to."""

    @abstractmethod
    def claim_rows(self, alias: str) -> str:
        """What ends a SELECT whose rows (of the table named `alias`) this transaction takes
        for work, such as messages to send: rows another transaction has taken are skipped
        until it ends, so two processes never take the same one."""

    # The customer's phone with its separators removed (customer search), spelled as the
    # backend's index on it was made.
    phone_digits: str

    @abstractmethod
    def one_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """A condition true when `column` equals one of `values` (at most a few hundred), and
        the parameters it takes, in place of its `?`s."""


class Connection(ABC):
    """One session with the database, used by one thread at a time.

    Opened by the backend's `open_db`; the app's request threads each keep one (the backend's
    `connection(target)`). Reads run outside transactions; every write runs inside
    `transaction()`, which is the only place anything commits.

    Per-connection memory lives here, declared, for the modules that own it:
    `remembered_node_id` (replication.node_id), `last_hlc` (changelog.next_hlc) and
    `remembered_keys` (keys); a backend says in `data_version()` when another connection may
    have made it stale. `clock_at_commit` and `seen_hlc` (changelog.observe_at_commit) last
    one transaction.
    """

    dialect: Dialect

    def __init__(self) -> None:
        self._depth = 0  # open transaction() blocks: 0 none, 1 the transaction, 2+ savepoints
        self.remembered_node_id: str | None = None
        self.last_hlc: str | None = None
        self.clock_at_commit = False
        self.seen_hlc: str | None = None
        self._before_commit: list[Callable[[], None]] = []
        self._locks_held: set[str] = set()  # lock() names taken in this transaction
        self.remembered_keys: tuple[Any, dict[str, dict[str, Any]]] | None = None

    # --- statements ---------------------------------------------------------------------------

    @abstractmethod
    def execute(self, sql: str, params: Params = ()) -> Cursor:
        """Run one statement. A failure the caller can act on is raised as a store error
        (app.store.errors); any other driver error is a bug and propagates as it is."""

    @abstractmethod
    def executemany(self, sql: str, rows: Iterable[Params]) -> Cursor:
        """Run one statement once per parameter set, as one batch."""

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        """Insert many rows of plain values (`columns` in order, no conflict handling) in the
        backend's fastest way: one batched INSERT here, PostgreSQL's COPY there."""
        marks = ", ".join("?" for _ in columns)
        self.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def upsert_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        key: str,
        update: str,
    ) -> None:
        """Insert many rows of plain values (`columns` in order); a row whose `key` the table
        holds already runs `update` instead (what follows ON CONFLICT (key) DO UPDATE: SET
        ... and maybe WHERE ..., naming the new row `excluded`), as one row after another
        would: here one batched INSERT, one statement over column arrays on PostgreSQL."""
        marks = ", ".join("?" for _ in columns)
        self.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) "
            f"ON CONFLICT ({key}) DO UPDATE {update}",
            rows,
        )

    def one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of the result, or None."""
        return self.execute(sql, params).fetchone()

    def scalar(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None when there is no row."""
        row = self.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        """Every row of the result as a dict of column name to value."""
        cursor = self.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    @property
    def takes_locks(self) -> bool:
        """Whether lock() holds anything here; where it does not, a caller can skip working
        out which locks it would take (the hub's push names every record it touches)."""
        return self.dialect.advisory_lock is not None

    def lock(self, *names: str) -> None:
        """Hold the locks `names` name until the transaction ends: another transaction asking
        for one of them waits for this one to commit, and then reads what it wrote.

        This is how a check and the write it allows stay one step across hub processes (a
        slot's overlap check, a booking's change, a node's push). One call takes its locks in
        sorted order; a transaction that calls more than once takes records and bookings,
        then slots, then the clock, as every writer does, so none wait in a circle (should
        one, PostgreSQL ends it as Contention). No-op where the backend has one writer at a
        time (SQLite: BEGIN IMMEDIATE holds the database), and outside a transaction, where
        there is nothing to hold it.
        """
        statement = self.dialect.advisory_lock
        if statement is None or not self.in_transaction:
            return
        # A lock this transaction holds already is not asked for again (a push holds its
        # slots before it merges, then settles the same slots): a round trip saved.
        ordered = sorted(set(names) - self._locks_held)
        if len(ordered) > 1 and self.dialect.advisory_locks is not None:
            self.execute(self.dialect.advisory_locks, [ordered])
        elif ordered:
            self.executemany(statement, [[name] for name in ordered])
        self._locks_held.update(ordered)

    @abstractmethod
    def table_columns(self, table: str) -> frozenset[str]:
        """The names of the table's columns, as the migrations made them."""

    # --- transactions -------------------------------------------------------------------------

    def transaction(self) -> Transaction:
        """One unit of work: `with db.transaction():` commits at the end of the outermost block
        and rolls everything back if it raises. A block inside another one is a savepoint:
        an exception leaving it undoes only its own writes, and nothing commits until the
        outermost block ends. Reads inside see the database as the transaction leaves it."""
        return Transaction(self)

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @abstractmethod
    def _begin(self) -> None:
        """Start the outermost transaction, holding what its writes need from the start."""

    @abstractmethod
    def _finish(self, error: BaseException | None) -> None:
        """End the outermost transaction: commit when `error` is None, else roll back. A failed
        commit rolls back too and raises, so the connection is ready for the next unit."""

    def _end(self, error: BaseException | None) -> None:
        """Run the before_commit actions unless rolling back, then end the transaction (rolled
        back if one of them fails)."""
        actions, self._before_commit = self._before_commit, []
        try:
            for action in actions if error is None else ():
                action()
        except BaseException as failed:
            error = failed
            raise
        finally:
            self.clock_at_commit, self.seen_hlc = False, None
            self._locks_held = set()
            self._finish(error)

    @abstractmethod
    def _still_open(self) -> bool:
        """Whether the database still has our transaction open (an error may have ended it)."""

    def _enter(self) -> None:
        if self._depth == 0:
            self._begin()
        else:
            self.execute(f"SAVEPOINT nested_{self._depth}")
        self._depth += 1

    def before_commit(self, action: Callable[[], None]) -> None:
        """Run `action` as the transaction's last statements, just before it commits (not if
        it rolls back): what it locks is held for the commit only."""
        assert self.in_transaction, "before_commit() needs a transaction"
        self._before_commit.append(action)

    def _exit(self, error: BaseException | None) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._end(error)
            return
        name = f"nested_{self._depth}"
        if error is None:
            self.execute(f"RELEASE SAVEPOINT {name}")
        elif self._still_open():  # else the error took the whole transaction with it
            self._locks_held = set()  # a rolled-back savepoint lets go of what it locked
            self.execute(f"ROLLBACK TO SAVEPOINT {name}")
            self.execute(f"RELEASE SAVEPOINT {name}")

    # --- state --------------------------------------------------------------------------------

    @abstractmethod
    def data_version(self) -> object:
        """A value that changes whenever another connection has committed since the last call
        (any thread or process). A backend that cannot tell returns a new object every call."""

    @abstractmethod
    def write_problem(self) -> str | None:
        """None if the database took its last write, else the StorageProblem.problem it ran
        into, checked again now (cheaply) so /healthz sees the database recover by itself."""

    @abstractmethod
    def seat(self) -> str | None:
        """Where this database lives, so that sync.identity tells a copy from the original: a
        copied or restored database has another seat. None when the backend cannot tell."""

    def file_path(self) -> str:
        """The database file's path, or "" when the database is not a file (a server's)."""
        return ""

    @abstractmethod
    def close(self) -> None:
        """Close the session; the connection is unusable afterwards."""


class Transaction:
    """The context manager `Connection.transaction()` returns (a class: it is on every write)."""

    __slots__ = ("_db",)

    def __init__(self, db: Connection) -> None:
        self._db = db

    def __enter__(self) -> Connection:
        self._db._enter()
        return self._db

    def __exit__(self, _kind: object, error: BaseException | None, _trace: object) -> None:
        self._db._exit(error)
