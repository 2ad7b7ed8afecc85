"""Sync between real processes (SYNC.md §7): a hub and nodes as `booking serve` subprocesses,
`booking sync` as a subprocess killed with SIGKILL mid-push and mid-pull, a hub that goes away
and comes back, a hub restored from an older backup, and the CLI's exit statuses.

Everything listens on 127.0.0.1; every wait is a bounded poll; every process started here is
stopped at teardown.
"""

from __future__ import annotations

import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.live.server import PROJECT_ROOT, LiveServer, find_free_port
from tests.live.sync_cluster import (
    BOOKINGS,
    CLI_TIMEOUT,
    CONVERGE_TIMEOUT,
    CUSTOMERS,
    RESOURCES,
    Servers,
    cli_env,
    ids,
    list_all,
    make_key,
    node_args,
    post,
    query,
    run_cli,
    seed_customers,
    snapshot,
    sync_status,
    wait_converged,
    wait_for,
)

pytestmark = pytest.mark.live

SLOT = "2030-01-07T10:00:00Z"
# Changes in the SIGKILL tests: twelve push batches, twelve pull pages. A batch merges in about
# 30 ms now, so fewer would let a kill after a random delay of up to 30 ms find the sync done.
BIG = 6000
SEED = 20_251_121  # the "random" kill delays are reproducible
# A hub on PostgreSQL is restored by pg_restore into a new database (README § The hub on
# PostgreSQL), not by putting a file back: these tests put the hub's SQLite file back.
HUB_FILE_RESTORE = "restores the hub by copying a backup file over its SQLite database"
SUMMARY = re.compile(r"Synced with \S+: pushed (\d+), pulled (\d+), applied (\d+)\.")


@pytest.fixture
def servers() -> Iterator[Servers]:
    made = Servers()
    yield made
    made.stop_all()


@pytest.fixture
def spawn(tmp_path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Factory: `python -m app *args` in the background, output to files; killed at teardown."""
    started: list[subprocess.Popen] = []

    def start(*args: str) -> subprocess.Popen:
        number = len(started)
        with (
            open(tmp_path / f"cli-{number}.out", "wb") as stdout,
            open(tmp_path / f"cli-{number}.err", "wb") as stderr,
        ):
            process = subprocess.Popen(
                [sys.executable, "-m", "app", *args],
                cwd=PROJECT_ROOT,
                env=cli_env(),
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
            )
        process.output_files = (tmp_path / f"cli-{number}.out", tmp_path / f"cli-{number}.err")
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def output_of(process: subprocess.Popen) -> tuple[str, str]:
    return tuple(path.read_text(errors="replace") for path in process.output_files)


@dataclass
class Cluster:
    hub: LiveServer
    nodes: list[LiveServer]
    keys: list[str]
    resource_id: str


def start_cluster(tmp_path: Path, hub_db: str, servers: Servers, count: int = 2) -> Cluster:
    """A hub on `hub_db`, `count` nodes syncing every second, and one resource every node
    holds."""
    hub = servers.new(hub_db).start()
    keys = [make_key(hub.db_path, f"n{i}") for i in range(1, count + 1)]
    nodes = [
        servers.new(tmp_path / f"n{i}.db", *node_args(hub, key)).start()
        for i, key in enumerate(keys, start=1)
    ]
    resource = post(nodes[0], RESOURCES, {"name": "Chair 1"})

    def everywhere() -> bool:
        return all(
            s.request("GET", f"{RESOURCES}/{resource['id']}").status_code == 200
            for s in [hub, *nodes]
        )

    wait_for(everywhere, timeout=30, what="the resource on every node")
    return Cluster(hub, nodes, keys, resource["id"])


def change_ids(db_path: str, origin: str | None = None) -> list[tuple[str, int]]:
    sql = "SELECT origin_node, origin_seq FROM change_log"
    params: list[str] = []
    if origin is not None:
        sql += " WHERE origin_node = ?"
        params.append(origin)
    return [tuple(row) for row in query(db_path, sql + " ORDER BY origin_node, origin_seq", params)]


def assert_no_duplicate_changes(db_path: str) -> None:
    duplicates = query(
        db_path,
        "SELECT origin_node, origin_seq, COUNT(*) FROM change_log "
        "GROUP BY origin_node, origin_seq HAVING COUNT(*) > 1",
    )
    assert duplicates == []


def own_changes(db_path: str, node: str) -> list[tuple]:
    """A node's changes exactly as made: what the hub must hold, once and unchanged."""
    return query(
        db_path,
        "SELECT origin_seq, hlc, entity, entity_id, op, payload FROM change_log "
        "WHERE origin_node = ? ORDER BY origin_seq",
        [node],
    )


def node_id_of(db_path: str) -> str:
    return query(db_path, "SELECT value FROM node_meta WHERE key = 'node_id'")[0][0]


def created_order(db_path: str, booking_ids: set[str]) -> list[str]:
    """The bookings in the event order of their `created` events."""
    rows = query(
        db_path, "SELECT booking_id FROM booking_events WHERE type = 'created' ORDER BY hlc"
    )
    return [row[0] for row in rows if row[0] in booking_ids]


def kill_when(
    process: subprocess.Popen, ready: Callable[[], bool], rng: random.Random, what: str
) -> None:
    """SIGKILL the process once `ready()` holds, after a short random delay; it must not have
    finished by then (else the test would prove nothing)."""
    deadline = time.monotonic() + CLI_TIMEOUT
    while not ready():
        assert process.poll() is None, f"the sync finished before {what}: {output_of(process)}"
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.005)
    time.sleep(rng.uniform(0, 0.03))
    assert process.poll() is None, f"the sync finished before it was killed: {output_of(process)}"
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL


