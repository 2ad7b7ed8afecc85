"""Shared fixtures: a fresh file database per test, keys by scope, factories, error assertions."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from app import create_app, store
from app.core.ids import new_id
from app.core.times import parse_instant, wall_ms
from app.store.postgres import PostgresConnection
from app.web.auth import create_key

# PostgreSQL fixtures (a throw-away server per session) live beside these.
pytest_plugins = ["tests.postgres_fixtures"]


def pytest_configure(config: pytest.Config) -> None:
    """The per-user folders (platformdirs: data, logs, the settings file) of a scratch home,
    for this process and every `booking` it starts: no test reads or writes the real ones."""
    home = tempfile.mkdtemp(prefix="booking-test-home-")
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        os.environ[name] = os.path.join(home, name.lower())


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--backend",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="Where the app under test keeps its data: a SQLite file, or a PostgreSQL database "
        "of the suite's throw-away server (the hub on PostgreSQL, HUB.md).",
    )


@pytest.fixture
def db_path(request, tmp_path) -> str:
    """The app's --db: a fresh SQLite file, or with --backend=postgresql a fresh database."""
    if request.config.getoption("--backend") == "postgresql":
        return request.getfixturevalue("postgres_url")
    return str(tmp_path / "test.db")


@pytest.fixture
def app(db_path):
    application = create_app({"TESTING": True, "DB": db_path})
    yield application
    store.close_thread_connections()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app, db_path):
    database = store.open_db(db_path)
    yield database
    database.close()


@pytest.fixture
def make_key(db):
    """Factory: an API key's bearer headers for the given scopes and limits."""

    def make(*scopes: str, rate_limit: str = "600/minute", tokens: int | None = None) -> dict:
        _, key = create_key(
            db, name="test", scopes=list(scopes), rate_limit=rate_limit, tokens=tokens
        )
        return {"Authorization": f"Bearer {key}"}

    return make


@pytest.fixture
def admin_headers(make_key) -> dict[str, str]:
    return make_key("booking:admin")


@pytest.fixture
def write_headers(make_key) -> dict[str, str]:
    return make_key("booking:write")


@pytest.fixture
def read_headers(make_key) -> dict[str, str]:
    return make_key("booking:read")


@pytest.fixture
def make_customer(client, admin_headers):
    """Factory: a customer made through the real API, with keyword overrides."""

    def make(**overrides: Any) -> dict[str, Any]:
        body = {"name": "Ada Lovelace", **overrides}
        response = client.post("/modules/booking/customers", json=body, headers=admin_headers)
        assert response.status_code == 201, response.json
        return response.json["data"]

    return make


@pytest.fixture
def make_resource(client, admin_headers):
    """Factory: a resource made through the real API, with keyword overrides."""

    def make(**overrides: Any) -> dict[str, Any]:
        body = {"name": "Chair 1", **overrides}
        response = client.post("/modules/booking/resources", json=body, headers=admin_headers)
        assert response.status_code == 201, response.json
        return response.json["data"]

    return make


@pytest.fixture
def book(client, write_headers):
    """POST a booking of `minutes` on a resource; returns the response, whatever it is."""

    def post(resource_id: str, start_time: str, minutes: int = 60):
        body = {"resource_id": resource_id, "start_time": start_time, "duration_minutes": minutes}
        return client.post("/modules/booking/bookings", json=body, headers=write_headers)

    return post


@pytest.fixture
def booked(book):
    """A booking that must succeed; returns its data."""

    def make(resource_id: str, start_time: str, minutes: int = 60) -> dict[str, Any]:
        response = book(resource_id, start_time, minutes)
        assert response.status_code == 201, response.json
        return response.json["data"]

    return make


def assert_error(response, status: int, code: str) -> dict[str, Any]:
    """The response is the spec's error envelope with this status and code; returns `error`."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.json
    assert body["status"] == "error", body
    error = body["error"]
    assert error["code"] == code, body
    assert error["message"], body
    return error


def snapshot(db) -> dict[str, Any]:
    """Row counts of every table, the newest change-log row, and a digest of record contents."""
    tables = [
        row[0]
        for row in db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_name <> 'alembic_version'"
            if isinstance(db, PostgresConnection)
            else "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    state: dict[str, Any] = {}
    for table in tables:
        if table == "api_keys":  # token balances legitimately move on every request
            state[table] = db.execute("SELECT COUNT(*) FROM api_keys").fetchone()[0]
            continue
        state[table] = sorted(db.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
    return state


@contextmanager
def unchanged(db) -> Iterator[None]:
    """Assert the block changes no record and appends no change-log row."""
    before = snapshot(db)
    yield
    assert snapshot(db) == before


def store_blocker(db, resource_id: str, start: str, end: str, recurrence: dict | None) -> None:
    """A blocker written straight to the database, as one stored before the bounds existed."""
    now = wall_ms()
    blocker = {
        "id": new_id("blk"),
        "resource_id": resource_id,
        "title": "old",
        "start_time": parse_instant(start),
        "end_time": parse_instant(end),
        "all_day": False,
        "recurrence": recurrence,
        "metadata": {},
        "created_at": now,
        "updated_at": now,
    }
    with store.transaction(db):
        store.insert_blocker(db, blocker)
