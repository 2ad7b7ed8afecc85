"""Fixtures for tests against a real `booking serve` subprocess (see tests/live/server.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.live.server import LiveServer


@pytest.fixture
def hub_db(request, tmp_path) -> str:
    """The --db of a test's hub: `hub.db` in tmp_path, or with --backend=postgresql a fresh
    database of the suite's PostgreSQL server (the hub on PostgreSQL; laptops stay on files)."""
    if request.config.getoption("--backend") == "postgresql":
        return request.getfixturevalue("postgres_url")
    return str(tmp_path / "hub.db")


@pytest.fixture
def start_live_server(request, tmp_path) -> Iterator[Callable[..., LiveServer]]:
    """Factory: start_live_server(*extra_args, db_path=None, **kwargs) -> a started LiveServer.

    Its database is `live.db` in tmp_path, or with --backend=postgresql a fresh PostgreSQL
    database, unless `db_path` names one. Every server it starts is stopped at teardown, even
    when the test fails.
    """
    started: list[LiveServer] = []
    default: list[str] = []

    def start(*extra_args: str, db_path: str | None = None, **kwargs) -> LiveServer:
        if db_path is None and not default:
            on_postgres = request.config.getoption("--backend") == "postgresql"
            default.append(
                request.getfixturevalue("postgres_url")
                if on_postgres
                else str(tmp_path / "live.db")
            )
        server = LiveServer(db_path or default[0], *extra_args, **kwargs)
        started.append(server)
        return server.start()

    yield start
    for server in reversed(started):
        server.stop()


@pytest.fixture
def live_server(start_live_server) -> LiveServer:
    """A started `booking serve` on a fresh database in tmp_path; stopped after the test."""
    return start_live_server()
