"""The hub's protocol (SYNC.md §3–§4) and every node's sync views, through HTTP: each error
path with its status, code, and that it changes nothing."""

from __future__ import annotations

import pytest

from app import create_app, store
from app.core.clock import Hlc
from app.core.ids import new_node_id
from app.core.times import wall_ms
from tests.conftest import assert_error, unchanged
from tests.sync.harness import CUSTOMERS, Replica, expect

PUSH = "/sync/push"
PULL = "/sync/pull"
NODE_A = new_node_id()
NODE_B = new_node_id()
START = wall_ms() - 60_000  # stamps from a minute ago: never suspect


def change(node: str, seq: int, **overrides) -> dict:
    """Change number `seq` of `node`: a customer upsert, as a node would push it."""
    body = {
        "change_id": f"{node}:{seq}",
        "origin_node": node,
        "origin_seq": seq,
        "hlc": Hlc(START + seq, 0, node).encode(),
        "entity": "customer",
        "entity_id": f"cus_{node}{seq:04d}",
        "op": "upsert",
        "payload": {"name": f"Customer {seq}", "tags": [], "metadata": {}},
    }
    return {**body, **overrides}


def changes(node: str, first: int, last: int) -> list[dict]:
    return [change(node, seq) for seq in range(first, last + 1)]


def push(client, headers, node: str, batch: list[dict], protocol: int = 1):
    body = {"protocol": protocol, "node_id": node, "changes": batch}
    return client.post(PUSH, json=body, headers=headers)


def pull(client, headers, **params):
    return client.get(PULL, query_string=params, headers=headers)


def held(db) -> list[tuple[str, int]]:
    return db.execute("SELECT origin_node, origin_seq FROM change_log ORDER BY seq").fetchall()


@pytest.fixture
def sync_headers(make_key):
    return make_key("sync", rate_limit="100000/minute")


# --- authorization ------------------------------------------------------------------------------


def test_push_and_pull_with_a_sync_key_answer_ok(client, db, sync_headers):
    response = push(client, sync_headers, NODE_A, changes(NODE_A, 1, 2))
    assert response.status_code == 200 and response.json["status"] == "ok"
    assert response.json["data"]["acked_through"] == 2
    page = pull(client, sync_headers).json["data"]
    assert [c["change_id"] for c in page["changes"]] == [f"{NODE_A}:1", f"{NODE_A}:2"]


@pytest.mark.parametrize("method, path", [("POST", PUSH), ("GET", PULL)])
def test_push_and_pull_without_a_key_are_401(client, db, method, path):
    with unchanged(db):
        response = client.open(path, method=method, json={"protocol": 1, "changes": []})
    assert_error(response, 401, "unauthorized")


@pytest.mark.parametrize("method, path", [("POST", PUSH), ("GET", PULL)])
def test_push_and_pull_with_a_booking_admin_key_are_403(client, db, admin_headers, method, path):
    body = {"protocol": 1, "node_id": NODE_A, "changes": [change(NODE_A, 1)]}
    with unchanged(db):
        response = client.open(path, method=method, json=body, headers=admin_headers)
    assert_error(response, 403, "forbidden")


def test_a_sync_key_cannot_read_the_anomalies_and_a_missing_key_is_401(client, sync_headers):
    assert_error(client.get("/sync/anomalies", headers=sync_headers), 403, "forbidden")
    assert_error(client.get("/sync/anomalies"), 401, "unauthorized")


# --- push errors --------------------------------------------------------------------------------


def test_an_unknown_protocol_version_is_409_protocol_mismatch_and_changes_nothing(
    client, db, sync_headers
):
    with unchanged(db):
        response = push(client, sync_headers, NODE_A, changes(NODE_A, 1, 2), protocol=2)
    error = assert_error(response, 409, "protocol_mismatch")
    assert error["expected_protocol"] == 1