def sync_to_completion(db_path: str, hub: LiveServer, key: str) -> tuple[int, int, int]:
    done = run_cli("sync", "--db", db_path, "--hub", hub.url, "--hub-key", key)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    match = SUMMARY.fullmatch(done.stdout.strip())
    assert match, done.stdout
    return tuple(int(number) for number in match.groups())  # type: ignore[return-value]


# --- 1. two offline nodes double-book; the hub settles it everywhere -----------------------------


def test_offline_double_booking_converges_when_the_hub_comes_back(tmp_path, hub_db, servers):
    cluster = start_cluster(tmp_path, hub_db, servers)
    hub, (n1, n2) = cluster.hub, cluster.nodes
    hub.stop()  # neither node can see the other's booking now

    customers, bookings = {}, {}
    for name, node in (("n1", n1), ("n2", n2)):
        customers[name] = post(node, CUSTOMERS, {"name": f"Customer of {name}"})
        bookings[name] = post(
            node,
            BOOKINGS,
            {
                "resource_id": cluster.resource_id,
                "customer_id": customers[name]["id"],
                "start_time": SLOT,
            },
        )
        assert bookings[name]["status"] == "pending"
    booked = {bookings["n1"]["id"], bookings["n2"]["id"]}

    hub = servers.restart(hub)
    replicas = [hub, n1, n2]

    def settled(shot: dict) -> bool:
        mine = [b for b in shot["bookings"] if b["id"] in booked]
        return (
            len(mine) == 2
            and sorted(b["status"] for b in mine) == ["cancelled", "pending"]
            and {c["id"] for c in customers.values()} <= ids(shot["customers"])
        )

    final = wait_converged(replicas, settled)

    winner, loser = created_order(hub.db_path, booked)
    by_id = {b["id"]: b for b in final["bookings"]}
    assert by_id[winner]["status"] == "pending"
    assert by_id[winner]["cancel_reason"] is None
    assert by_id[loser]["status"] == "cancelled"
    assert by_id[loser]["cancel_reason"].startswith("sync_conflict: overlaps")
    assert by_id[loser]["cancel_reason"] == f"sync_conflict: overlaps {winner}"
    assert by_id[winner]["conflict_with"] == [] and by_id[loser]["conflict_with"] == []
    assert final["anomalies"] == []
    # The customers made on each node are on the other one (and the hub), unchanged.
    for customer in customers.values():
        assert customer in final["customers"]

    # The cancellation is one event made by the hub, the same on every replica.
    histories = []
    for replica in replicas:
        events = list_all(replica, f"{BOOKINGS}/{loser}/events")
        histories.append(events)
        last = events[-1]
        assert (last["type"], last["to_status"], last["actor"]) == (
            "status_changed",
            "cancelled",
            "sync",
        )
        assert last["node_id"] == node_id_of(hub.db_path)
    assert histories[0] == histories[1] == histories[2]
    for replica in replicas:
        assert_no_duplicate_changes(replica.db_path)
        assert change_ids(replica.db_path) == change_ids(hub.db_path)


