"""Copies and restores of a laptop's database with real processes (SYNC.md §3a, issue #11):
a restore from `booking backup`, a plain file copy taken while the server was stopped, a copy
taken while it runs (the file plus its WAL), a copy that keeps the original's sync key, a
copy of a copy, a backup restored twice, and a plain copy put back over the original's inode.
Each ends with every record written anywhere on every replica.

Every node is a `booking serve` syncing every second; `booking sync`, `booking backup` and
`booking keys create` are the real CLI. Every wait is a bounded poll; every process started
here is stopped at teardown.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from sync import identity
from tests.live.server import LiveServer
from tests.live.sync_cluster import (
    BOOKINGS,
    CUSTOMERS,
    Servers,
    ids,
    list_all,
    make_key,
    node_args,
    post,
    query,
    run_cli,
    sync_status,
    wait_converged,
)
from tests.live.test_sync_processes import (
    SUMMARY,
    assert_no_duplicate_changes,
    change_ids,
    node_id_of,
    one_sentence_error,
    own_changes,
    restore,
    start_cluster,
)

pytestmark = pytest.mark.live


@pytest.fixture
def servers() -> Iterator[Servers]:
    made = Servers()
    yield made
    made.stop_all()


class Shop:
    """What the test wrote, where, so that the end can insist on every piece of it."""

    def __init__(self, resource_id: str) -> None:
        self.resource_id = resource_id
        self.customers: dict[str, str] = {}  # id -> name
        self.bookings: set[str] = set()
        self.hours = iter(range(8, 20))

    def write(self, node: LiveServer, name: str, *, book: bool = False) -> None:
        """A customer named `name` on `node`, and with `book` a booking of theirs (each at an
        hour of its own, so no two overlap)."""
        customer = post(node, CUSTOMERS, {"name": name})
        self.customers[customer["id"]] = name
        if book:
            body = {
                "resource_id": self.resource_id,
                "customer_id": customer["id"],
                "start_time": f"2030-04-01T{next(self.hours):02d}:00:00Z",
            }
            self.bookings.add(post(node, BOOKINGS, body)["id"])

    def held_by(self, shot: dict) -> bool:
        names = {c["id"]: c["name"] for c in shot["customers"]}
        return all(names.get(k) == v for k, v in self.customers.items()) and (
            self.bookings <= ids(shot["bookings"])
        )

    def everywhere(self, replicas: list[LiveServer]) -> dict:
        """Wait until every replica shows the same records, every one written here among
        them; then every replica holds every change, each once."""
        final = wait_converged(replicas, self.held_by)
        hub = replicas[0]
        for replica in replicas:
            assert_no_duplicate_changes(replica.db_path)
        for replica in replicas[1:]:
            assert sync_status(replica)["pending"] == 0, replica.db_path
            origin = node_id_of(replica.db_path)
            assert own_changes(hub.db_path, origin) == own_changes(replica.db_path, origin)
        wait_converged(replicas, lambda _shot: all_changes_everywhere(replicas))
        return final


def all_changes_everywhere(replicas: list[LiveServer]) -> bool:
    held = [set(change_ids(replica.db_path)) for replica in replicas]
    return all(changes == held[0] for changes in held)


def start_copy(servers: Servers, path: Path, original: LiveServer, *args: str) -> LiveServer:
    """`booking serve` on a copy of `original`'s file. The copy holds the original's API keys,
    so it prints no admin key: the original's serves."""
    server = servers.new(path, *args).start()
    server.admin_key = server.admin_key or original.admin_key
    return server


def online_copy(source: str, target: Path) -> None:
    """A consistent copy of a live database (SQLite's backup API, as a backup tool takes it),
    without the mark `booking backup` leaves."""
    with closing(sqlite3.connect(source, timeout=10)) as live:
        with closing(sqlite3.connect(target)) as copy:
            live.backup(copy)


