"""The `booking` command (CLI.md): CliRunner for behaviour, subprocesses for what stderr shows."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from app import create_app, store
from app.cli import cli
from app.settings import SETTINGS
from tests.live.server import LiveServer, find_free_port

CUSTOMERS = "/modules/booking/customers"
FORBIDDEN_DB = "/proc/forbidden/x.db"  # /proc takes no new folders, even for root


@pytest.fixture
def runner() -> CliRunner:
    # BOOKING_* of the shell running the tests must not change what a test means.
    return CliRunner(env={f"BOOKING_{name}": None for name in SETTINGS})


@pytest.fixture
def invoke(runner, db_path):
    """Run `booking ARGS --db <test db>` in-process; check the exit status unless told not to."""

    def run(*args: str, ok: bool = True, env: dict | None = None):
        result = runner.invoke(cli, [*args, "--db", db_path], env=env)
        if ok:
            assert result.exit_code == 0, (result.output, result.exception)
        return result

    return run


@pytest.fixture
def make_key(invoke):
    """Factory: `booking keys create ...` → the printed key (last stdout line)."""

    def make(*options: str, scopes: str = "booking:admin", name: str = "front-desk") -> str:
        result = invoke("keys", "create", "--name", name, "--scopes", scopes, *options)
        return result.stdout.splitlines()[-1]

    return make


@pytest.fixture
def client(db_path):
    """A test client of the app on the same database file the CLI writes."""
    yield create_app({"TESTING": True, "DB": db_path}).test_client()
    store.close_thread_connections()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def key_id(key: str) -> str:
    """`sk_<id>_<secret>` (README § Decisions) → `key_<id>`, the id `keys list` shows."""
    return "key_" + key.removeprefix("sk_").split("_")[0]


def booking(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m app ARGS` as a user runs it, with real stdout and stderr."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BOOKING_")}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**clean, **(env or {})},
    )


def assert_one_sentence_error(result: subprocess.CompletedProcess, *mentions: str) -> str:
    """Exit ≠ 0, no traceback anywhere, and stderr is one sentence naming `mentions`."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    sentence = lines[0]
    assert sentence.startswith("Error: ") and sentence.endswith("."), sentence
    assert "unexpected" not in sentence and "BOOKING_DEBUG" not in sentence, "a bug, not a mistake"
    for mention in mentions:
        assert mention in sentence, sentence
    return sentence


# -- init ----------------------------------------------------------------------------------


