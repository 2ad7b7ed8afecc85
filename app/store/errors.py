"""The store's own exceptions: what a caller may catch, whichever backend raised it.

A backend turns its driver's errors into these at the statement that failed, so nothing above
the store names sqlite3 (or psycopg). The web layer maps each to its HTTP answer in one table.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error the store raises on purpose."""


class RowMissing(StoreError, LookupError):
    """No row has the id asked for. The web layer answers it as 404 not_found; a caller that
    means something else by it (a booking naming an unknown resource) passes `missing=`."""

    code = "not_found"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class CannotOpen(StoreError):
    """The database cannot be opened, created or migrated; the message is fit for a person."""


class StorageProblem(StoreError):
    """The database cannot store anything now; nothing of the transaction was kept.

    `problem` is "full" or "read_only": what /healthz reports until a write succeeds again.
    """

    problem = "read_only"


class StorageFull(StorageProblem):
    """The disk holding the database is full."""

    problem = "full"


class StorageUnavailable(StorageProblem):
    """The database is read-only or unreachable (a moved file, an I/O error, a lost server)."""

    problem = "read_only"


class ConstraintViolated(StoreError):
    """A write broke a rule of the schema (NOT NULL, a unique key, a foreign key): a bug in the
    caller, since the layers above check what they store. Nothing of the transaction is kept."""


class Contention(StoreError):
    """Another transaction got in the way (a serialization failure or a deadlock, on
    PostgreSQL): nothing of this one was kept, and running the unit of work again may succeed.
    The web layer answers 503 with Retry-After; sync's push runs itself again first."""
