"""`booking serve` as a user runs it: a real subprocess on 127.0.0.1, spoken to over HTTP."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.live.server import LiveServer, ServerError

pytestmark = pytest.mark.live

CUSTOMERS = "/modules/booking/customers"
RESOURCES = "/modules/booking/resources"
SEED = Path(__file__).resolve().parents[3] / "shared/seeds/saasignal-booking-customers.txt"
SEED_HOST = "https://api.saasignal.saastemly.com"
METHODS = {"GET", "POST", "PATCH", "DELETE"}


def create_customer(server: LiveServer, name: str, headers: dict | None = None) -> dict:
    response = server.request(
        "POST", CUSTOMERS, json={"name": name}, headers=headers or server.headers
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]


def list_all(server: LiveServer, path: str, headers: dict | None = None) -> list[dict]:
    response = server.request("GET", f"{path}?limit=100", headers=headers or server.headers)
    assert response.status_code == 200, response.text
    assert response.json()["meta"]["has_more"] is False
    return response.json()["data"]


def test_first_start_prints_exactly_one_admin_key_and_the_url(live_server):
    stdout, stderr = live_server.read_output()
    key_lines = [line.strip() for line in stdout.splitlines() if "sk_" in line]
    assert key_lines == [live_server.admin_key], stdout
    assert re.fullmatch(r"sk_\S+", live_server.admin_key)
    assert f"Serving on http://127.0.0.1:{live_server.port}" in stdout.splitlines()[-1]
    assert "sk_" not in stderr


def test_ctrl_c_stops_the_server_cleanly(live_server):
    live_server.process.send_signal(signal.SIGINT)
    # This holds even when the suite itself runs in the background, where a child inherits
    # SIGINT ignored: `booking serve` restores it. The test is about a clean exit, not speed.
    assert live_server.process.wait(timeout=60) == 0
    live_server.stop()
    _, stderr = live_server.read_output()
    assert "Traceback" not in stderr and "Error" not in stderr, stderr


def test_a_server_that_cannot_start_fails_with_its_stderr():
    server = LiveServer("/proc/forbidden/x.db")
    with pytest.raises(ServerError, match=r"(?s)exited with status 1.*Cannot open the database"):
        server.start()
    assert server.process.returncode == 1


def test_the_printed_key_creates_and_lists_customers(live_server):
    made = [create_customer(live_server, name)["id"] for name in ("Ada", "Grace")]
    listed = list_all(live_server, CUSTOMERS)
    assert [customer["id"] for customer in listed] == made
    assert [customer["name"] for customer in listed] == ["Ada", "Grace"]


@pytest.mark.sqlite_only(reason="reads the SQLite file behind the WAL")
def test_the_running_server_checkpoints_its_writes_into_the_database_file(live_server):
    # While serving, the WAL is copied into the file within a moment, not every 1,000 pages.
    made = create_customer(live_server, "Checkpointed")["id"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        file_only = sqlite3.connect(f"file:{live_server.db_path}?immutable=1", uri=True)
        try:
            held = [row[0] for row in file_only.execute("SELECT id FROM customers")]
        finally:
            file_only.close()
        if made in held:
            break
        time.sleep(0.05)
    assert made in held


def test_requests_without_the_key_are_401_over_http(live_server):
    response = live_server.request("GET", CUSTOMERS, headers={})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_second_start_prints_no_key_and_the_old_key_still_works(start_live_server):
    first = start_live_server()
    customer = create_customer(first, "Ada")
    old_headers = first.headers
    first.stop()

    second = start_live_server()
    stdout, _ = second.read_output()
    assert second.admin_key is None and "sk_" not in stdout, stdout
    assert f"Serving on http://127.0.0.1:{second.port}" in stdout
    assert [c["id"] for c in list_all(second, CUSTOMERS, headers=old_headers)] == [customer["id"]]
    create_customer(second, "Grace", headers=old_headers)


def test_demo_fills_an_empty_database_with_resources_and_customers(start_live_server):
    server = start_live_server("--demo")
    resources = list_all(server, RESOURCES)
    customers = list_all(server, CUSTOMERS)
    assert resources and customers
    assert all(r["id"].startswith("res_") for r in resources)
    assert all(c["id"].startswith("cus_") for c in customers)


def test_demo_adds_nothing_to_a_database_that_has_records(start_live_server):
    first = start_live_server()
    headers = first.headers
    only = create_customer(first, "The only customer")
    first.stop()

    second = start_live_server("--demo")
    assert [c["id"] for c in list_all(second, CUSTOMERS, headers=headers)] == [only["id"]]
    assert list_all(second, RESOURCES, headers=headers) == []


def test_revoking_a_key_with_the_cli_is_401_at_once_on_the_running_server(live_server):
    assert live_server.request("GET", CUSTOMERS).status_code == 200
    key_id = "key_" + live_server.admin_key.removeprefix("sk_").split("_")[0]
    revoke = subprocess.run(
        [sys.executable, "-m", "app", "keys", "revoke", "--db", live_server.db_path, key_id],
        capture_output=True,
        text=True,
        timeout=30,
        env=live_server.env,
    )
    assert revoke.returncode == 0, revoke.stderr
    response = live_server.request("GET", CUSTOMERS)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.sqlite_only(  # a hub on PostgreSQL: pg_dump, tests/cli/test_postgres_hub.py
    reason="reads the SQLite copy `booking backup` writes of a file"
)
def test_backup_of_the_running_server_holds_its_customers(live_server, tmp_path):
    made = [create_customer(live_server, f"C{i}")["id"] for i in range(5)]
    target = tmp_path / "copy.db"
    backup = subprocess.run(
        [sys.executable, "-m", "app", "backup", "--db", live_server.db_path, str(target)],
        capture_output=True,
        text=True,
        timeout=30,
        env=live_server.env,
    )
    assert backup.returncode == 0, backup.stderr
    with sqlite3.connect(target) as copy:
        ids = [row[0] for row in copy.execute("SELECT id FROM customers ORDER BY id")]
    copy.close()
    assert ids == made


# -- the seed's curl examples, run with the real curl ---------------------------------------


def seed_examples() -> list[tuple[str, str, int]]:
    """(title, curl command line, documented status) for each example in the seed, in order."""
    if not SEED.exists():
        return []
    lines = SEED.read_text(encoding="utf-8").splitlines()
    examples = []
    for index, line in enumerate(lines):
        if not line.startswith("curl "):
            continue
        assert lines[index - 4] in METHODS, lines[index - 5 : index + 1]
        command, end = [], index
        while True:
            command.append(lines[end].rstrip("\\").strip())
            if not lines[end].endswith("\\"):
                break
            end += 1
        status = re.fullmatch(r"json — (\d{3}) .*", lines[end + 1])
        assert status, lines[end + 1]
        examples.append((lines[index - 5], " ".join(command), int(status.group(1))))
    return examples


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    with LiveServer(tmp_path_factory.mktemp("curl") / "live.db") as server:
        yield server


def curl(command: str) -> tuple[int, dict]:
    args = shlex.split(command)
    assert args[0] == "curl"
    result = subprocess.run(
        ["curl", "-sS", "--noproxy", "*", "--max-time", "10", "-w", "\n%{http_code}", *args[1:]],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    body, _, status = result.stdout.rpartition("\n")
    return int(status), json.loads(body)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize(
    "title, command, documented_status",
    [
        pytest.param(*example, id=example[0].lower().replace(" ", "-"))
        for example in seed_examples()
    ],
)
def test_the_seed_curl_example_answers_as_documented(
    shared_server, title, command, documented_status
):
    customer = create_customer(shared_server, "Seed example")
    status, body = curl(
        command.replace(SEED_HOST, shared_server.url)
        .replace("sk_live_...", shared_server.admin_key)
        .replace("{customer_id}", customer["id"])
    )
    assert status == documented_status, (title, body)
    assert body["status"] == "ok", body
    if "{customer_id}" in command:
        assert body["data"]["id"] == customer["id"]
    if title == "Create a customer":
        assert body["data"]["name"] == "example" and body["data"]["id"].startswith("cus_")
    if title == "List customers":
        assert customer["id"] in [c["id"] for c in body["data"]]


def test_the_seed_has_the_five_customer_examples():
    if not SEED.exists():
        pytest.skip(f"seed file {SEED} is not here")
    titles = [title for title, _, _ in seed_examples()]
    assert titles == [
        "Create a customer",
        "List customers",
        "Get a customer",
        "Update a customer",
        "Delete a customer",
    ]


# -- keyset pagination while rows are being added -------------------------------------------


def test_pagination_walk_while_customers_are_added_returns_each_existing_one_once(live_server):
    existing = [create_customer(live_server, f"Before {i}")["id"] for i in range(20)]
    inserted: list[str] = []
    errors: list[BaseException] = []
    one_more = threading.Semaphore(0)  # released once per insert, and when the inserter ends
    stop = threading.Event()

    def insert_customers() -> None:
        try:
            for number in range(40):
                if stop.is_set():
                    return
                inserted.append(create_customer(live_server, f"During {number}")["id"])
                one_more.release()
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            for _ in range(100):  # never leave the walker waiting on a finished inserter
                one_more.release()

    walked: list[str] = []
    inserter = threading.Thread(target=insert_customers, daemon=True)
    cursor = ""
    try:
        for page_number in range(200):
            page = live_server.request("GET", f"{CUSTOMERS}?limit=3{cursor}")
            assert page.status_code == 200, page.text
            body = page.json()
            assert len(body["data"]) <= 3 and body["meta"]["limit"] == 3
            walked += [customer["id"] for customer in body["data"]]
            next_cursor = body["meta"]["next_cursor"]
            assert body["meta"]["has_more"] is (next_cursor is not None)
            if next_cursor is None:
                break
            cursor = f"&cursor={next_cursor}"
            if page_number == 0:
                inserter.start()  # every insert happens after the walk has begun
            one_more.acquire(timeout=10)  # at least one more insert between pages
        else:
            pytest.fail("the walk did not end within 200 pages")
    finally:
        stop.set()
        if inserter.is_alive():
            inserter.join(timeout=30)
    assert not inserter.is_alive() and not errors, errors

    assert len(walked) == len(set(walked)), "a customer was returned twice"
    assert all(a < b for a, b in zip(walked, walked[1:], strict=False)), walked
    assert [id_ for id_ in walked if id_ in set(existing)] == existing
    assert set(walked) <= set(existing) | set(inserted)
    assert set(walked) & set(inserted), "no customer added during the walk was seen"
