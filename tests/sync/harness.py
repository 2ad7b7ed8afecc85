"""In-process sync: a hub app and node apps in one test, HubClient talking to Flask clients."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app import create_app, store
from app.web.auth import create_key
from sync.client import HubClient
from sync.engine import sync_once


class FlaskTransport:
    """Enough of requests.Session for HubClient, served by a Flask test client.

    `drop_next` makes the next call's answer vanish after the hub handled it, as a lost
    response on a flaky network would; `deliver_before_drop` lets that many answers through
    first, so a sync can be cut off in the middle of its pull.
    """

    def __init__(self, app) -> None:
        self.client = app.test_client()
        self.drop_next = 0
        self.deliver_before_drop = 0
        self.calls = 0

    def request(
        self, method: str, url: str, *, headers, timeout, json=None, params=None, data=None
    ):
        path = urlsplit(url).path
        response = self.client.open(
            path, method=method, json=json, data=data, query_string=params, headers=headers
        )
        self.calls += 1
        if self.drop_next and self.deliver_before_drop:
            self.deliver_before_drop -= 1
        elif self.drop_next:
            self.drop_next -= 1
            import requests

            raise requests.ConnectionError("answer lost (test)")
        return _Response(response)


class _Response:
    def __init__(self, response) -> None:
        self.status_code = response.status_code
        self.headers = response.headers
        self._json = response.get_json(silent=True)
        self.content = response.get_data()

    def json(self) -> Any:
        if self._json is None:
            raise ValueError("no JSON")
        return self._json


# Set by tests/sync/conftest.py under --backend=postgresql: a new database's URL per call. A
# replica whose name starts with "hub" then lives there (the hub on PostgreSQL, HUB.md) while
# the laptops stay on SQLite files, as they do in a shop.
hub_databases: Callable[[], str] | None = None


def _target(folder: Path, name: str) -> str:
    if name.startswith("hub") and hub_databases is not None:
        return hub_databases()
    return str(folder / f"{name}.db")


class Replica:
    """One database with its app and an admin key; a node also has a client for the hub."""

    def __init__(self, folder: Path, name: str, target: str | None = None) -> None:
        self.name = name
        self.folder = folder
        self.path = target or _target(folder, name)
        self.app = create_app({"TESTING": True, "DB": self.path})
        self.db = store.open_db(self.path)
        _, key = create_key(
            self.db, name=name, scopes=["booking:admin"], rate_limit="1000000/minute"
        )
        self.headers = {"Authorization": f"Bearer {key}"}
        self.client = self.app.test_client()
        self.hub_client: HubClient | None = None
        self.transport: FlaskTransport | None = None

    def connect(self, hub: Replica) -> None:
        _, key = create_key(
            hub.db, name=f"sync-{self.name}", scopes=["sync"], rate_limit="1000000/minute"
        )
        self.transport = FlaskTransport(hub.app)
        self.hub_client = HubClient("http://hub", key, session=self.transport)

    def sync(self, **kwargs):
        assert self.hub_client is not None
        return sync_once(self.db, self.hub_client, **kwargs)

    def call(self, method: str, path: str, body: dict | None = None):
        response = self.client.open(path, method=method, json=body, headers=self.headers)
        return response

    def close(self) -> None:
        self.db.close()

    def reopen(self) -> Replica:
        """Close this replica and open its file again, as `booking serve` after a restart (on
        whatever file is now at its path), talking to the hub with the same client and key."""
        self.close()
        store.close_thread_connections()
        replica = Replica(self.folder, self.name, target=self.path)
        replica.hub_client, replica.transport = self.hub_client, self.transport
        return replica


def exported_state(replica: Replica) -> dict[str, Any]:
    """Everything a user could see, in a form that must be equal on converged replicas."""
    db = replica.db
    state: dict[str, Any] = {}
    tables = (
        "customers",
        "resources",
        "blockers",
        "services",
        "bookings",
        "anomalies",
        "tombstones",
    )
    for table in tables:
        # Named columns: a hub on PostgreSQL has the same ones, not always in the same order.
        columns = ", ".join(sorted(db.table_columns(table)))
        rows = db.execute(f"SELECT {columns} FROM {table}").fetchall()
        state[table] = sorted(rows, key=repr)
    events = db.execute(
        "SELECT id, booking_id, type, from_status, to_status, actor, data, occurred_at, node_id, "
        "hlc, applied, anomaly FROM booking_events"
    ).fetchall()
    state["booking_events"] = sorted(events, key=repr)
    return state


# --- helpers for the sync suites ----------------------------------------------------------------

BOOKINGS = "/modules/booking/bookings"
CUSTOMERS = "/modules/booking/customers"
RESOURCES = "/modules/booking/resources"
BLOCKERS = "/modules/booking/blockers"
SERVICES = "/modules/booking/services"


def expect(replica: Replica, method: str, path: str, body: dict | None = None, status: int = 200):
    """Call the replica's API, insist on `status`, and return the answer's `data`."""
    response = replica.call(method, path, body)
    assert response.status_code == status, (replica.name, path, response.get_json())
    return response.get_json()["data"]


def hub_client_for(node: Replica, hub: Replica) -> HubClient:
    """Another HubClient for `node`, with its own sync key, talking to `hub` (not bound yet)."""
    _, key = create_key(
        hub.db, name=f"sync-{node.name}-extra", scopes=["sync"], rate_limit="1000000/minute"
    )
    return HubClient("http://hub", key, session=FlaskTransport(hub.app))


def settle(nodes: list[Replica], max_rounds: int = 6) -> int:
    """Sync every node in turn until a whole round moves nothing; returns the rounds run."""
    for round_number in range(1, max_rounds + 1):
        moved = 0
        for node in nodes:
            report = node.sync()
            moved += report.pushed + report.applied
        if not moved:
            return round_number
    raise AssertionError(f"the replicas still exchange changes after {max_rounds} rounds")


def change_ids(replica: Replica) -> set[str]:
    """Every change the replica holds, made here or elsewhere."""
    rows = replica.db.execute("SELECT origin_node, origin_seq FROM change_log").fetchall()
    return {f"{node}:{seq}" for node, seq in rows}


def anomalies(replica: Replica) -> list[dict[str, Any]]:
    """What GET /sync/anomalies lists on this replica."""
    return expect(replica, "GET", "/sync/anomalies")


def node_clock(replica: Replica) -> str | None:
    """The replica's last HLC stamp (node_meta 'hlc')."""
    return store.meta(replica.db, "hlc")


class SteppedClock:
    """The wall clock app.store.changelog stamps HLCs with, moved only by the test.

    It starts a second past the real clock, so it is ahead of every stamp made so far;
    `at(ms)` sets it `ms` past that start (more than five minutes makes stamps suspect).
    """

    def __init__(self, monkeypatch) -> None:
        from app.core.times import wall_ms

        self.start = wall_ms() + 1_000
        self.now = self.start
        monkeypatch.setattr("app.store.changelog.wall_ms", lambda: self.now)

    def at(self, offset_ms: int) -> None:
        self.now = self.start + offset_ms
