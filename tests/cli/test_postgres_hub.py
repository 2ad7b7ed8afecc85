"""`booking init`, `init --from`, `backup`, `status`, `restore` and `serve` on a hub on PostgreSQL,
run as a person runs them: `booking` processes, against the suite's throw-away server.

Every refusal is one sentence on stderr, exit status 1, no traceback, and changes nothing.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests
from click.testing import CliRunner

from app import create_app, store
from app.cli import cli
from app.ops import lock
from app.store import postgres
from app.store.bookings import slot_lock
from app.store.postgres_schema import migrate
from app.web.auth import create_key
from sync.client import HubClient
from tests.live.server import PROJECT_ROOT, LiveServer
from tests.live.sync_cluster import cli_env
from tests.sync.harness import (
    BOOKINGS,
    CUSTOMERS,
    RESOURCES,
    FlaskTransport,
    Replica,
    exported_state,
    settle,
)
from tests.ui.conftest import Desk

pytestmark = pytest.mark.live
SECRET = "s3cret-pw"  # the test server trusts every login; the password must never be shown


def booking(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`booking ARGS` to completion, as a separate process, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=PROJECT_ROOT,
        env={**cli_env(), **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def refused(done: subprocess.CompletedProcess[str], *mentions: str) -> str:
    """The command failed as a user mistake should: exit 1, one sentence, no traceback."""
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    message = done.stderr.strip()
    assert message.startswith("Error: ") and len(message.splitlines()) == 1, message
    for mention in mentions:
        assert mention in message, message
    return message


def with_password(url: str) -> str:
    return url.replace("postgres@", f"postgres:{SECRET}@", 1)


def rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


# --- booking init ------------------------------------------------------------------------------


def test_init_prepares_the_hub_database_and_prints_its_node_id_without_the_password(
    postgres_url,
):
    url = with_password(postgres_url)
    first = booking("init", "--db", url)
    assert first.returncode == 0, first.stderr
    assert SECRET not in first.stdout + first.stderr
    assert f"Database ready at {postgres_url.replace('postgres@', 'postgres:***@')}" in first.stdout
    node = first.stdout.strip().splitlines()[-1].removeprefix("Node id: ")
    assert rows(postgres_url, "SELECT value FROM node_meta WHERE key = 'node_id'") == [(node,)]

    again = booking("init", "--db", url, env={"BOOKING_DB": "ignored.db"})
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == f"Node id: {node}"  # safe to run again


def test_init_reads_the_url_from_booking_db(postgres_url):
    done = booking("init", env={"BOOKING_DB": postgres_url})
    assert done.returncode == 0, done.stderr
    assert rows(postgres_url, "SELECT COUNT(*) FROM node_meta WHERE key = 'node_id'") == [(1,)]


@pytest.mark.parametrize(
    ("url", "mentions"),
    [
        ("postgresql://booking@db.example:port/hub", ("is not valid", "port", "postgresql://")),
        ("postgresql://booking@127.0.0.1/hub?colour=blue", ("is not valid", "colour")),
        ("postgresql://booking@127.0.0.1:1/hub", ("Cannot reach", "Connection refused")),
    ],
)
@pytest.mark.parametrize("command", [("init",), ("status",), ("serve", "--port", "0")])
def test_a_bad_or_unreachable_database_url_is_one_sentence(command, url, mentions):
    refused(booking(*command, "--db", url), *mentions)


def test_a_database_the_server_does_not_have_is_named_in_the_sentence(postgres_server):
    missing = postgres_server.url("no_such_hub")
    refused(booking("init", "--db", missing), "Cannot reach", 'database "no_such_hub"')


def test_the_password_of_an_unreachable_database_is_never_shown():
    message = refused(booking("init", "--db", f"postgresql://booking:{SECRET}@127.0.0.1:1/hub"))
    assert SECRET not in message and "booking:***@" in message


# --- booking init --from: a SQLite hub moves to PostgreSQL ----------------------------------


@pytest.fixture
def sqlite_hub(tmp_path) -> tuple[Replica, Replica, str]:
    """A SQLite hub and a laptop that has synced with it both ways; the laptop's sync key."""
    hub, laptop = Replica(tmp_path, "hub"), Replica(tmp_path, "laptop")
    laptop.connect(hub)
    key = laptop.hub_client.headers["Authorization"].removeprefix("Bearer ")
    for replica, name in ((hub, "Made on the hub"), (laptop, "Made on the laptop")):
        assert replica.call("POST", CUSTOMERS, {"name": name}).status_code == 201
    settle([laptop])
    yield hub, laptop, key
    hub.close()
    laptop.close()
    store.close_thread_connections()


