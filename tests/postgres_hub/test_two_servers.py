"""Two `booking serve` processes on one PostgreSQL hub database, as HUB.md allows; a SQLite
file still takes one server only."""

from __future__ import annotations

import pytest

from tests.live.server import LiveServer, ServerError


def test_two_servers_start_on_one_postgresql_database_and_both_answer(postgres_url, tmp_path):
    env = {"BOOKING_LOG_DIR": str(tmp_path / "logs"), "BOOKING_BACKUP_DIR": str(tmp_path)}
    with LiveServer(postgres_url, env=env) as first, LiveServer(postgres_url, env=env) as second:
        second.admin_key = first.admin_key  # the first start made it; the second found it
        for server in (first, second):
            assert server.request("GET", "/healthz").status_code == 200
        created = first.request("POST", "/modules/booking/resources", json={"name": "Chair"})
        resource_id = created.json()["data"]["id"]
        seen = second.request("GET", f"/modules/booking/resources/{resource_id}")
        assert seen.json()["data"]["name"] == "Chair"


def test_a_second_server_on_one_sqlite_file_is_still_refused(tmp_path):
    with LiveServer(tmp_path / "hub.db"):
        with pytest.raises(ServerError) as refused:
            LiveServer(tmp_path / "hub.db").start()
    assert "cannot start a second server on it" in str(refused.value)
