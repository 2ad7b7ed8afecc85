"""A copied or restored database takes a node id of its own, and its sync key follows it
(SYNC.md §3a): what the hub answers, through HTTP, and short in-process stories. The same
stories with real processes are in tests/live/test_copies.py; random restores and copies are
steps of the convergence state machine."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from app import store
from app.core.times import wall_ms
from app.web.auth import create_key
from sync import identity
from sync.client import HubClient, HubRejected
from tests.conftest import assert_error, unchanged
from tests.sync.harness import (
    CUSTOMERS,
    FlaskTransport,
    Replica,
    change_ids,
    expect,
    exported_state,
    settle,
)
from tests.sync.test_hub import NODE_A, NODE_B, PULL, PUSH, change, changes, push


@pytest.fixture
def sync_headers(make_key):
    return make_key("sync", rate_limit="100000/minute")


def claim(client, headers, node: str, batch: list[dict], **body):
    return client.post(
        PUSH, json={"protocol": 1, "node_id": node, "changes": batch, **body}, headers=headers
    )


TOKEN = "t" * 64


def copied_now() -> list[dict]:
    """The lineage of a copy of NODE_A made just now, after A's last push (a restore)."""
    return [{"node_id": NODE_A, "through": 2, "at": wall_ms()}]


# --- the hub's answers ---------------------------------------------------------------------------


def test_a_change_id_held_with_other_content_is_409_change_id_reused_and_changes_nothing(
    client, db, sync_headers
):
    assert push(client, sync_headers, NODE_A, changes(NODE_A, 1, 3)).status_code == 200
    other = change(NODE_A, 2, payload={"name": "Written by a copy", "tags": [], "metadata": {}})
    with unchanged(db):
        response = push(client, sync_headers, NODE_A, [other, change(NODE_A, 4)])
    error = assert_error(response, 409, "change_id_reused")
    assert error["origin_seq"] == 2 and error["origin_node"] == NODE_A
    assert "copy" in error["message"]


def test_a_successor_showing_the_lineage_token_takes_the_key_over(client, db, sync_headers):
    claim(client, sync_headers, NODE_A, changes(NODE_A, 1, 2), lineage_token=TOKEN)
    answer = claim(
        client, sync_headers, NODE_B, [change(NODE_B, 1)], lineage=copied_now(), lineage_token=TOKEN
    )
    assert answer.status_code == 200, answer.json
    # The key now serves the successor, and pulls for it.
    pulled = client.get(PULL, query_string={"node_id": NODE_B}, headers=sync_headers)
    assert pulled.status_code == 200, pulled.json
    assert store.sync_key_binding(db, _key_id(db))[0] == NODE_B


def test_the_node_a_key_moved_away_from_is_refused_with_what_to_do(client, db, sync_headers):
    claim(client, sync_headers, NODE_A, changes(NODE_A, 1, 2), lineage_token=TOKEN)
    claim(client, sync_headers, NODE_B, [], lineage=copied_now(), lineage_token=TOKEN)
    with unchanged(db):
        pushed = claim(client, sync_headers, NODE_A, [change(NODE_A, 3)], lineage_token=TOKEN)
        pulled = client.get(PULL, query_string={"node_id": NODE_A}, headers=sync_headers)
    for response in (pushed, pulled):
        error = assert_error(response, 409, "sync_key_in_use")
        assert "sync key of its own" in error["message"] and NODE_B in error["message"]


def test_a_copy_of_a_node_that_still_syncs_is_refused_and_the_key_stays(client, db, sync_headers):
    claim(client, sync_headers, NODE_A, changes(NODE_A, 1, 2), lineage_token=TOKEN)
    made_long_ago = [{"node_id": NODE_A, "through": 2, "at": 1}]  # before A's last push
    with unchanged(db):
        response = claim(
            client, sync_headers, NODE_B, [], lineage=made_long_ago, lineage_token=TOKEN
        )
    error = assert_error(response, 409, "sync_key_in_use")
    assert "still syncs" in error["message"] and "sync key of its own" in error["message"]
    assert store.sync_key_binding(db, _key_id(db))[0] == NODE_A