def copy_with_wal(source: str, target: Path) -> None:
    """The database file and then its WAL, copied byte for byte while the server runs.

    The server checkpoints every 0.25 s; a checkpoint landing between the two copies would
    leave a torn pair (a file-level hazard of any such copy, not what this test is about), so
    a pair that a scratch copy of it finds broken is taken again.
    """
    for _attempt in range(5):
        for suffix in ("", "-wal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(source, target)
        if os.path.exists(f"{source}-wal"):
            shutil.copyfile(f"{source}-wal", f"{target}-wal")
        scratch = Path(f"{target}.check")
        for suffix in ("", "-wal"):
            if os.path.exists(f"{target}{suffix}"):
                shutil.copyfile(f"{target}{suffix}", f"{scratch}{suffix}")
        try:
            with closing(sqlite3.connect(scratch)) as check:
                sound = check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        except sqlite3.DatabaseError:
            sound = False
        for suffix in ("", "-wal", "-shm"):
            Path(f"{scratch}{suffix}").unlink(missing_ok=True)
        if sound:
            assert os.path.exists(f"{target}-wal"), "the running server left no WAL to copy"
            return
    raise AssertionError("no sound copy of the live file and its WAL in five tries")


def put_back(source: Path, live: str) -> None:
    """A copy put in place of the stopped node's file, onto the existing file (its inode
    stays), after removing the WAL and shared-memory files."""
    for suffix in ("-wal", "-shm"):
        Path(f"{live}{suffix}").unlink(missing_ok=True)
    inode = os.stat(live).st_ino
    shutil.copyfile(source, live)
    assert os.stat(live).st_ino == inode


def sync_cli(node: LiveServer, hub: LiveServer, key: str) -> None:
    done = run_cli("sync", "--db", node.db_path, "--hub", hub.url, "--hub-key", key)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert SUMMARY.fullmatch(done.stdout.strip()), done.stdout


def restore_backup(servers: Servers, node: LiveServer, backup: Path) -> LiveServer:
    """Stop the node, put the backup over its file (WAL and -shm removed first), start it
    again with its own arguments: the same hub key."""
    return restore(servers, node, backup)


# --- a. restored from `booking backup`, same key ------------------------------------------


def test_a_laptop_restored_from_booking_backup_gets_everything_back_and_keeps_its_key(
    tmp_path, hub_db, servers
):
    cluster = start_cluster(tmp_path, hub_db, servers, count=1)
    hub, (node,), (key,) = cluster.hub, cluster.nodes, cluster.keys
    shop = Shop(cluster.resource_id)
    original = node_id_of(node.db_path)

    shop.write(node, "Before the backup", book=True)
    shop.everywhere([hub, node])
    backup = tmp_path / "laptop-backup.db"
    done = run_cli("backup", "--db", node.db_path, str(backup))
    assert done.returncode == 0, done.stderr
    shop.write(node, "After the backup", book=True)
    shop.everywhere([hub, node])

    # The backup really is the older copy.
    assert query(str(backup), "SELECT name FROM customers") == [("Before the backup",)]
    node = restore_backup(servers, node, backup)
    shop.write(node, "After the restore", book=True)
    sync_cli(node, hub, key)
    shop.write(node, "Later still")
    sync_cli(node, hub, key)

    final = shop.everywhere([hub, node])
    assert {c["name"] for c in final["customers"]} == {
        "Before the backup",
        "After the backup",
        "After the restore",
        "Later still",
    }
    assert change_ids(node.db_path) == change_ids(hub.db_path)
    state = sync_status(node)
    assert state["last_error"] is None
    assert state["node_id"] != original
    assert state["identity"]["forked_from"] == original
    assert state["identity"]["reason"] == identity.RESTORED
    assert "restored" in state["identity"]["reason"]
    assert state["identity"]["former_node_ids"] == [original]


def test_a_backup_holding_writes_the_hub_never_got_brings_them_back_to_the_hub(
    tmp_path, hub_db, servers
):
    """The laptop works offline, `booking backup` runs, then the laptop's file is lost before
    it ever reached the hub: the restored file's offline writes must still reach the hub."""
    cluster = start_cluster(tmp_path, hub_db, servers, count=1)
    hub, (node,) = cluster.hub, cluster.nodes
    shop = Shop(cluster.resource_id)
    shop.write(node, "Before the outage", book=True)
    shop.everywhere([hub, node])

    hub.stop()  # the shop's internet is down: the laptop keeps taking bookings
    shop.write(node, "Written offline", book=True)
    backup = tmp_path / "nightly.db"
    done = run_cli("backup", "--db", node.db_path, str(backup))
    assert done.returncode == 0, done.stderr
    node = restore_backup(servers, node, backup)  # the laptop's disk died; the backup is back
    hub = servers.restart(hub)

    final = shop.everywhere([hub, node])
    assert {c["name"] for c in final["customers"]} == {"Before the outage", "Written offline"}
    assert sync_status(node)["identity"]["reason"] == identity.RESTORED


# --- b. a plain copy taken while the server was stopped: a second laptop with its own key ---


def test_a_copy_taken_while_stopped_becomes_a_second_laptop_and_nothing_is_lost(
    tmp_path, hub_db, servers
):
    cluster = start_cluster(tmp_path, hub_db, servers, count=1)
    hub, (first,) = cluster.hub, cluster.nodes
    shop = Shop(cluster.resource_id)
    shop.write(first, "Before the copy", book=True)
    shop.everywhere([hub, first])
    original = node_id_of(first.db_path)

    first.stop()
    second_db = tmp_path / "laptop2.db"
    for suffix in ("", "-wal"):
        if os.path.exists(f"{first.db_path}{suffix}"):
            shutil.copy(f"{first.db_path}{suffix}", f"{second_db}{suffix}")
    first = servers.restart(first)
    second = start_copy(servers, second_db, first, *node_args(hub, make_key(hub.db_path, "l2")))

    for number in range(2):
        shop.write(first, f"First laptop {number}", book=number == 0)
        shop.write(second, f"Second laptop {number}", book=number == 0)
    shop.everywhere([hub, first, second])

    assert node_id_of(first.db_path) == original
    assert sync_status(first)["identity"] is None
    copy = sync_status(second)["identity"]
    assert (copy["forked_from"], copy["reason"]) == (original, identity.COPIED)
    for node in (first, second):
        assert sync_status(node)["last_error"] is None


# --- c. a copy of the file and its WAL taken while the server runs ------------------------


def test_a_copy_taken_with_its_wal_while_running_becomes_a_laptop_of_its_own(
    tmp_path, hub_db, servers
):
    cluster = start_cluster(tmp_path, hub_db, servers, count=1)
    hub, (first,) = cluster.hub, cluster.nodes
    shop = Shop(cluster.resource_id)
    shop.write(first, "Before the copy", book=True)
    shop.everywhere([hub, first])
    original = node_id_of(first.db_path)

    second_db = tmp_path / "laptop2.db"
    copy_with_wal(first.db_path, second_db)
    second = start_copy(servers, second_db, first, *node_args(hub, make_key(hub.db_path, "l2")))

    for number in range(2):
        shop.write(second, f"Second laptop {number}", book=number == 0)
        shop.write(first, f"First laptop {number}", book=number == 0)
    shop.everywhere([hub, first, second])
    assert node_id_of(first.db_path) == original
    assert sync_status(second)["identity"]["reason"] == identity.COPIED
    assert sync_status(second)["identity"]["forked_from"] == original


# --- d. a copy with the same key while the original still syncs --------------------------


def test_a_copy_on_the_originals_key_is_refused_loses_nothing_and_syncs_with_its_own_key(
    tmp_path, hub_db, servers
):
    cluster = start_cluster(tmp_path, hub_db, servers, count=1)
    hub, (first,), (key,) = cluster.hub, cluster.nodes, cluster.keys
    shop = Shop(cluster.resource_id)
    shop.write(first, "Shared", book=True)
    shop.everywhere([hub, first])

    copy_db = tmp_path / "copy.db"
    online_copy(first.db_path, copy_db)
    copy = start_copy(servers, copy_db, first)  # not syncing yet: opened, it is told apart
    shop.write(copy, "On the copy", book=True)
    shop.write(first, "On the first laptop")  # the original goes on syncing after the copy
    wait_converged([hub, first], lambda shot: "On the first laptop" in names_in(shot))

    before = sync_status(copy)
    assert before["pending"] == 2
    message = one_sentence_error(
        run_cli("sync", "--db", str(copy_db), "--hub", hub.url, "--hub-key", key)
    )
    assert "sync key of its own" in message, message
    assert "booking keys create --scopes sync" in message and "--hub-key" in message
    after = sync_status(copy)
    assert after["pending"] == before["pending"]
    assert after["node_id"] == before["node_id"]
    assert {"Shared", "On the copy"} <= {c["name"] for c in list_all(copy, CUSTOMERS)}
    assert "On the copy" not in {c["name"] for c in list_all(hub, CUSTOMERS)}
    # The original is not disturbed, and keeps its key.
    shop.write(first, "First laptop, still syncing")
    wait_converged([hub, first], lambda shot: "First laptop, still syncing" in names_in(shot))
    assert sync_status(first)["last_error"] is None

    # The fix the sentence names: a key of its own, and a restart with it.
    own_key = make_key(hub.db_path, "copy")
    copy.stop()
    copy = start_copy(servers, copy_db, first, *node_args(hub, own_key))
    shop.write(copy, "Copy, with its own key")
    shop.write(first, "First laptop, at the end")
    shop.everywhere([hub, first, copy])
    assert sync_status(copy)["last_error"] is None
    assert sync_status(first)["last_error"] is None


def names_in(shot: dict) -> set[str]:
    return {customer["name"] for customer in shot["customers"]}


# --- e. a copy of a copy; a backup restored twice ----------------------------------------


def test_a_copy_of_a_copy_becomes_a_third_laptop_and_nothing_is_lost(tmp_path, hub_db, servers):
    cluster = start_cluster(tmp_path, hub_db, servers, count=1)
    hub, (first,) = cluster.hub, cluster.nodes
    shop = Shop(cluster.resource_id)
    shop.write(first, "Before any copy", book=True)
    shop.everywhere([hub, first])
    first_id = node_id_of(first.db_path)

    second_db = tmp_path / "laptop2.db"
    online_copy(first.db_path, second_db)
    second = start_copy(servers, second_db, first, *node_args(hub, make_key(hub.db_path, "l2")))
    shop.write(second, "Second laptop, before its copy", book=True)
    shop.everywhere([hub, first, second])
    second_id = node_id_of(second.db_path)

    second.stop()
    third_db = tmp_path / "laptop3.db"
    for suffix in ("", "-wal"):
        if os.path.exists(f"{second_db}{suffix}"):
            shutil.copy(f"{second_db}{suffix}", f"{third_db}{suffix}")
    second = servers.restart(second)
    third = start_copy(servers, third_db, first, *node_args(hub, make_key(hub.db_path, "l3")))

    for node, name in ((first, "First"), (second, "Second"), (third, "Third")):
        shop.write(node, f"{name} laptop, at the end", book=True)
    shop.everywhere([hub, first, second, third])
    assert node_id_of(second.db_path) == second_id
    copied = sync_status(third)["identity"]
    assert copied["forked_from"] == second_id
    assert copied["former_node_ids"] == [first_id, second_id]


def test_a_backup_restored_twice_loses_nothing(tmp_path, hub_db, servers):
    cluster = start_cluster(tmp_path, hub_db, servers, count=1)
    hub, (node,), (key,) = cluster.hub, cluster.nodes, cluster.keys
    shop = Shop(cluster.resource_id)
    original = node_id_of(node.db_path)
    shop.write(node, "Before the backup", book=True)
    shop.everywhere([hub, node])
    backup = tmp_path / "laptop-backup.db"
    assert run_cli("backup", "--db", node.db_path, str(backup)).returncode == 0
    shop.write(node, "After the backup", book=True)
    shop.everywhere([hub, node])

    seen = {original}
    for number in (1, 2):
        node = restore_backup(servers, node, backup)
        shop.write(node, f"After restore {number}", book=True)
        sync_cli(node, hub, key)
        shop.everywhere([hub, node])
        state = sync_status(node)
        assert state["identity"]["reason"] == identity.RESTORED
        assert state["identity"]["forked_from"] == original
        assert state["node_id"] not in seen
        seen.add(state["node_id"])
    assert len(shop.customers) == 4
    assert change_ids(node.db_path) == change_ids(hub.db_path)


# --- f. a plain copy put back over the original's inode, without the backup mark ----------


def test_a_plain_copy_put_back_over_the_same_inode_is_found_by_the_hub(tmp_path, hub_db, servers):
    cluster = start_cluster(tmp_path, hub_db, servers, count=1)
    hub, (node,) = cluster.hub, cluster.nodes
    shop = Shop(cluster.resource_id)
    original = node_id_of(node.db_path)
    shop.write(node, "Before the copy", book=True)
    shop.everywhere([hub, node])
    plain = tmp_path / "plain-copy.db"
    online_copy(node.db_path, plain)
    shop.write(node, "After the copy", book=True)
    shop.everywhere([hub, node])

    node.stop()
    put_back(plain, node.db_path)
    node = servers.restart(node)  # the same seat: nothing local tells it is a copy
    shop.write(node, "After the restore", book=True)
    final = shop.everywhere([hub, node])

    assert {c["name"] for c in final["customers"]} == {
        "Before the copy",
        "After the copy",
        "After the restore",
    }
    state = sync_status(node)
    assert state["node_id"] != original
    assert state["identity"]["forked_from"] == original
    assert state["identity"]["reason"] in (identity.BEHIND, identity.REUSED)
    assert state["last_error"] is None
    assert change_ids(node.db_path) == change_ids(hub.db_path)