def test_init_from_moves_a_sqlite_hub_and_its_laptop_syncs_on_with_its_key(
    sqlite_hub, postgres_url
):
    hub, laptop, key = sqlite_hub
    before = exported_state(hub)
    hub.close()
    store.close_thread_connections()  # the SQLite hub is stopped, as the README says

    done = booking("init", "--from", hub.path, "--db", postgres_url)

    assert done.returncode == 0, done.stderr
    assert f"Copied {hub.path} into {postgres_url}" in done.stdout
    assert "2 customers" in done.stdout
    moved = Replica(hub.folder, "hub", target=postgres_url)
    assert exported_state(moved) == before
    assert f"Node id: {store.node_id(moved.db)}" in done.stdout
    assert store.node_id(moved.db) == store.node_id(store.open_db(hub.path))  # the same hub

    # The laptop syncs on with the key it had: it sends only what is new, and gets the rest.
    laptop.hub_client = HubClient("http://hub", key, session=FlaskTransport(moved.app))
    assert laptop.call("POST", CUSTOMERS, {"name": "After the move, laptop"}).status_code == 201
    assert moved.call("POST", CUSTOMERS, {"name": "After the move, hub"}).status_code == 201
    report = laptop.sync()
    # Its new customer went up; down came the hub's, and its own one back (skipped by change
    # id): not everything again, so its cursor from the SQLite hub still holds.
    assert (report.pushed, report.pulled) == (1, 2)
    assert exported_state(laptop) == exported_state(moved)
    moved.close()


def test_init_from_into_a_database_that_holds_a_hub_is_refused_and_changes_nothing(
    sqlite_hub, postgres_url
):
    hub, _laptop, _key = sqlite_hub
    assert booking("init", "--db", postgres_url).returncode == 0
    before = rows(postgres_url, "SELECT key, value FROM node_meta ORDER BY key")

    refused(booking("init", "--from", hub.path, "--db", postgres_url), "already holds a hub")

    assert rows(postgres_url, "SELECT key, value FROM node_meta ORDER BY key") == before
    assert rows(postgres_url, "SELECT COUNT(*) FROM customers") == [(0,)]


def test_init_from_a_hub_that_is_being_served_is_refused(sqlite_hub, postgres_url):
    hub, _laptop, _key = sqlite_hub
    held = lock.acquire(hub.path, "test")  # as `booking serve` holds it
    try:
        refused(booking("init", "--from", hub.path, "--db", postgres_url), "is running", "stop")
    finally:
        held.release()
    assert rows(postgres_url, "SELECT COUNT(*) FROM node_meta") == [(0,)]


def test_init_from_needs_a_postgresql_target_and_an_existing_file(tmp_path, postgres_url):
    refused(
        booking("init", "--from", str(tmp_path / "hub.db"), "--db", str(tmp_path / "new.db")),
        "--from copies a SQLite hub into a PostgreSQL database",
    )
    assert not (tmp_path / "new.db").exists()
    refused(
        booking("init", "--from", str(tmp_path / "missing.db"), "--db", postgres_url),
        "No SQLite database at",
    )
    assert rows(postgres_url, "SELECT COUNT(*) FROM node_meta") == [(0,)]


