"""The desktop application with real processes: `booking serve` backs itself up at start,
writes a log with one line per request and per sync round (and nothing secret or personal),
refuses a second server and a restore while it runs, migrates after a backup, refuses a newer
database; `booking open` makes a link that signs a browser in once; `booking doctor` reads
the clock difference measured at each sync."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import pytest
import requests

from app.ops import backups
from tests.desktop.conftest import applied, older_database
from tests.live.sync_cluster import make_key, node_args, run_cli

pytestmark = pytest.mark.live
CUSTOMERS = "/modules/booking/customers"
PERSON = {"name": "Zebedee Quantock", "email": "zebedee@example.org", "phone": "+44 7700 900123"}


def wait_for(predicate, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def log_text(db_path: str) -> str:
    path = Path(db_path).parent / "logs" / "booking.log"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def test_serve_backs_up_at_start_and_logs_requests_without_secrets_or_personal_data(
    start_live_server, tmp_path
):
    server = start_live_server()
    folder = tmp_path / "backups"
    [taken] = wait_for(lambda: backups.list_backups(folder), "the first backup")
    assert taken.kind == "nightly"
    assert f"Backups go to {folder}" in server.read_output()[0]
    made = server.request("POST", CUSTOMERS, json=PERSON)
    assert made.status_code == 201
    customer_id = made.json()["data"]["id"]
    found = server.request("GET", CUSTOMERS, params={"q": "Zebedee"})
    assert found.status_code == 200
    assert server.request("GET", f"{CUSTOMERS}/{customer_id}").status_code == 200
    assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
    # The server's own start-up probe logged a /healthz already: wait for this test's last
    # request, whose line comes after the others' (lines reach the file a few times a second).
    text = wait_for(
        lambda: (
            log_text(server.db_path).count("GET /healthz 200") >= 2 and log_text(server.db_path)
        ),
        "the request lines",
    )
    assert re.search(
        r"INFO booking\.requests: POST /modules/booking/customers 201 [\d.]+ ms key_", text
    )
    assert f"GET {CUSTOMERS}/<customer_id> 200" in text
    assert "Backup written: booking-" in text
    secret = server.admin_key.rsplit("_", 1)[1]
    for leak in (secret, server.admin_key, customer_id, "Zebedee", "zebedee@", "7700", "q="):
        assert leak not in text, leak


def test_a_second_server_on_the_same_database_is_refused(start_live_server):
    server = start_live_server()
    result = run_cli("serve", "--db", server.db_path, "--port", "0")
    assert result.returncode == 1
    assert result.stderr.strip().endswith(
        "stop it first (`booking service stop`, or Ctrl-C where it runs) and try again."
    )
    assert "`booking serve` is running on" in result.stderr


def test_restore_is_refused_while_serving_and_works_once_stopped(start_live_server, tmp_path):
    server = start_live_server()
    first = wait_for(lambda: backups.list_backups(tmp_path / "backups"), "the first backup")[0]
    node_before = requests.get(f"{server.url}/healthz", timeout=5).json()["data"]["node_id"]
    assert server.request("POST", CUSTOMERS, json={"name": "After the backup"}).status_code == 201
    refused = run_cli("restore", first.name, "--db", server.db_path)
    assert refused.returncode == 1 and "`booking serve` is running on" in refused.stderr
    assert server.request("GET", CUSTOMERS).json()["data"][0]["name"] == "After the backup"
    server.stop()
    done = run_cli("restore", first.name, "--db", server.db_path)
    assert done.returncode == 0, done.stderr
    again = start_live_server(db_path=server.db_path)
    # The backup holds the first start's admin key, and no customer yet.
    assert again.request("GET", CUSTOMERS, headers=server.headers).json()["data"] == []
    node_after = requests.get(f"{again.url}/healthz", timeout=5).json()["data"]["node_id"]
    assert node_after != node_before


def test_serve_as_a_service_prints_no_secret(start_live_server):
    server = start_live_server("--service")
    stdout = server.read_output()[0]
    assert "sk_" not in stdout and "it is not shown because this output goes to a log" in stdout


def test_booking_open_makes_a_link_that_signs_in_once(start_live_server):
    server = start_live_server()
    result = run_cli(
        "open",
        "--db",
        server.db_path,
        "--port",
        str(server.port),
        "--no-browser",
        "--scope",
        "booking:admin",
    )
    assert result.returncode == 0, result.stderr
    link = re.search(r"(http://\S+/signin/link\?token=\S+)", result.stdout).group(1)
    browser = requests.Session()
    page = browser.get(link, timeout=10)
    assert page.status_code == 200 and "Signed in as this laptop (booking:admin)" in page.text
    assert "Sync now" in page.text or browser.get(f"{server.url}/sync").status_code == 200
    assert requests.get(link, timeout=10).status_code == 401  # used up


def test_booking_open_without_a_server_says_how_to_start_one(tmp_path):
    from tests.live.server import find_free_port

    result = run_cli("open", "--db", str(tmp_path / "x.db"), "--port", str(find_free_port()))
    assert result.returncode == 1
    [sentence] = result.stderr.strip().splitlines()
    assert (
        "Nothing answers at http://127.0.0.1:" in sentence and "booking service install" in sentence
    )


def test_booking_open_refuses_a_server_of_another_database(start_live_server, tmp_path):
    server = start_live_server()
    result = run_cli(
        "open", "--db", str(tmp_path / "other.db"), "--port", str(server.port), "--no-browser"
    )
    assert result.returncode == 1 and "serves another database" in result.stderr


def test_serve_migrates_an_older_database_after_backing_it_up(start_live_server, tmp_path):
    path = str(tmp_path / "old.db")
    last = older_database(path)
    server = start_live_server(db_path=path)
    assert "Backed up the database before upgrading it" in server.read_output()[0]
    [before] = [b for b in backups.list_backups(tmp_path / "backups") if b.kind == "before-upgrade"]
    assert last not in applied(str(before.path))
    assert last in applied(path)


def test_serve_refuses_a_database_of_a_newer_version(tmp_path):
    path = str(tmp_path / "new.db")
    assert run_cli("init", "--db", path).returncode == 0
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('booking', 'm0100_later', '2031-01-01')"
        )
    connection.close()
    result = run_cli("serve", "--db", path, "--port", "0")
    assert result.returncode == 1
    [sentence] = result.stderr.strip().splitlines()
    assert "upgraded by a newer version" in sentence and "pipx upgrade booking-service" in sentence


def test_each_sync_round_is_logged_and_the_clock_is_compared_with_the_hubs(
    start_live_server, tmp_path
):
    hub = start_live_server(db_path=str(tmp_path / "hub" / "hub.db"))
    key = make_key(hub.db_path, "counter")
    node = start_live_server(*node_args(hub, key), db_path=str(tmp_path / "node" / "node.db"))
    assert node.request("POST", CUSTOMERS, json=PERSON).status_code == 201
    text = wait_for(
        lambda: "pushed 1" in log_text(node.db_path) and log_text(node.db_path), "a sync round"
    )
    assert re.search(r"INFO sync\.worker: Sync round: pushed 1, pulled \d+, applied \d+ in", text)
    assert "Zebedee" not in text and key not in text
    doctor = run_cli("doctor", "--db", node.db_path, "--hub", hub.url)
    assert re.search(r"ok  Clock: +Within \d+ seconds of the hub's clock\.", doctor.stdout)
    assert re.search(r"ok  Sync: +Last synced with http://\S+ just now\.", doctor.stdout)