# --- 2. SIGKILL in the middle of a push and of a pull ---------------------------------------------


def test_sigkill_mid_push_loses_nothing_and_applies_nothing_twice(tmp_path, hub_db, servers, spawn):
    rng = random.Random(SEED)
    node_db = str(tmp_path / "node.db")
    node = seed_customers(node_db, BIG, "Offline customer")
    hub = servers.new(hub_db).start()
    key = make_key(hub.db_path, "node")

    def hub_acked() -> int:
        rows = query(hub.db_path, "SELECT acked_through FROM sync_peers WHERE node_id = ?", [node])
        return rows[0][0] if rows else 0

    # Killed twice while pushing: once after the first batches, once after more progress.
    for _kill in range(2):
        before = hub_acked()
        threshold = before + rng.choice([500, 1000])
        process = spawn("sync", "--db", node_db, "--hub", hub.url, "--hub-key", key)
        kill_when(process, lambda t=threshold: hub_acked() >= t, rng, f"{threshold} acked")
        assert before < hub_acked() < BIG, "the kill did not land in the middle of the push"

    pushed, pulled, applied = sync_to_completion(node_db, hub, key)
    assert pushed <= BIG and applied == 0  # everything pulled back is the node's own

    # Same customers on both sides, each once.
    customers = "SELECT id, name, email, tags, metadata, created_at FROM customers ORDER BY id"
    assert query(hub.db_path, customers) == query(node_db, customers)
    assert len(query(hub.db_path, customers)) == BIG
    # The hub holds every change the node made, exactly once and unchanged.
    assert_no_duplicate_changes(hub.db_path)
    assert own_changes(hub.db_path, node) == own_changes(node_db, node)
    assert len(own_changes(hub.db_path, node)) == BIG
    assert hub_acked() == BIG
    assert query(node_db, "SELECT value FROM sync_state WHERE key = 'acked_through'") == [
        (str(BIG),)
    ]
    assert change_ids(node_db) == change_ids(hub.db_path)
    status = run_cli("status", "--db", node_db, "--hub", hub.url)
    assert status.returncode == 0, status.stderr
    assert re.search(r"^Pending:\s+0 ", status.stdout, re.M), status.stdout
    assert re.search(rf"^Customers:\s+{BIG}$", status.stdout, re.M), status.stdout