def test_init_from_a_row_postgresql_cannot_hold_is_one_sentence_and_keeps_nothing(
    sqlite_hub, postgres_url
):
    """SQLite stores a NUL inside text; PostgreSQL refuses it. The copy stops in the middle of
    a table: its transaction rolls back, and the sentence names the table to correct."""
    hub, _laptop, _key = sqlite_hub
    hub.close()
    store.close_thread_connections()
    with sqlite3.connect(hub.path) as file:
        file.execute("UPDATE customers SET notes = 'gate code 12' || char(0) || '34'")

    message = refused(
        booking("init", "--from", hub.path, "--db", postgres_url),
        "A row of customers cannot be stored in PostgreSQL",
        "nothing was kept",
    )
    assert "Unexpected" not in message
    assert rows(postgres_url, "SELECT COUNT(*) FROM node_meta") == [(0,)]
    assert rows(postgres_url, "SELECT COUNT(*) FROM customers") == [(0,)]

    with sqlite3.connect(hub.path) as file:  # corrected, the same command moves the hub
        file.execute("UPDATE customers SET notes = 'gate code 1234'")
    done = booking("init", "--from", hub.path, "--db", postgres_url)
    assert done.returncode == 0, done.stderr
    assert rows(postgres_url, "SELECT DISTINCT notes FROM customers") == [("gate code 1234",)]


def test_init_from_stopped_by_the_server_partway_is_one_sentence_and_keeps_nothing(
    sqlite_hub, postgres_url
):
    """The server refuses a write halfway through the tables (here a trigger stands in for a
    full disk or an administrator's limit): the copy's one transaction keeps nothing."""
    hub, _laptop, _key = sqlite_hub
    hub.close()
    store.close_thread_connections()
    migrate(postgres_url)
    with psycopg.connect(postgres_url) as conn:
        conn.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$"
        )
        conn.execute(
            "CREATE TRIGGER full_disk BEFORE INSERT ON resources EXECUTE FUNCTION refuse()"
        )

    refused(
        booking("init", "--from", hub.path, "--db", postgres_url),
        "The copy into PostgreSQL stopped (could not extend file: No space left on device)",
        "nothing was kept",
    )
    for table in ("node_meta", "customers", "change_log"):  # copied before the refusal
        assert rows(postgres_url, f"SELECT COUNT(*) FROM {table}") == [(0,)], table


# --- booking backup, restore and status ------------------------------------------------------


def pg_tools_path(postgres_server) -> dict[str, str]:
    """PATH with the server's own client programs first (pg_dump of the server's version)."""
    return {"PATH": f"{postgres_server.bindir}{os.pathsep}{os.environ.get('PATH', '')}"}


def test_backup_runs_pg_dump_and_the_dump_restores_every_customer(
    postgres_server, postgres_url, tmp_path
):
    url = with_password(postgres_url)
    assert booking("init", "--db", url).returncode == 0
    replica = Replica(tmp_path, "hub", target=postgres_url)
    for name in ("Ada", "Grace"):
        assert replica.call("POST", CUSTOMERS, {"name": name}).status_code == 201
    target = tmp_path / "hub.dump"

    done = booking("backup", "--db", url, str(target), env=pg_tools_path(postgres_server))

    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout
    assert f"to {target}" in done.stdout and "pg_restore" in done.stdout
    restored = postgres_server.create_database()
    subprocess.run(
        [str(postgres_server.bindir / "pg_restore"), "--no-owner", f"--dbname={restored}", target],
        check=True,
        capture_output=True,
    )
    names = rows(restored, "SELECT name FROM customers ORDER BY name")
    assert names == [("Ada",), ("Grace",)]
    # Served, the restored hub is told apart from the original: a new node id and epoch, so
    # the laptops re-send what it lost (README § The hub on PostgreSQL).
    identity = "SELECT key, value FROM node_meta WHERE key IN ('node_id', 'epoch') ORDER BY key"
    original = rows(postgres_url, identity)
    assert booking("init", "--db", restored).returncode == 0
    after = rows(restored, identity)
    assert [key for key, _ in after] == ["epoch", "node_id"]
    assert all(new != old for (_, new), (_, old) in zip(after, original, strict=True))
    replica.close()


