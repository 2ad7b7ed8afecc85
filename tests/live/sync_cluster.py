"""Helpers for live sync tests: a hub and nodes as real `booking serve` processes, the real
`booking` CLI as subprocesses, and read-only looks at their SQLite files.

Every wait is a bounded poll; nothing sleeps for a fixed long time.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from app import store
from app.core.ids import new_id
from app.core.times import wall_ms
from app.store.postgres import is_postgres
from app.web.models.customers import CustomerCreate
from sync import identity
from tests.live.server import PROJECT_ROOT, LiveServer

BOOKINGS = "/modules/booking/bookings"
CUSTOMERS = "/modules/booking/customers"
RESOURCES = "/modules/booking/resources"
CLI_TIMEOUT = 60.0  # seconds for one `booking ...` command
CONVERGE_TIMEOUT = 30.0  # seconds for a hub and its nodes to agree
POLL = 0.1  # seconds between two looks
# Tests poll the API often; the admin key `booking serve` makes must not throttle them.
SERVER_ENV = {"BOOKING_DEFAULT_RATE_LIMIT": "100000/minute"}


def cli_env() -> dict[str, str]:
    """The environment of a `booking` subprocess: none of the calling shell's BOOKING_*."""
    return {k: v for k, v in os.environ.items() if not k.startswith("BOOKING_")}


def run_cli(*args: str, timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess[str]:
    """`python -m app *args` to completion, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=PROJECT_ROOT,
        env=cli_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def make_key(hub_db: str, name: str, scopes: str = "sync") -> str:
    """`booking keys create` on the hub's database; the key is the last line of stdout."""
    done = run_cli("keys", "create", "--db", hub_db, "--name", name, "--scopes", scopes)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def query(db_path: str, sql: str, params: tuple | list = ()) -> list[tuple]:
    """Rows of one read on a database file, or a hub's PostgreSQL database (another process
    may be writing it)."""
    if is_postgres(db_path):
        db = store.open_db(db_path)
        try:
            return [tuple(row) for row in db.execute(sql, params).fetchall()]
        finally:
            db.close()
    with closing(sqlite3.connect(db_path, timeout=10)) as conn:
        return conn.execute(sql, params).fetchall()


def seed_customers(db_path: str, count: int, prefix: str) -> str:
    """Create (or migrate) the database and write `count` customers, each with its change row,
    in one transaction through app.store; return the database's node id."""
    node = identity.init_database(db_path)
    db = store.open_db(db_path)
    try:
        now = wall_ms()
        with store.transaction(db):
            organization = store.organization_id(db)
            for number in range(count):
                fields = CustomerCreate(name=f"{prefix} {number:05d}").model_dump()
                store.insert_customer(
                    db,
                    {
                        "id": new_id("cus"),
                        **fields,
                        "created_at": now,
                        "updated_at": now,
                        "organization_id": organization,
                    },
                )
    finally:
        db.close()
    return node


def wait_for(check: Callable[[], Any], *, timeout: float, what: str, interval: float = POLL):
    """Poll `check()` until it returns something truthy (returned); fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"Not {what} within {timeout:.0f} s.")
        time.sleep(interval)


# --- servers ------------------------------------------------------------------------------------


class Servers:
    """Makes LiveServers (not started) and stops every one of them at teardown."""

    def __init__(self) -> None:
        self.made: list[LiveServer] = []

    def new(self, db_path: str | Path, *args: str, port: int | None = None) -> LiveServer:
        server = LiveServer(str(db_path), *args, env=SERVER_ENV)
        if port is not None:
            server.port = port
        self.made.append(server)
        return server

    def restart(self, old: LiveServer) -> LiveServer:
        """A new `booking serve` on the stopped one's database, port and arguments."""
        old.stop()
        server = self.new(old.db_path, *old.extra_args, port=old.port)
        server.start()
        assert server.port == old.port, "the port was taken while the server was down"
        # A database that has keys prints none: keep using the first start's admin key.
        server.admin_key = server.admin_key or old.admin_key
        return server

    def stop_all(self) -> None:
        for server in reversed(self.made):
            server.stop()


def node_args(hub: LiveServer, key: str) -> tuple[str, ...]:
    return ("--hub", hub.url, "--hub-key", key, "--sync-interval", "1")


# --- the API ------------------------------------------------------------------------------------


def post(server: LiveServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = server.request("POST", path, json=body)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def list_all(server: LiveServer, path: str) -> list[dict[str, Any]]:
    """Every item of a paginated list, following next_cursor."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    for _ in range(1000):
        response = server.request("GET", path, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["data"])
        if not body["meta"]["has_more"]:
            return items
        params["cursor"] = body["meta"]["next_cursor"]
    raise AssertionError(f"{path} never ended")


def sync_status(server: LiveServer) -> dict[str, Any]:
    response = server.request("GET", "/sync/status")
    assert response.status_code == 200, response.text
    return response.json()["data"]


def snapshot(server: LiveServer) -> dict[str, Any]:
    """What must be identical on every replica once synced."""
    anomalies = server.request("GET", "/sync/anomalies")
    assert anomalies.status_code == 200, anomalies.text
    return {
        "customers": list_all(server, CUSTOMERS),
        "resources": list_all(server, RESOURCES),
        "bookings": list_all(server, BOOKINGS),
        "anomalies": anomalies.json()["data"],
    }


def wait_converged(
    servers: list[LiveServer],
    expect: Callable[[dict[str, Any]], bool],
    *,
    timeout: float = CONVERGE_TIMEOUT,
) -> dict[str, Any]:
    """Wait until every server shows the same snapshot and `expect(snapshot)` holds."""
    last: list[dict[str, Any]] = []

    def agreed() -> dict[str, Any] | None:
        last[:] = [snapshot(server) for server in servers]
        if all(shot == last[0] for shot in last) and expect(last[0]):
            return last[0]
        return None

    try:
        return wait_for(agreed, timeout=timeout, what="converged", interval=0.25)
    except AssertionError:
        described = "\n".join(
            f"{server.url}: {shot}\n--- its log, last lines ---\n{_log_tail(server)}"
            for server, shot in zip(servers, last, strict=True)
        )
        raise AssertionError(f"Not converged within {timeout:.0f} s:\n{described}") from None


def _log_tail(server: LiveServer, lines: int = 25) -> str:
    """The end of a server's stderr, where its sync worker says why it did not sync."""
    return "\n".join(server.read_output()[1].splitlines()[-lines:])


def ids(items: list[dict[str, Any]]) -> set[str]:
    return {item["id"] for item in items}