def test_sigkill_mid_pull_resumes_from_the_last_page(tmp_path, hub_db, servers, spawn):
    rng = random.Random(SEED + 1)
    hub_node = seed_customers(hub_db, BIG, "Hub customer")  # the big hub's own changes
    hub = servers.new(hub_db).start()
    key = make_key(hub.db_path, "fresh")
    node_db = str(tmp_path / "fresh.db")
    run_cli("init", "--db", node_db).check_returncode()

    def held() -> int:
        return query(node_db, "SELECT COUNT(*) FROM change_log")[0][0]

    for _kill in range(2):
        before = held()
        threshold = before + rng.choice([500, 1000])
        process = spawn("sync", "--db", node_db, "--hub", hub.url, "--hub-key", key)
        kill_when(process, lambda t=threshold: held() >= t, rng, f"{threshold} pulled")
        assert before < held() < BIG, "the kill did not land in the middle of the pull"
        # A page and its cursor commit together: the node holds whole pages only.
        assert held() % 500 == 0

    left = BIG - held()
    pushed, pulled, applied = sync_to_completion(node_db, hub, key)
    # The pull resumed at the stored cursor: only what the node lacked came again.
    assert (pushed, pulled, applied) == (0, left, left)

    customers = "SELECT id, name, email, tags, metadata, created_at FROM customers ORDER BY id"
    assert query(node_db, customers) == query(hub.db_path, customers)
    assert len(query(node_db, customers)) == BIG
    assert_no_duplicate_changes(node_db)
    assert own_changes(node_db, hub_node) == own_changes(hub.db_path, hub_node)
    assert change_ids(node_db) == change_ids(hub.db_path)


# --- 3. the hub goes away; nodes keep working; it comes back --------------------------------------


def test_nodes_keep_booking_while_the_hub_is_down_and_catch_up(tmp_path, hub_db, servers):
    cluster = start_cluster(tmp_path, hub_db, servers)
    hub, nodes = cluster.hub, cluster.nodes
    hub.stop()

    made: dict[str, set[str]] = {"customers": set(), "bookings": set()}
    for number, node in enumerate(nodes):
        for hour in (9, 11):
            started = time.monotonic()
            customer = post(node, CUSTOMERS, {"name": f"Walk-in {number}-{hour}"})
            booking = post(
                node,
                BOOKINGS,
                {
                    "resource_id": cluster.resource_id,
                    "customer_id": customer["id"],
                    "start_time": f"2030-02-0{number + 1}T{hour:02d}:00:00Z",
                },
            )
            assert time.monotonic() - started < 5, "a local write waited on the network"
            made["customers"].add(customer["id"])
            made["bookings"].add(booking["id"])

    def failing(node: LiveServer) -> dict | None:
        state = sync_status(node)
        ok = state["last_error"] and state["pending"] > 0 and state["next_attempt"]
        return state if ok else None

    for node in nodes:
        state = wait_for(lambda n=node: failing(n), timeout=20, what="the failure in /sync/status")
        assert state["pending"] == 4  # two customers and two bookings not yet acknowledged
        assert "Cannot reach the hub" in state["last_error"]
        assert state["hub_url"] == hub.url
        assert state["last_success"] is not None  # from before the hub went away
        status = run_cli("status", "--db", node.db_path, "--hub", hub.url)
        assert status.returncode == 0, status.stderr
        assert re.search(r"^Pending:\s+4 ", status.stdout, re.M), status.stdout
        assert re.search(r"^Last error:\s+Cannot reach the hub", status.stdout, re.M)

    hub = servers.restart(hub)
    for node in nodes:
        response = node.request("POST", "/sync/run")
        assert response.status_code == 202, response.text

    def caught_up(shot: dict) -> bool:
        return made["customers"] <= ids(shot["customers"]) and made["bookings"] <= ids(
            shot["bookings"]
        )

    final = wait_converged([hub, *nodes], caught_up, timeout=20)
    assert all(b["status"] == "pending" for b in final["bookings"])
    for node in nodes:
        state = sync_status(node)
        assert (state["pending"], state["last_error"], state["next_attempt"]) == (0, None, None)


# --- 4. the hub is restored from an older backup ----------------------------------------------


def restore(servers: Servers, hub: LiveServer, backup: Path) -> LiveServer:
    """Stop the hub, put the backup in place of its database, and start it again."""
    hub.stop()
    database = Path(hub.db_path)
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(backup, database)
    return servers.restart(hub)