def test_a_clone_on_a_key_of_its_own_is_not_refused_for_the_originals_pushes(client, db, make_key):
    """Only pushes with the same key make the original 'still syncing': a cloned disk set up
    with a new key, told apart by the hub, keeps its own key."""
    original, clone = (make_key("sync", rate_limit="100000/minute") for _ in range(2))
    claim(client, original, NODE_A, changes(NODE_A, 1, 2), lineage_token=TOKEN)
    claim(client, clone, NODE_A, changes(NODE_A, 1, 2), lineage_token=TOKEN)  # binds it to A
    told_apart = copied_now()
    claim(client, original, NODE_A, [change(NODE_A, 3)], lineage_token=TOKEN)  # A goes on
    answer = claim(client, clone, NODE_B, [], lineage=told_apart, lineage_token=TOKEN)
    assert answer.status_code == 200, answer.json


@pytest.mark.parametrize(
    "proof", [{}, {"lineage_token": "x" * 64}, {"lineage": [], "lineage_token": TOKEN}]
)
def test_a_claim_without_the_token_or_the_lineage_is_403_and_changes_nothing(
    client, db, sync_headers, proof
):
    claim(client, sync_headers, NODE_A, changes(NODE_A, 1, 2), lineage_token=TOKEN)
    body = {"lineage": copied_now(), **proof}
    with unchanged(db):
        response = claim(client, sync_headers, NODE_B, [change(NODE_B, 1)], **body)
    assert "belongs to node" in assert_error(response, 403, "forbidden")["message"]


def _key_id(db) -> str:
    """The one sync key these tests make."""
    (key,) = [key for key in store.list_api_keys(db) if key["scopes"] == ["sync"]]
    return key["id"]


# --- in-process stories ------------------------------------------------------------------------


def _copy_file(source: Replica, target: Path) -> None:
    """A consistent copy of a live database file, as a backup tool would take it."""
    with sqlite3.connect(target) as copy:
        source.db.conn.backup(copy)
    copy.close()


def _reopen(old: Replica, name: str | None = None) -> Replica:
    """A Replica on an existing file (as `booking serve` after a restart), same key to the hub."""
    old.close()
    store.close_thread_connections()
    folder = Path(old.path).parent
    replica = Replica(folder, name or old.name)
    replica.hub_client, replica.transport = old.hub_client, old.transport
    return replica


def _put_back(backup: Path, live: Path, *, same_inode: bool) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{live}{suffix}").unlink(missing_ok=True)
    if same_inode:
        shutil.copyfile(backup, live)  # onto the existing file: its inode stays
    else:
        # The broken file is kept aside, as after a repair: a deleted file's inode number can
        # be handed to the next new file, and then only the hub would tell the copy apart.
        live.rename(live.with_suffix(".broken"))
        shutil.copy(backup, live)


def _names(replica: Replica) -> set[str]:
    return {row[0] for row in replica.db.execute("SELECT name FROM customers")}


@pytest.fixture
def hub_and_node(tmp_path):
    hub, node = Replica(tmp_path, "hub"), Replica(tmp_path, "node")
    node.connect(hub)
    yield hub, node
    hub.close()
    node.close()
    store.close_thread_connections()


def test_a_copied_file_opens_as_a_node_of_its_own_and_the_original_stays(tmp_path, hub_and_node):
    _hub, node = hub_and_node
    expect(node, "POST", CUSTOMERS, {"name": "Ada"}, 201)
    _copy_file(node, tmp_path / "copy.db")
    copy = Replica(tmp_path, "copy")
    try:
        original_id = store.node_id(node.db)
        assert store.node_id(copy.db) != original_id
        status = expect(copy, "GET", "/sync/status")
        assert status["identity"]["forked_from"] == original_id
        assert status["identity"]["reason"] == identity.COPIED
        # The original keeps its id and says nothing of copies; it opens the same again.
        assert expect(node, "GET", "/sync/status")["identity"] is None
        reopened = _reopen(node)
        assert store.node_id(reopened.db) == original_id
        reopened.close()
    finally:
        copy.close()


@pytest.mark.parametrize("same_inode", [False, True])
@pytest.mark.parametrize("write_first", [False, True])
def test_a_plain_copy_put_back_loses_nothing_before_or_after(
    tmp_path, hub_and_node, same_inode, write_first
):
    """Restored from a plain copy (no backup mark): a new inode is seen at open; the same inode
    only by the hub, on a reused change id (it wrote first) or on changes it lacks."""
    hub, node = hub_and_node
    expect(node, "POST", CUSTOMERS, {"name": "Before the backup"}, 201)
    node.sync()
    backup = tmp_path / "plain-backup.db"
    _copy_file(node, backup)
    expect(node, "POST", CUSTOMERS, {"name": "After the backup"}, 201)
    node.sync()
    node.close()
    store.close_thread_connections()
    _put_back(backup, Path(node.path), same_inode=same_inode)
    restored = _reopen(node)
    if write_first:
        expect(restored, "POST", CUSTOMERS, {"name": "After the restore"}, 201)
    settle([restored])
    expect(restored, "POST", CUSTOMERS, {"name": "Later still"}, 201)
    settle([restored])
    want = {"Before the backup", "After the backup", "Later still"}
    if write_first:
        want.add("After the restore")
    assert _names(restored) == want == _names(hub)
    assert exported_state(restored) == exported_state(hub)
    assert change_ids(restored) == change_ids(hub)
    found = (
        identity.COPIED if not same_inode else identity.REUSED if write_first else identity.BEHIND
    )
    assert expect(restored, "GET", "/sync/status")["identity"]["reason"] == found
    restored.close()


