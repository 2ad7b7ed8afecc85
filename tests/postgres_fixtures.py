"""pytest fixtures for a hub on PostgreSQL: one throw-away server per test session, a fresh
database per test (copied from a migrated template, about 0.1 s), and a private server for a
test that stops and restarts it.

A test that asks for PostgreSQL and cannot get one errors with what is missing: never skipped.
"""

from __future__ import annotations

import atexit
from collections.abc import Iterator

import pytest

from app.store import postgres
from app.store.postgres_schema import migrate
from tests.postgres import ThrowawayServer

TEMPLATE = "booking_template"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[ThrowawayServer]:
    """The session's PostgreSQL server, with a template database at the newest schema."""
    server = ThrowawayServer()
    atexit.register(server.destroy)  # also when pytest is interrupted before the teardown
    server.start()
    try:
        migrate(server.create_database(name=TEMPLATE))
        yield server
    finally:
        server.destroy()


@pytest.fixture
def postgres_url(postgres_server: ThrowawayServer) -> Iterator[str]:
    """A fresh database at the newest schema, dropped after the test."""
    url = postgres_server.create_database(template=TEMPLATE)
    yield url
    postgres.close_pools(url)
    postgres_server.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture
def private_postgres() -> Iterator[ThrowawayServer]:
    """A server of this test's own, which the test may stop and start (a lost database)."""
    server = ThrowawayServer()
    atexit.register(server.destroy)
    server.start()
    try:
        yield server
    finally:
        server.destroy()
