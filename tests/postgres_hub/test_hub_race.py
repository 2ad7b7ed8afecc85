"""Two `booking serve` hub processes on one PostgreSQL database, laptops racing through both.

The late-commit trap made to happen (HUB.md): one push's transaction is held open on the
database (a slow hub process) after it took its change-log positions, while laptops push to
and pull from both hub processes at once and their transactions commit. That held push also
holds one side of an offline double booking whose other side arrives, meanwhile, at another
process. In the end every laptop holds exactly what the hub holds, table by table, and each
double booking has the same single winner everywhere: the booking made first.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest

from app import store
from app.store import changelog
from app.web.auth import create_key
from sync import service
from sync.client import HubClient
from sync.engine import sync_once
from tests.live.server import LiveServer
from tests.postgres_hub.live_hub import hub_env
from tests.sync.harness import BOOKINGS, CUSTOMERS, RESOURCES, Replica, expect

pytestmark = pytest.mark.live

HELD_S = 3.0  # how long the slow push's transaction stays open (the server kills it at 10 s)
MAX_ROUNDS = 8  # final sync rounds before the laptops must have stopped exchanging changes
# Everything a user sees, synced between replicas; and the change log's synced columns.
SYNCED_TABLES = (
    "customers", "resources", "blockers", "services", "bookings", "anomalies", "tombstones",
    "booking_events",
)  # fmt: skip
CHANGE_COLUMNS = ("origin_node", "origin_seq", "hlc", "entity", "entity_id", "op", "payload")


class Laptop:
    """A shop laptop on SQLite, syncing with either hub process under one sync key."""

    def __init__(
        self, folder: Path, name: str, key: str, hubs: list[LiveServer], first_hub: int
    ) -> None:
        self.replica = Replica(folder, name)
        self.name = name
        self.path = self.replica.path
        self.clients = [HubClient(hub.url, key) for hub in hubs]
        self.rounds = first_hub  # the round number picks the hub process

    def book(self, resource_id: str, start_time: str) -> dict[str, Any]:
        body = {"resource_id": resource_id, "start_time": start_time}
        return expect(self.replica, "POST", BOOKINGS, body, status=201)

    def sync(self) -> int:
        """One sync round with the next hub process in turn; what moved (pushed + applied)."""
        client = self.clients[self.rounds % len(self.clients)]
        self.rounds += 1
        db = store.open_db(self.path)  # this thread's own connection (sqlite3's rule)
        try:
            report = sync_once(db, client)
        finally:
            db.close()
        return report.pushed + report.applied


@pytest.fixture
def hubs(postgres_url: str, tmp_path: Path) -> Iterator[list[LiveServer]]:
    """Two `booking serve` processes on one fresh PostgreSQL database."""
    first = LiveServer(postgres_url, env=hub_env(tmp_path)).start()
    second = LiveServer(postgres_url, env=hub_env(tmp_path))
    try:
        second.start()
        second.admin_key = first.admin_key  # one database: the first start made its admin key
        yield [first, second]
    finally:
        for server in (first, second):
            server.stop()
            assert "Exception on /" not in server.read_output()[1], server.read_output()[1]


@pytest.fixture
def hub_db(postgres_url: str) -> Iterator[store.Connection]:
    db = store.open_db(postgres_url)
    yield db
    db.close()


def _sync_key(hub_db: store.Connection, name: str) -> tuple[str, str]:
    record, key = create_key(hub_db, name=name, scopes=["sync"], rate_limit="1000000/minute")
    return record["id"], key


def _all_at_once(laptops: list[Laptop]) -> int:
    with ThreadPoolExecutor(len(laptops)) as pool:
        return sum(pool.map(Laptop.sync, laptops))


def _settle(laptops: list[Laptop]) -> None:
    """Rounds of every laptop syncing at once, until a whole round moves nothing."""
    for _round in range(MAX_ROUNDS):
        if _all_at_once(laptops) == 0:
            return
    raise AssertionError(f"the laptops still exchange changes after {MAX_ROUNDS} rounds")


def _sqlite_columns(path: str, table: str) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def _synced_rows(read, path: str) -> dict[str, list[tuple]]:
    """Every synced table's rows, in the column names of the laptop's schema, sorted."""
    rows: dict[str, list[tuple]] = {}
    for table in SYNCED_TABLES:
        columns = _sqlite_columns(path, table)
        rows[table] = sorted(read(f"SELECT {', '.join(columns)} FROM {table}"), key=repr)
    rows["change_log"] = sorted(read(f"SELECT {', '.join(CHANGE_COLUMNS)} FROM change_log"))
    return rows


def _laptop_rows(laptop: Laptop) -> dict[str, list[tuple]]:
    with closing(sqlite3.connect(laptop.path)) as conn:
        return _synced_rows(lambda sql: conn.execute(sql).fetchall(), laptop.path)


def _hub_rows(url: str, like: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        return _synced_rows(lambda sql: conn.execute(sql).fetchall(), like)


def _active_at(rows: dict[str, list[tuple]], path: str, booking_ids: set[str]) -> list[str]:
    columns = _sqlite_columns(path, "bookings")
    id_at, status_at = columns.index("id"), columns.index("status")
    return sorted(
        row[id_at]
        for row in rows["bookings"]
        if row[id_at] in booking_ids and row[status_at] in ("pending", "confirmed")
    )


def test_laptops_racing_through_two_hub_processes_converge_with_one_winner_per_slot(
    tmp_path, hubs, hub_db, postgres_url
):
    keys = [_sync_key(hub_db, f"sync-{name}") for name in ("ann", "ben", "cat", "dan")]
    laptops = [
        Laptop(tmp_path, name, key, hubs, first_hub=number)
        for number, (name, (_key_id, key)) in enumerate(
            zip(("ann", "ben", "cat", "dan"), keys, strict=True)
        )
    ]
    ann, ben, cat, dan = laptops
    chairs = [
        expect(ann.replica, "POST", RESOURCES, {"name": f"Chair {n}"}, status=201)
        for n in (1, 2, 3)
    ]
    ann.sync()
    for laptop in (ben, cat, dan):
        laptop.sync()

    # Offline: dan books chair 1 first, ben the same slot later; ann and cat both book chair
    # 2's slot (ann first). Everyone also does ordinary work.
    dan_first = dan.book(chairs[0]["id"], "2030-01-07T10:00:00Z")
    dan_customer = expect(dan.replica, "POST", CUSTOMERS, {"name": "Late Lee"}, status=201)
    ann_first = ann.book(chairs[1]["id"], "2030-01-07T12:00:00Z")
    ben_later = ben.book(chairs[0]["id"], "2030-01-07T10:30:00Z")
    cat_later = cat.book(chairs[1]["id"], "2030-01-07T12:15:00Z")
    for laptop in laptops:
        expect(laptop.replica, "POST", CUSTOMERS, {"name": f"Walk-in {laptop.name}"}, 201)
    # The hub's clock moves past dan's stamps, so applying dan's push moves no clock.
    hubs[0].request("POST", RESOURCES, json={"name": "Chair 4"}).raise_for_status()

    # A third hub session applies dan's push and holds its transaction open: its change-log
    # rows have their positions, and chair 1 is held, but nothing is committed yet.
    dan_key_id = keys[3][0]
    dan_push = service.Push(
        node_id=store.node_id(dan.replica.db), changes=changelog.own_pending(dan.replica.db, 0, 500)
    )
    racers = [ann, ben, cat]
    pool = ThreadPoolExecutor(len(racers))
    try:
        with hub_db.transaction():
            service.push(hub_db, dan_push, key_id=dan_key_id)
            started = time.monotonic()
            rounds = [pool.submit(_racing_rounds, laptop, started) for laptop in racers]
            time.sleep(HELD_S)
            # ben's push waits for chair 1; the others commit and pull meanwhile.
            assert not rounds[1].done(), "ben's push settled chair 1 without waiting"
            committed_meanwhile = _bookings_on_hub(postgres_url, {ann_first["id"], cat_later["id"]})
        # dan's transaction commits here, late: after the racers' later ones.
        moved_while_held = sum(future.result(timeout=60) for future in rounds)
    finally:
        pool.shutdown()
    assert committed_meanwhile == 2, "ann's and cat's pushes did not commit while dan's was held"
    assert moved_while_held > 0

    _settle(laptops)

    first_path = ann.path
    hub_rows = _hub_rows(postgres_url, first_path)
    for laptop in laptops:
        assert _laptop_rows(laptop) == hub_rows, f"{laptop.name} differs from the hub"
    slots = {dan_first["id"], ben_later["id"]}, {ann_first["id"], cat_later["id"]}
    for rows, path in [(hub_rows, first_path)] + [(_laptop_rows(lt), lt.path) for lt in laptops]:
        assert _active_at(rows, path, slots[0]) == [dan_first["id"]]
        assert _active_at(rows, path, slots[1]) == [ann_first["id"]]
    customer_ids = {row[0] for row in hub_rows["customers"]}
    assert dan_customer["id"] in customer_ids  # the change that committed late reached everyone
    changes = hub_rows["change_log"]
    assert len(changes) == len({(row[0], row[1]) for row in changes})  # each applied once


def _racing_rounds(laptop: Laptop, started: float) -> int:
    """Sync rounds against both hub processes while dan's push is held open, with a write
    between rounds; the first round begins at once."""
    moved = 0
    number = 0
    while time.monotonic() - started < HELD_S or number < 2:
        number += 1
        body = {"name": f"{laptop.name} while held {number}"}
        client = laptop.replica.app.test_client()
        response = client.post(CUSTOMERS, json=body, headers=laptop.replica.headers)
        assert response.status_code == 201, response.get_json()
        moved += laptop.sync()
    store.close_thread_connections()
    return moved


def _bookings_on_hub(url: str, booking_ids: set[str]) -> int:
    """How many of these bookings the hub has committed, seen from a session of its own."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM bookings WHERE id = ANY(%s)", [sorted(booking_ids)]
        ).fetchone()
    return row[0]