def test_init_creates_the_database_with_missing_folders_and_prints_its_node_id(runner, tmp_path):
    path = tmp_path / "a" / "b" / "booking.db"
    result = runner.invoke(cli, ["init", "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert path.is_file()
    db = store.open_db(str(path))
    try:
        node_id = store.node_id(db)
    finally:
        db.close()
    assert f"Node id: {node_id}" in result.stdout.splitlines()


def test_init_twice_is_safe_and_keeps_the_node_id(invoke):
    first = invoke("init").stdout
    second = invoke("init").stdout
    node_ids = [re.search(r"Node id: (\S+)", out).group(1) for out in (first, second)]
    assert node_ids[0] == node_ids[1]


def test_init_twice_keeps_the_records(invoke, make_key, client):
    invoke("init")
    headers = bearer(make_key())
    assert client.post(CUSTOMERS, json={"name": "Ada"}, headers=headers).status_code == 201
    invoke("init")
    assert [c["name"] for c in client.get(CUSTOMERS, headers=headers).json["data"]] == ["Ada"]


def test_init_reads_the_database_path_from_booking_db(runner, tmp_path):
    path = tmp_path / "from-env" / "booking.db"
    result = runner.invoke(cli, ["init"], env={"BOOKING_DB": str(path)})
    assert result.exit_code == 0, result.output
    assert path.is_file() and str(path) in result.stdout


# -- keys create / list / revoke -------------------------------------------------------------


def test_keys_create_prints_the_key_alone_on_the_last_line(invoke):
    result = invoke("keys", "create", "--name", "front-desk", "--scopes", "booking:write")
    last = result.stdout.splitlines()[-1]
    assert re.fullmatch(r"sk_[A-Za-z0-9_\-]+", last), result.stdout
    assert last not in "\n".join(result.stdout.splitlines()[:-1])


def test_the_created_key_authenticates_against_the_app(make_key, client):
    headers = bearer(make_key(scopes="booking:admin"))
    assert client.post(CUSTOMERS, json={"name": "Ada"}, headers=headers).status_code == 201
    assert client.get(CUSTOMERS, headers=headers).status_code == 200
    assert client.get(CUSTOMERS, headers=bearer("sk_nope_nope")).status_code == 401


def test_the_created_key_has_only_the_scopes_asked_for(make_key, client):
    headers = bearer(make_key(scopes="booking:read"))
    assert client.get(CUSTOMERS, headers=headers).status_code == 200
    response = client.post(CUSTOMERS, json={"name": "Ada"}, headers=headers)
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"


def test_the_database_stores_only_a_hash_of_the_key(make_key, db_path):
    key = make_key()
    secret = key.removeprefix("sk_").split("_", 1)[1]
    stored = b"".join(p.read_bytes() for p in Path(db_path).parent.glob("test.db*"))
    assert key.encode() not in stored
    assert secret.encode() not in stored
    assert hashlib.sha256(secret.encode()).hexdigest().encode() in stored


def test_tokens_and_rate_limit_show_in_keys_list(invoke, make_key):
    key = make_key("--tokens", "5", "--rate-limit", "10/second")
    line = next(line for line in invoke("keys", "list").stdout.splitlines() if key_id(key) in line)
    assert "10/second" in line.split()
    assert "5" in line.split()
    assert "active" in line


def test_keys_list_shows_tokens_left_after_requests(invoke, make_key, client):
    key = make_key("--tokens", "5")
    client.get(CUSTOMERS, headers=bearer(key))
    lines = invoke("keys", "list").stdout.splitlines()
    assert "4" in next(line for line in lines if key_id(key) in line).split()


def test_keys_list_never_prints_a_secret(invoke, make_key):
    keys = [make_key(name=name) for name in ("one", "two")]
    output = invoke("keys", "list").output
    assert "sk_" not in output
    for key in keys:
        assert key_id(key) in output
        # sk_<id>_<secret>: the secret may itself contain "_", so split from the left.
        assert key.split("_", 2)[2] not in output


def test_keys_revoke_makes_the_key_401_at_once(invoke, make_key, client):
    key = make_key()
    assert client.get(CUSTOMERS, headers=bearer(key)).status_code == 200
    invoke("keys", "revoke", key_id(key))
    response = client.get(CUSTOMERS, headers=bearer(key))
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"
    assert "revoked" in invoke("keys", "list").stdout


def test_revoking_an_unknown_key_id_is_a_one_line_error(invoke):
    invoke("init")
    result = invoke("keys", "revoke", "key_01NOSUCHKEY", ok=False)
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "key_01NOSUCHKEY" in lines[0], result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


# -- user mistakes: one sentence on stderr, exit ≠ 0, no traceback (real subprocesses) -------


@pytest.mark.parametrize(
    "args, mentions",
    [
        (["keys", "create", "--name", "x", "--scopes", "booking:superuser"], ["booking:superuser"]),
        (["keys", "create", "--name", "x", "--scopes", ""], []),
        (
            ["keys", "create", "--name", "x", "--scopes", "booking:read", "--rate-limit", "fast"],
            ["fast"],
        ),
        (["keys", "create", "--name", "x", "--scopes", "booking:read", "--tokens", "-1"], []),
        (["keys", "create", "--name", " ", "--scopes", "booking:read"], []),
    ],
    ids=["unknown-scope", "no-scope", "bad-rate-limit", "negative-tokens", "blank-name"],
)
def test_a_bad_key_request_is_one_sentence_and_makes_no_key(db_path, args, mentions):
    assert_one_sentence_error(booking(*args, "--db", db_path), *mentions)
    assert "No keys yet" in booking("keys", "list", "--db", db_path).stdout


@pytest.mark.parametrize(
    "args",
    [
        ["init", "--db", FORBIDDEN_DB],
        ["keys", "list", "--db", FORBIDDEN_DB],
        ["keys", "create", "--db", FORBIDDEN_DB, "--name", "x", "--scopes", "booking:read"],
        ["keys", "revoke", "--db", FORBIDDEN_DB, "key_01X"],
        ["serve", "--db", FORBIDDEN_DB, "--port", "0"],
    ],
    ids=["init", "keys-list", "keys-create", "keys-revoke", "serve"],
)
def test_an_unwritable_database_path_is_one_sentence(args):
    assert_one_sentence_error(booking(*args), FORBIDDEN_DB)


@pytest.mark.parametrize(
    "args",
    [
        ["init"],
        ["keys", "list"],
        ["keys", "create", "--name", "x", "--scopes", "booking:read"],
        ["serve", "--port", "0"],
        ["backup", "COPY"],
    ],
    ids=["init", "keys-list", "keys-create", "serve", "backup"],
)
def test_a_file_that_is_not_a_database_is_one_sentence(tmp_path, args):
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_text("shopping list\n")
    copy = tmp_path / "copy.db"
    args = [str(copy) if arg == "COPY" else arg for arg in args]
    assert_one_sentence_error(booking(*args, "--db", str(not_a_db)), str(not_a_db))
    assert not_a_db.read_text() == "shopping list\n"
    assert not copy.exists()


def test_backup_of_a_missing_database_is_one_sentence(tmp_path):
    missing = str(tmp_path / "missing.db")
    result = booking("backup", "--db", missing, str(tmp_path / "copy.db"))
    assert_one_sentence_error(result, missing)
    assert not (tmp_path / "copy.db").exists()


@pytest.mark.live
def test_serve_on_a_port_in_use_is_one_sentence(db_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = booking("serve", "--db", db_path, "--port", port)
    assert_one_sentence_error(result, port)


@pytest.mark.live
def test_serve_reads_the_port_from_booking_port(db_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = booking("serve", "--db", db_path, env={"BOOKING_PORT": port})
    assert_one_sentence_error(result, port)


@pytest.mark.live
def test_serve_takes_database_and_port_from_the_environment_alone(tmp_path):
    path = tmp_path / "env" / "booking.db"
    with LiveServer(path, options_from_env=True) as server:
        assert server.env["BOOKING_PORT"] == str(server.port) and "--port" not in server.command
        health = server.request("GET", "/healthz", headers={}).json()["data"]
        assert server.request("GET", CUSTOMERS).status_code == 200
    db = store.open_db(str(path))
    try:
        assert health["node_id"] == store.node_id(db)
    finally:
        db.close()


@pytest.mark.live
@pytest.mark.parametrize(
    "address",
    [["--port", "70000"], ["--port", "65536"], ["--port", "-1"], ["--host", "999.1.1.1"]],
    ids=["port-70000", "port-65536", "port-minus-1", "host-999.1.1.1"],
)
def test_serve_refuses_an_impossible_address_instead_of_serving_elsewhere(
    db_path, tmp_path, address
):
    log = tmp_path / "serve.log"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BOOKING_")}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--db", db_path, "--port", "0", *address],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=clean,
        )
    try:
        deadline = time.monotonic() + 15
        while process.poll() is None and time.monotonic() < deadline:
            if "Serving on" in log.read_text():
                break
            time.sleep(0.05)
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
    output = log.read_text()
    assert "Serving on" not in output, f"asked for {' '.join(address)}, but: {output}"
    assert process.returncode not in (0, None)
    assert "Traceback" not in output and "unexpected" not in output, output
    assert output.strip().splitlines()[-1].startswith("Error: "), output


def test_find_free_port_gives_a_port_nothing_listens_on():
    port = find_free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


# -- backup ------------------------------------------------------------------------------


def customers_in(path: str) -> list[tuple]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("SELECT * FROM customers ORDER BY id").fetchall()
    finally:
        connection.close()


def test_backup_makes_a_copy_with_the_same_customers(invoke, make_key, client, db_path, tmp_path):
    headers = bearer(make_key())
    for name in ("Ada", "Grace", "Alan"):
        assert client.post(CUSTOMERS, json={"name": name}, headers=headers).status_code == 201
    target = tmp_path / "backups" / "copy.db"
    target.parent.mkdir()
    result = invoke("backup", str(target))
    assert str(target) in result.stdout
    copied = customers_in(str(target))
    assert copied == customers_in(db_path) and len(copied) == 3
    copy_client = create_app({"TESTING": True, "DB": str(target)}).test_client()
    names = [c["name"] for c in copy_client.get(CUSTOMERS, headers=headers).json["data"]]
    assert names == ["Ada", "Grace", "Alan"]


def test_backup_refuses_an_existing_target(invoke, db_path, tmp_path):
    invoke("init")
    target = tmp_path / "precious.db"
    target.write_bytes(b"do not overwrite")
    result = invoke("backup", str(target), ok=False)
    assert result.exit_code != 0
    assert len(result.stderr.strip().splitlines()) == 1 and str(target) in result.stderr
    assert target.read_bytes() == b"do not overwrite"
    assert_one_sentence_error(booking("backup", "--db", db_path, str(target)), str(target))


def test_status_of_a_restored_backup_says_it_took_a_node_id_of_its_own(invoke, runner, tmp_path):
    original = invoke("init").stdout.split()[-1].rstrip(".")
    target = str(tmp_path / "restored.db")
    invoke("backup", target)
    result = runner.invoke(cli, ["status", "--db", target])
    assert result.exit_code == 0, result.output
    assert re.search(
        r"Copy: +since \S+ a node of its own; it was restored from a backup", result.output
    )
    assert f"formerly node {original}" in result.output
    # The original says nothing of copies.
    assert "Copy:" not in invoke("status").stdout