def test_a_copy_with_the_same_key_is_refused_loses_nothing_and_syncs_with_its_own_key(
    tmp_path, hub_and_node
):
    hub, node = hub_and_node
    expect(node, "POST", CUSTOMERS, {"name": "Shared"}, 201)
    node.sync()
    _copy_file(node, tmp_path / "copy.db")
    copy = Replica(tmp_path, "copy")
    copy.hub_client, copy.transport = node.hub_client, node.transport  # the same key
    expect(node, "POST", CUSTOMERS, {"name": "On the first laptop"}, 201)
    node.sync()  # the original still syncs after the copy was made
    expect(copy, "POST", CUSTOMERS, {"name": "On the copy"}, 201)
    with pytest.raises(HubRejected, match="sync key of its own"):
        copy.sync()
    assert expect(copy, "GET", "/sync/status")["pending"] == 1
    # The fix the message names: a key of its own.
    _, key = create_key(hub.db, name="copy", scopes=["sync"], rate_limit="1000000/minute")
    copy.transport = FlaskTransport(hub.app)
    copy.hub_client = HubClient("http://hub", key, session=copy.transport)
    settle([node, copy])
    want = {"Shared", "On the first laptop", "On the copy"}
    assert _names(node) == _names(copy) == _names(hub) == want
    copy.close()


def test_an_edit_after_seeing_a_fast_clocked_value_wins_everywhere(tmp_path, monkeypatch):
    from app.core.times import wall_ms

    hub, honest, fast = (Replica(tmp_path, name) for name in ("hub", "honest", "fast"))
    for node in (honest, fast):
        node.connect(hub)
    try:
        customer = expect(honest, "POST", CUSTOMERS, {"name": "Ada"}, 201)
        settle([honest, fast])
        year = 365 * 24 * 3600 * 1000
        monkeypatch.setattr("app.store.changelog.wall_ms", lambda: wall_ms() + year)
        expect(fast, "PATCH", f"{CUSTOMERS}/{customer['id']}", {"name": "From the future"})
        monkeypatch.undo()
        settle([fast, honest])
        url = f"{CUSTOMERS}/{customer['id']}"
        assert expect(honest, "GET", url)["name"] == "From the future"
        expect(honest, "PATCH", url, {"name": "Seen, then changed"})
        assert expect(honest, "GET", url)["name"] == "Seen, then changed"
        settle([honest, fast])
        for replica in (hub, honest, fast):
            assert expect(replica, "GET", url)["name"] == "Seen, then changed", replica.name
        # Only the laptop whose clock ran ahead is named, not the one that edited after it.
        suspects = [
            a for a in expect(hub, "GET", "/sync/anomalies") if a["kind"] == "clock_suspect"
        ]
        assert [a["message"].split()[1] for a in suspects] == [store.node_id(fast.db)]
        # The suspect stamp did not drag the honest clock a year ahead.
        assert int(store.meta(honest.db, "hlc").split("-")[0]) < wall_ms() + 60_000
    finally:
        for replica in (hub, honest, fast):
            replica.close()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"lineage_token": "short"}, "lineage_token"),
        ({"lineage": [{"node_id": NODE_A, "through": -1}]}, "lineage.0.through"),
        ({"lineage": [{"node_id": "", "through": 1}]}, "lineage.0.node_id"),
        ({"lineage": [{"node_id": NODE_A, "through": 1, "copied": True}]}, "lineage.0.copied"),
    ],
)
def test_a_malformed_lineage_is_422_naming_the_field_and_changes_nothing(
    client, db, sync_headers, extra, field
):
    with unchanged(db):
        response = claim(client, sync_headers, NODE_A, changes(NODE_A, 1, 1), **extra)
    error = assert_error(response, 422, "validation_error")
    assert field in [detail["field"] for detail in error["details"]], error
