"""How the PostgreSQL backend talks to psycopg 3: statements, results, errors and flags.

The statement text is rewritten to psycopg's parameter style, results are fetched whole,
psycopg's errors become the store's, and flags go out as integers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.adapt import Dumper
from psycopg_pool import PoolTimeout

from app.store.errors import (
    ConstraintViolated,
    Contention,
    StorageFull,
    StorageUnavailable,
    StoreError,
)

# A quoted literal or identifier, a `::` cast, a `?`, a `:name`, or a `%` (which psycopg
# would read as a placeholder): the rewrite touches only what is outside quotes.
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|::|\?|:([A-Za-z_]\w*)|%")


@lru_cache(maxsize=2048)
def to_psycopg(sql: str) -> str:
    """`sql` with qmark and named parameters in psycopg's style."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        if match.group(1):
            return f"%({match.group(1)})s"
        return token  # a literal, an identifier or a cast stays as it is

    return _TOKENS.sub(replace, sql)


class Rows:
    """A statement's result, fetched whole, so the connection can go back to the pool at once."""

    __slots__ = ("_rows", "_next", "rowcount", "description")

    def __init__(self, cursor: psycopg.Cursor) -> None:
        self.description = cursor.description
        self.rowcount = cursor.rowcount
        self._rows = cursor.fetchall() if cursor.description is not None else []
        self._next = 0

    def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Any]:
        rest = self._rows[self._next :]
        self._next = len(self._rows)
        return rest

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


def store_error(error: BaseException) -> StoreError | None:
    """The store's error for a psycopg one a caller can act on; None for a bug's."""
    if isinstance(error, (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)):
        return Contention(str(error))
    if isinstance(error, pg_errors.IntegrityError):
        return ConstraintViolated(str(error))
    if isinstance(error, pg_errors.DiskFull):
        return StorageFull(str(error))
    if isinstance(
        error,
        (
            PoolTimeout,
            psycopg.OperationalError,  # the connection or the server went away
            pg_errors.ReadOnlySqlTransaction,  # a standby, while a fail-over promotes another
            pg_errors.QueryCanceled,  # the statement timeout
        ),
    ):
        return StorageUnavailable(str(error))
    return None


class _FlagDumper(Dumper):
    """A Python bool as 0 or 1: flags are integer columns, as in SQLite, so one SQL fits both."""

    oid = psycopg.postgres.types["int4"].oid

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"


def prepare_connection(conn: psycopg.Connection) -> None:
    """What every new pool connection is set up with: flags sent as 0 or 1."""
    conn.adapters.register_dumper(bool, _FlagDumper)