def test_backup_without_a_path_goes_to_the_backups_folder_and_is_listed(
    postgres_server, postgres_url, tmp_path
):
    env = {**pg_tools_path(postgres_server), "BOOKING_BACKUP_DIR": str(tmp_path / "dumps")}
    assert booking("init", "--db", postgres_url).returncode == 0
    done = booking("backup", "--db", postgres_url, env=env)
    assert done.returncode == 0, done.stderr
    (dump,) = (tmp_path / "dumps").iterdir()
    assert dump.name.startswith("booking-") and dump.name.endswith("-manual.dump")
    listed = booking("backup", "list", "--db", postgres_url, env=env)
    assert listed.returncode == 0, listed.stderr
    assert dump.name in listed.stdout


def test_backup_without_pg_dump_names_the_command_to_run_and_writes_nothing(postgres_url, tmp_path):
    assert booking("init", "--db", with_password(postgres_url)).returncode == 0
    empty = tmp_path / "no-programs"
    empty.mkdir()
    target = tmp_path / "hub.dump"
    message = refused(
        booking(
            "backup", "--db", with_password(postgres_url), str(target), env={"PATH": str(empty)}
        ),
        "pg_dump",
        "not on this machine's PATH",
        f"--file={target}",
    )
    assert SECRET not in message
    assert not target.exists() and list(tmp_path.glob("*.partial")) == []


def test_a_failing_pg_dump_is_one_sentence_and_leaves_no_file(postgres_server, tmp_path):
    target = tmp_path / "hub.dump"
    missing = postgres_server.url("no_such_hub")
    message = refused(
        booking("backup", "--db", missing, str(target), env=pg_tools_path(postgres_server)),
        "pg_dump could not back up",
        "no_such_hub",
    )
    assert "does not exist" in message
    assert list(tmp_path.iterdir()) == []


def test_restore_on_postgresql_names_pg_restore_and_changes_nothing(postgres_url):
    assert booking("init", "--db", postgres_url).returncode == 0
    before = rows(postgres_url, "SELECT key, value FROM node_meta ORDER BY key")
    refused(booking("restore", "--db", postgres_url, "hub.dump"), "pg_restore", "new database")
    assert rows(postgres_url, "SELECT key, value FROM node_meta ORDER BY key") == before


def test_status_on_postgresql_shows_the_hub_and_its_counts(postgres_url, tmp_path):
    assert booking("init", "--db", postgres_url).returncode == 0
    replica = Replica(tmp_path, "hub", target=postgres_url)
    assert replica.call("POST", CUSTOMERS, {"name": "Ada"}).status_code == 201
    done = booking("status", "--db", postgres_url)
    assert done.returncode == 0, done.stderr
    assert f"Node id:        {store.node_id(replica.db)}" in done.stdout
    assert "Customers:      1" in done.stdout
    replica.close()


# --- booking serve ---------------------------------------------------------------------------


def test_two_serve_processes_share_one_database_from_booking_db(postgres_url, tmp_path):
    """Any number of hub processes may serve one PostgreSQL database (HUB.md); neither leaves
    files where it was started (no lock file, no backups folder named after the URL)."""
    before = set(os.listdir(PROJECT_ROOT))
    first = LiveServer(postgres_url, options_from_env=True).start()
    second = LiveServer(postgres_url, options_from_env=True).start()
    try:
        made = requests.post(
            f"{first.url}{CUSTOMERS}", json={"name": "Ada"}, headers=first.headers, timeout=10
        )
        assert made.status_code == 201, made.text
        seen = requests.get(
            f"{second.url}{CUSTOMERS}/{made.json()['data']['id']}",
            headers={"Authorization": f"Bearer {first.admin_key}"},
            timeout=10,
        )
        assert seen.status_code == 200 and seen.json()["data"]["name"] == "Ada"
        stdout = first.read_output()[0]
        assert "its backups are PostgreSQL's" in stdout and "pg_dump" in stdout
    finally:
        second.stop()
        first.stop()
    assert set(os.listdir(PROJECT_ROOT)) == before
    assert not any(name.startswith("postgresql") for name in os.listdir(PROJECT_ROOT))