def test_a_key_bound_to_one_node_pushing_as_another_is_403_and_changes_nothing(
    client, db, sync_headers
):
    assert push(client, sync_headers, NODE_A, changes(NODE_A, 1, 1)).status_code == 200
    with unchanged(db):
        response = push(client, sync_headers, NODE_B, changes(NODE_B, 1, 1))
    assert NODE_A in assert_error(response, 403, "forbidden")["message"]
    assert store.peer_acked(db, NODE_B) == 0


def test_a_key_bound_to_one_node_pulling_as_another_is_403(client, db, sync_headers):
    assert push(client, sync_headers, NODE_A, changes(NODE_A, 1, 1)).status_code == 200
    assert_error(pull(client, sync_headers, node_id=NODE_B), 403, "forbidden")


def test_a_node_may_push_only_the_changes_it_originated(client, db, sync_headers):
    foreign = change(NODE_B, 2)
    with unchanged(db):
        response = push(client, sync_headers, NODE_A, [change(NODE_A, 1), foreign])
    assert foreign["change_id"] in assert_error(response, 403, "forbidden")["message"]


@pytest.mark.parametrize(
    "first_batch, second_batch, expected",
    [
        ((1, 2), (4, 5), 3),  # starts past acked + 1
        (None, (2, 3), 1),  # a node the hub has never heard of must start at 1
    ],
)
def test_a_batch_starting_past_the_next_expected_change_is_409_sequence_gap(
    client, db, sync_headers, first_batch, second_batch, expected
):
    if first_batch:
        assert push(client, sync_headers, NODE_A, changes(NODE_A, *first_batch)).status_code == 200
    with unchanged(db):
        response = push(client, sync_headers, NODE_A, changes(NODE_A, *second_batch))
    error = assert_error(response, 409, "sequence_gap")
    assert error["expected"] == expected
    assert error["high_water"] == expected - 1 and error["epoch"] == store.meta(db, "epoch")


def test_a_batch_with_a_hole_inside_is_409_sequence_gap_and_applies_none_of_it(
    client, db, sync_headers
):
    with unchanged(db):
        response = push(client, sync_headers, NODE_A, [change(NODE_A, 1), change(NODE_A, 3)])
    assert assert_error(response, 409, "sequence_gap")["expected"] == 2


def test_a_repeated_batch_is_skipped_and_acknowledged_again(client, db, sync_headers):
    batch = changes(NODE_A, 1, 3)
    assert push(client, sync_headers, NODE_A, batch).json["data"]["acked_through"] == 3
    with unchanged(db):
        again = push(client, sync_headers, NODE_A, batch)
    assert again.status_code == 200 and again.json["data"]["acked_through"] == 3
    assert store.peer_acked(db, NODE_A) == 3
    assert held(db) == [(NODE_A, 1), (NODE_A, 2), (NODE_A, 3)]


def test_a_batch_overlapping_what_the_hub_holds_adds_only_the_new_changes(client, db, sync_headers):
    push(client, sync_headers, NODE_A, changes(NODE_A, 1, 3))
    response = push(client, sync_headers, NODE_A, changes(NODE_A, 2, 5))
    assert response.json["data"]["acked_through"] == 5
    assert held(db) == [(NODE_A, seq) for seq in range(1, 6)]
    assert store.count_rows(db, "customers") == 5


def test_more_than_500_changes_in_one_push_is_422_and_500_are_fine(client, db, sync_headers):
    with unchanged(db):
        response = push(client, sync_headers, NODE_A, changes(NODE_A, 1, 501))
    error = assert_error(response, 422, "validation_error")
    assert "changes" in [detail["field"] for detail in error["details"]]
    response = push(client, sync_headers, NODE_A, changes(NODE_A, 1, 500))
    assert response.json["data"]["acked_through"] == 500


