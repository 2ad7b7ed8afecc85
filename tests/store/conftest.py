"""The store's contract suite: every test here that takes `db` runs once per backend.

Kinto's storage/testing.py idea: one suite, parameterised by backend. A backend here is a class
that makes a fresh, migrated database for one test and opens connections to it. Adding
PostgreSQL is one more class (its server started once per session) and its name in BACKENDS;
test_sqlite.py holds what only SQLite has (pragmas, its files, its error codes).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app import store
from tests.store import records


def _keep_identity(_db: store.Connection) -> None:
    """The contract suite tests storage, not sync's copy detection (tests/sync does)."""


class SqliteBackend:
    def __init__(self, folder: Path) -> None:
        self.path = str(folder / "store.db")
        store.init_database(self.path, settle=_keep_identity)

    def connect(self) -> store.Connection:
        return store.open_db(self.path)


class PostgresBackend:
    def __init__(self, url: str) -> None:
        self.url = url
        store.init_database(url, settle=_keep_identity)

    def connect(self) -> store.Connection:
        return store.open_db(self.url)


BACKENDS = ("postgresql", "sqlite")


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path):
    if request.param == "postgresql":
        return PostgresBackend(request.getfixturevalue("postgres_url"))
    return SqliteBackend(tmp_path)


@pytest.fixture
def db(backend) -> Iterator[store.Connection]:
    connection = backend.connect()
    yield connection
    connection.close()


@pytest.fixture
def other(backend) -> Iterator[store.Connection]:
    """A second connection to the same database (another thread or process)."""
    connection = backend.connect()
    yield connection
    connection.close()


@pytest.fixture
def resource_id(db) -> str:
    """A stored resource's id, for the tests that book."""
    resource = records.resource()
    with store.transaction(db):
        store.insert_resource(db, resource)
    return resource["id"]
