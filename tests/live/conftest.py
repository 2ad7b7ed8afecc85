"""Fixtures for tests against a real `booking serve` subprocess (see tests/live/server.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.live.server import LiveServer


@pytest.fixture
def start_live_server(tmp_path) -> Iterator[Callable[..., LiveServer]]:
    """Factory: start_live_server(*extra_args, db_path=None, **kwargs) -> a started LiveServer.

    Every server it starts is stopped at teardown, even when the test fails.
    """
    started: list[LiveServer] = []

    def start(*extra_args: str, db_path: str | None = None, **kwargs) -> LiveServer:
        server = LiveServer(db_path or str(tmp_path / "live.db"), *extra_args, **kwargs)
        started.append(server)
        return server.start()

    yield start
    for server in reversed(started):
        server.stop()


@pytest.fixture
def live_server(start_live_server) -> LiveServer:
    """A started `booking serve` on a fresh database in tmp_path; stopped after the test."""
    return start_live_server()
