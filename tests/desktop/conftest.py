"""Fixtures for the desktop-application features: `booking` in-process on a test database."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from app import store
from app.cli import cli
from app.settings import SETTINGS
from migrations.migrations import migrations


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={f"BOOKING_{name}": None for name in SETTINGS})


@pytest.fixture
def booking(runner, db_path):
    """`booking ARGS --db <test db>` in-process; checks the exit status unless ok=False."""

    def run(*args: str, ok: bool = True, env: dict | None = None):
        result = runner.invoke(cli, [*args, "--db", db_path], env=env)
        if ok:
            assert result.exit_code == 0, (result.output, result.exception)
        return result

    return run


def add_customer(db_path: str, name: str) -> None:
    """A customer written through the app's own client, as the API would."""
    from app import create_app

    app = create_app({"TESTING": True, "DB": db_path})
    db = store.open_db(db_path)
    try:
        from app.web.auth import create_key

        _, key = create_key(db, name="t", scopes=["booking:admin"], rate_limit="600/minute")
    finally:
        db.close()
    response = app.test_client().post(
        "/modules/booking/customers",
        json={"name": name},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 201, response.json
    store.close_thread_connections()


def customer_names(db_path: str) -> list[str]:
    connection = sqlite3.connect(db_path)
    try:
        return sorted(row[0] for row in connection.execute("SELECT name FROM customers"))
    finally:
        connection.close()


def older_database(path: str) -> str:
    """A database as the version before the newest migration left it; the migration's name."""
    last = [migration.name for migration in migrations._migrations][-1]
    db = Database(path)  # as the older version's migrations saw it: sqlite-utils' own
    try:
        db.enable_wal()
        migrations.apply(db, stop_before=last)
    finally:
        db.close()
    return last


def applied(path: str) -> set[str]:
    """The names of the migrations the database at `path` has had."""
    connection = sqlite3.connect(path)
    try:
        return {row[0] for row in connection.execute("SELECT name FROM _sqlite_migrations")}
    finally:
        connection.close()