@pytest.mark.sqlite_only(reason=HUB_FILE_RESTORE)
def test_a_hub_restored_from_an_older_backup_gets_every_change_back(tmp_path, servers):
    cluster = start_cluster(tmp_path, str(tmp_path / "hub.db"), servers)
    hub, (n1, n2) = cluster.hub, cluster.nodes
    replicas = [hub, n1, n2]
    customers: set[str] = set()
    bookings: dict[str, str] = {}  # id -> the status it must end with

    def book(node: LiveServer, start: str) -> dict:
        customer = post(node, CUSTOMERS, {"name": f"Customer at {start}"})
        customers.add(customer["id"])
        booking = post(
            node,
            BOOKINGS,
            {
                "resource_id": cluster.resource_id,
                "customer_id": customer["id"],
                "start_time": start,
            },
        )
        bookings[booking["id"]] = "pending"
        return booking

    def everything(shot: dict) -> bool:
        statuses = {b["id"]: b["status"] for b in shot["bookings"]}
        return customers <= ids(shot["customers"]) and all(
            statuses.get(k) == v for k, v in bookings.items()
        )

    # Before the backup.
    early = [book(n1, "2030-03-01T09:00:00Z"), book(n2, "2030-03-02T09:00:00Z")]
    wait_converged(replicas, everything)
    backup = tmp_path / "hub-backup.db"
    done = run_cli("backup", "--db", hub.db_path, str(backup))
    assert done.returncode == 0, done.stderr
    old_hub_node = node_id_of(hub.db_path)
    old_epoch = sync_status(n1)["hub_epoch"]

    # After the backup: new records, and new events and field values on old ones.
    book(n1, "2030-03-03T09:00:00Z")
    book(n2, "2030-03-04T09:00:00Z")
    for node, booking in ((n1, early[0]), (n2, early[1])):
        moved = node.request(
            "POST", f"{BOOKINGS}/{booking['id']}/transition", json={"status": "confirmed"}
        )
        assert moved.status_code == 200, moved.text
        bookings[booking["id"]] = "confirmed"
    renamed = n2.request(
        "PATCH", f"{CUSTOMERS}/{early[0]['customer_id']}", json={"name": "Renamed after backup"}
    )
    assert renamed.status_code == 200, renamed.text
    before_restore = wait_converged(
        replicas,
        lambda shot: everything(shot) and "Renamed after backup" in str(shot["customers"]),
    )

    # The backup really is the older copy: two customers, none of what came after.
    assert query(str(backup), "SELECT COUNT(*) FROM customers") == [(2,)]
    hub = restore(servers, hub, backup)
    replicas = [hub, n1, n2]
    assert node_id_of(hub.db_path) != old_hub_node  # restored, it takes a new identity
    for node in (n1, n2):
        assert node.request("POST", "/sync/run").status_code == 202

    after = wait_converged(
        replicas,
        lambda shot: everything(shot) and "Renamed after backup" in str(shot["customers"]),
    )
    assert after == before_restore
    new_epoch = query(hub.db_path, "SELECT value FROM node_meta WHERE key = 'epoch'")[0][0]
    assert new_epoch != old_epoch
    for node in (n1, n2):
        assert sync_status(node)["hub_epoch"] == new_epoch
        assert sync_status(node)["pending"] == 0
        origin = node_id_of(node.db_path)
        assert own_changes(hub.db_path, origin) == own_changes(node.db_path, origin)
    assert_no_duplicate_changes(hub.db_path)

    # The nodes keep syncing with the restored hub.
    late = book(n1, "2030-03-05T09:00:00Z")
    final = wait_converged(replicas, everything)
    assert late["id"] in ids(final["bookings"])