@pytest.mark.parametrize(
    "breakage, field",
    [
        (lambda c: c.pop("hlc"), "changes.0.hlc"),
        (lambda c: c.update(hlc="yesterday"), "changes.0.hlc"),
        (lambda c: c.update(origin_seq=0), "changes.0.origin_seq"),
        (lambda c: c.update(origin_seq="1"), "changes.0.origin_seq"),
        (lambda c: c.update(payload=["name"]), "changes.0.payload"),
        (lambda c: c.update(entity_id=""), "changes.0.entity_id"),
        (lambda c: c.pop("origin_node"), "changes.0.origin_node"),
        (lambda c: c.update(colour="blue"), "changes.0.colour"),
    ],
)
def test_a_malformed_change_is_422_naming_the_field_and_changes_nothing(
    client, db, sync_headers, breakage, field
):
    broken = change(NODE_A, 1)
    breakage(broken)
    with unchanged(db):
        response = push(client, sync_headers, NODE_A, [broken])
    error = assert_error(response, 422, "validation_error")
    assert field in [detail["field"] for detail in error["details"]]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"protocol": 1, "changes": []}, "node_id"),
        ({"protocol": 1, "node_id": NODE_A, "changes": "all of them"}, "changes"),
        ({"protocol": 1, "node_id": NODE_A}, "changes"),
    ],
)
def test_a_malformed_push_body_is_422_naming_the_field(client, db, sync_headers, body, field):
    with unchanged(db):
        response = client.post(PUSH, json=body, headers=sync_headers)
    error = assert_error(response, 422, "validation_error")
    assert field in [detail["field"] for detail in error["details"]]


def test_push_answers_carry_the_epoch_and_the_high_water_mark(client, db, sync_headers):
    data = push(client, sync_headers, NODE_A, changes(NODE_A, 1, 4)).json["data"]
    assert data["acked_through"] == data["high_water"] == 4
    assert data["epoch"] == store.meta(db, "epoch")
    assert data["former_nodes"] == []  # never restored from a backup


# --- pull ---------------------------------------------------------------------------------------


def test_pull_walks_every_change_once_in_pages_of_limit(client, db, sync_headers):
    push(client, sync_headers, NODE_A, changes(NODE_A, 1, 5))
    seen, flags, cursor = [], [], None
    for _ in range(5):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = pull(client, sync_headers, **params).json["data"]
        seen += [c["origin_seq"] for c in page["changes"]]
        flags.append(page["has_more"])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == [1, 2, 3, 4, 5] and flags == [True, True, False]
    tail = pull(client, sync_headers, cursor=cursor).json["data"]
    assert tail["changes"] == [] and tail["has_more"] is False and tail["next_cursor"]
    push(client, sync_headers, NODE_A, changes(NODE_A, 6, 6))
    later = pull(client, sync_headers, cursor=cursor).json["data"]
    assert [c["origin_seq"] for c in later["changes"]] == [6]


def test_pulled_changes_travel_exactly_as_they_were_pushed(client, db, sync_headers):
    sent = changes(NODE_A, 1, 2)
    push(client, sync_headers, NODE_A, sent)
    got = pull(client, sync_headers).json["data"]["changes"]
    assert got == [{**c, "clock_suspect": False} for c in sent]


@pytest.mark.parametrize("limit", [0, 1001, "many"])
def test_a_pull_limit_out_of_bounds_is_422(client, sync_headers, limit):
    error = assert_error(pull(client, sync_headers, limit=limit), 422, "validation_error")
    assert "limit" in [detail["field"] for detail in error["details"]]


def test_a_forged_pull_cursor_is_422(client, db, sync_headers, tmp_path, admin_headers):
    push(client, sync_headers, NODE_A, changes(NODE_A, 1, 3))
    other_hub = create_app({"TESTING": True, "DB": str(tmp_path / "other.db")})
    foreign = pull(other_hub.test_client(), _other_sync_key(tmp_path)).json["data"]["next_cursor"]
    listed = client.get(f"{CUSTOMERS}?limit=1", headers=admin_headers).json["meta"]["next_cursor"]
    for cursor in ("WzAsIDBd.forged", foreign, listed):
        error = assert_error(pull(client, sync_headers, cursor=cursor), 422, "validation_error")
        assert "cursor" in [detail["field"] for detail in error["details"]]


