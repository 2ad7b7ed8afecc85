"""Under --backend=postgresql the sync suites' hubs live on PostgreSQL, the laptops on files."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app import store
from app.store import postgres
from tests.postgres_fixtures import TEMPLATE
from tests.sync import harness


@pytest.fixture(autouse=True)
def hubs_on_the_chosen_backend(request) -> Iterator[None]:
    """Each hub replica a test makes gets a fresh database of the session's server; every one
    is dropped after the test."""
    if request.config.getoption("--backend") != "postgresql":
        yield
        return
    server = request.getfixturevalue("postgres_server")
    made: list[str] = []

    def new_database() -> str:
        made.append(server.create_database(template=TEMPLATE))
        return made[-1]

    harness.hub_databases = new_database
    try:
        yield
    finally:
        harness.hub_databases = None
        store.close_thread_connections()
        for url in made:
            postgres.close_pools(url)
            server.drop_database(url.rsplit("/", 1)[1])