@pytest.mark.sqlite_only(reason=HUB_FILE_RESTORE)
def test_a_restored_hub_regains_the_cancellation_it_made_after_the_backup(tmp_path, servers):
    """The hub's own changes made after the backup (a double-booking cancellation) live on
    only in the nodes; SYNC.md §3 and §7: the restored hub must end with every change again."""
    cluster = start_cluster(tmp_path, str(tmp_path / "hub.db"), servers)
    hub, (n1, n2) = cluster.hub, cluster.nodes
    backup = tmp_path / "hub-backup.db"
    done = run_cli("backup", "--db", hub.db_path, str(backup))
    assert done.returncode == 0, done.stderr

    hub.stop()
    booked = {
        post(node, BOOKINGS, {"resource_id": cluster.resource_id, "start_time": SLOT})["id"]
        for node in (n1, n2)
    }
    hub = servers.restart(hub)

    def settled(shot: dict) -> bool:
        statuses = sorted(b["status"] for b in shot["bookings"] if b["id"] in booked)
        return statuses == ["cancelled", "pending"]

    before_restore = wait_converged([hub, n1, n2], settled)

    hub = restore(servers, hub, backup)
    for node in (n1, n2):
        assert node.request("POST", "/sync/run").status_code == 202

    def synced() -> bool:
        # Every node has re-sent all it made and pulled all the restored hub holds.
        held_by_hub = set(change_ids(hub.db_path))
        return all(
            held_by_hub <= set(change_ids(node.db_path))
            and set(change_ids(node.db_path, node_id_of(node.db_path))) <= held_by_hub
            and sync_status(node)["pending"] == 0
            for node in (n1, n2)
        )

    wait_for(synced, timeout=CONVERGE_TIMEOUT, what="re-sent and pulled again")
    # Every change held anywhere is on the restored hub, once ...
    assert_no_duplicate_changes(hub.db_path)
    for node in (n1, n2):
        missing = set(change_ids(node.db_path)) - set(change_ids(hub.db_path))
        assert not missing, f"the restored hub lacks {sorted(missing)}"
    # ... so every replica shows the same, with the one cancellation and no anomaly.
    shots = [snapshot(replica) for replica in (hub, n1, n2)]
    assert shots[0] == shots[1] == shots[2] == before_restore
    assert shots[0]["anomalies"] == []


# --- 5. `booking sync` exit statuses and messages --------------------------------------------


def one_sentence_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: ") and lines[0].endswith("."), lines[0]
    return lines[0]


def test_booking_sync_exit_statuses_and_messages(tmp_path, hub_db, servers):
    hub = servers.new(hub_db).start()
    node_db = str(tmp_path / "node.db")
    seed_customers(node_db, 3, "Customer")
    key = make_key(hub.db_path, "node")

    done = run_cli("sync", "--db", node_db, "--hub", hub.url, "--hub-key", key)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stdout.strip().splitlines()) == 1, done.stdout
    assert SUMMARY.fullmatch(done.stdout.strip()).groups() == ("3", "1", "0"), done.stdout

    nowhere = f"http://127.0.0.1:{find_free_port()}"
    message = one_sentence_error(
        run_cli("sync", "--db", node_db, "--hub", nowhere, "--hub-key", key)
    )
    assert "Cannot reach the hub" in message and nowhere in message

    message = one_sentence_error(
        run_cli("sync", "--db", node_db, "--hub", hub.url, "--hub-key", "sk_not_a_real_key")
    )
    assert "401" in message

    read_key = make_key(hub.db_path, "reader", scopes="booking:read")
    message = one_sentence_error(
        run_cli("sync", "--db", node_db, "--hub", hub.url, "--hub-key", read_key)
    )
    assert "403" in message

    # A key already bound to another node is refused too, and says so.
    other_db = str(tmp_path / "other.db")
    seed_customers(other_db, 1, "Other")
    message = one_sentence_error(
        run_cli("sync", "--db", other_db, "--hub", hub.url, "--hub-key", key)
    )
    assert "403" in message

    # The failures were recorded, and a later success clears them.
    status = run_cli("status", "--db", node_db)
    assert re.search(r"^Last error:\s+The hub refused", status.stdout, re.M), status.stdout
    done = run_cli("sync", "--db", node_db, "--hub", hub.url, "--hub-key", key)
    assert done.returncode == 0, done.stderr
    status = run_cli("status", "--db", node_db)
    assert re.search(r"^Last error:\s+none$", status.stdout, re.M), status.stdout