def _other_sync_key(tmp_path) -> dict:
    from app.web.auth import create_key

    other = store.open_db(str(tmp_path / "other.db"))
    try:
        _, key = create_key(other, name="other", scopes=["sync"], rate_limit="600/minute")
    finally:
        other.close()
    return {"Authorization": f"Bearer {key}"}


def test_pull_answers_carry_the_epoch_and_the_nodes_high_water_mark(
    client, db, sync_headers, make_key
):
    push(client, sync_headers, NODE_A, changes(NODE_A, 1, 3))
    epoch = store.meta(db, "epoch")
    bound = pull(client, sync_headers).json["data"]
    assert (bound["epoch"], bound["high_water"]) == (epoch, 3)
    unbound = make_key("sync")
    assert pull(client, unbound, node_id=NODE_A).json["data"]["high_water"] == 3
    assert pull(client, unbound, node_id=NODE_B).json["data"]["high_water"] == 0
    assert pull(client, unbound).json["data"]["high_water"] == 0


def test_a_cursor_from_another_epoch_starts_again_from_the_beginning(client, db, sync_headers):
    push(client, sync_headers, NODE_A, changes(NODE_A, 1, 3))
    old = pull(client, sync_headers).json["data"]
    assert pull(client, sync_headers, cursor=old["next_cursor"]).json["data"]["changes"] == []
    with store.transaction(db):  # what restoring the hub from a backup does to it
        db.execute("UPDATE node_meta SET value = 'RESTORED' WHERE key = 'epoch'")
    again = pull(client, sync_headers, cursor=old["next_cursor"]).json["data"]
    assert again["epoch"] == "RESTORED" != old["epoch"]
    assert [c["origin_seq"] for c in again["changes"]] == [1, 2, 3]
    assert pull(client, sync_headers, cursor=again["next_cursor"]).json["data"]["changes"] == []


# --- every node's sync views ---------------------------------------------------------------------


def test_sync_status_of_a_node_that_never_synced(client, db, read_headers, admin_headers):
    client.post(CUSTOMERS, json={"name": "Ada"}, headers=admin_headers)
    client.post(CUSTOMERS, json={"name": "Bo"}, headers=admin_headers)
    data = client.get("/sync/status", headers=read_headers).json["data"]
    assert data == {
        "hub_url": None,
        "node_id": store.node_id(db),
        "pending": 2,
        "acked_through": 0,
        "last_success": None,
        "last_attempt": None,
        "last_error": None,
        "next_attempt": None,
        "cursor": None,
        "hub_epoch": None,
        "anomalies": 0,
        "identity": None,  # the original database, never restored or copied
    }


def test_sync_status_after_a_sync_shows_nothing_pending_and_the_hubs_epoch(tmp_path):
    hub, node = Replica(tmp_path, "hub"), Replica(tmp_path, "node")
    try:
        node.connect(hub)
        expect(node, "POST", CUSTOMERS, {"name": "Ada"}, 201)
        assert expect(node, "GET", "/sync/status")["pending"] == 1
        node.sync()
        data = expect(node, "GET", "/sync/status")
        assert (data["pending"], data["acked_through"]) == (0, 1)
        assert data["last_success"].endswith("Z") and data["last_error"] is None
        assert data["cursor"] and data["hub_epoch"] == store.meta(hub.db, "epoch")
        assert data["node_id"] == store.node_id(node.db) != store.node_id(hub.db)
    finally:
        hub.close()
        node.close()
        store.close_thread_connections()


def test_sync_status_needs_a_key(client):
    assert_error(client.get("/sync/status"), 401, "unauthorized")


def test_sync_run_on_a_node_without_a_worker_is_422_invalid_state(client, db, admin_headers):
    with unchanged(db):
        response = client.post("/sync/run", headers=admin_headers)
    assert "--hub" in assert_error(response, 422, "invalid_state")["message"]


@pytest.mark.parametrize("scope", ["booking:read", "booking:write", "sync"])
def test_sync_run_needs_an_admin_key(client, make_key, scope):
    assert_error(client.post("/sync/run", headers=make_key(scope)), 403, "forbidden")