def test_a_request_waiting_for_another_process_lock_does_not_hold_up_the_others(postgres_url):
    """On PostgreSQL `booking serve` takes 4 quick threads unless told otherwise: a create
    waiting for a slot another hub process holds leaves /healthz and the rest answering."""
    with LiveServer(postgres_url) as server:
        resource = server.request("POST", RESOURCES, json={"name": "Chair"}).json()["data"]["id"]
        other_process = psycopg.connect(postgres_url)  # as a second hub settling that slot
        other_process.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [slot_lock(resource)]
        )
        booking = {"resource_id": resource, "start_time": "2031-01-06T10:00:00Z"}
        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(server.request, "POST", BOOKINGS, json=booking)
            deadline = time.monotonic() + 10
            while not rows(postgres_url, WAITING_FOR_ADVISORY_LOCK)[0][0]:
                assert time.monotonic() < deadline, "the create never reached the lock"
                time.sleep(0.05)
            started = time.monotonic()
            assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
            assert server.request("GET", CUSTOMERS).status_code == 200
            assert time.monotonic() - started < 5
            assert not waiting.done()
            other_process.rollback()  # the other process's transaction ends
            assert waiting.result(timeout=10).status_code == 201
        other_process.close()


WAITING_FOR_ADVISORY_LOCK = (
    "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
)


# --- booking doctor and the Health page ------------------------------------------------------


def test_doctor_and_the_pages_of_a_hub_on_postgresql_need_no_person(postgres_url):
    """The server keeps the hub's pages, disk and backups: no banner asks for a file backup."""
    done = booking("doctor", "--db", postgres_url)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "The PostgreSQL database answers" in done.stdout and "!!" not in done.stdout
    # A hub has no hub of its own: no "this laptop does not sync", no clock to compare.
    assert "ok  Laptops:  No laptop has synced with this hub yet" in done.stdout
    assert "Sync:" not in done.stdout and "Clock:" not in done.stdout

    app = create_app({"TESTING": True, "DB": postgres_url})
    _, key = create_key(
        store.open_db(postgres_url), name="desk", scopes=["booking:read"], rate_limit="600/minute"
    )
    desk = Desk(app.test_client())
    assert desk.post("/signin", {"api_key": key}).status_code == 302
    assert "needs a person" not in desk.text("/day").lower()
    assert "PostgreSQL keeps this hub&#39;s backups" in desk.text("/health")
    store.close_thread_connections()


def test_doctor_on_an_unreachable_database_is_one_sentence():
    refused(booking("doctor", "--db", "postgresql://booking@127.0.0.1:1/hub"), "Cannot reach")


# --- the pool settings -----------------------------------------------------------------------


def test_the_pool_settings_reach_every_connection_of_the_process(postgres_url, monkeypatch):
    monkeypatch.setattr(postgres, "settings", postgres.settings)  # put back after the test
    env = {
        "BOOKING_PG_POOL_SIZE": "3",
        "BOOKING_PG_POOL_TIMEOUT_MS": "1500",
        "BOOKING_PG_CONNECT_TIMEOUT_MS": "2500",
        "BOOKING_PG_STATEMENT_TIMEOUT_MS": "9000",
    }
    result = CliRunner().invoke(cli, ["status", "--db", postgres_url], env=env)
    assert result.exit_code == 0, result.output
    assert postgres.settings == postgres.PoolSettings(
        max_size=3,
        wait_timeout_s=1.5,
        connect_timeout_s=3,  # libpq counts whole seconds: rounded up
        statement_timeout_ms=9000,
        idle_in_transaction_timeout_ms=3000,
    )
    postgres.close_pools(postgres_url)  # the next pool opens with these settings
    db = store.open_db(postgres_url)
    assert db.scalar("SHOW statement_timeout") == "9s"
    assert db.scalar("SHOW idle_in_transaction_session_timeout") == "3s"
    db.close()
    postgres.close_pools(postgres_url)
