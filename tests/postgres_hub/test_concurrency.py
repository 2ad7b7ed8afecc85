"""Two hub sessions on one PostgreSQL database behave as one (HUB.md, issue #14).

Each test holds one session's transaction open at the point where the race would bite, lets
the other session run, and only then commits the first: the interleaving two hub processes
can meet by chance, made to happen every time. The sessions are two `Connection`s, as two
`booking serve` processes would have; the sync-level proof with real processes is
tests/postgres_hub/test_hub_race.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest

from app import create_app, store
from app.core.times import parse_instant, wall_ms
from app.domain import booking_states, bookings
from app.domain.errors import InvalidTransition, SlotConflict
from app.store import Connection, changelog
from app.store.postgres import PostgresConnection
from app.web.auth import create_key
from sync import service
from sync.client import HubClient
from tests.sync.harness import BOOKINGS, CUSTOMERS, RESOURCES, FlaskTransport, Replica, expect

SLOT = "2030-01-07T10:00:00Z"
WAIT_S = 20.0  # for the other session to finish or to block on a lock (a busy machine is slow)


@pytest.fixture
def hub(postgres_url: str) -> Iterator[SimpleNamespace]:
    """A hub app on a fresh PostgreSQL database, with an admin key, like harness.Replica."""
    app = create_app({"TESTING": True, "DB": postgres_url})
    db = store.open_db(postgres_url)
    _, key = create_key(db, name="hub", scopes=["booking:admin"], rate_limit="1000000/minute")
    hub = SimpleNamespace(
        name="hub",
        url=postgres_url,
        app=app,
        db=db,
        client=app.test_client(),
        headers={"Authorization": f"Bearer {key}"},
    )
    hub.call = lambda method, path, body=None: hub.client.open(
        path, method=method, json=body, headers=hub.headers
    )
    yield hub
    db.close()
    store.close_thread_connections()


@pytest.fixture
def second_session(postgres_url: str) -> Iterator[Connection]:
    """Another session on the hub's database: what a second hub process would hold."""
    db = store.open_db(postgres_url)
    yield db
    db.close()


def _node(tmp_path: Path, name: str, hub: SimpleNamespace) -> tuple[Replica, str]:
    """A laptop (SQLite) synced with the hub, and the id of its sync key there."""
    node = Replica(tmp_path, name)
    record, key = create_key(
        hub.db, name=f"sync-{name}", scopes=["sync"], rate_limit="1000000/minute"
    )
    node.transport = FlaskTransport(hub.app)
    node.hub_client = HubClient("http://hub", key, session=node.transport)
    return node, record["id"]


def _pending_push(node: Replica) -> service.Push:
    """The push `node` would send now: its changes the hub has not acknowledged."""
    return service.Push(
        node_id=store.node_id(node.db), changes=changelog.own_pending(node.db, 0, 500)
    )


def _run_aside(call: Callable[[], Any]) -> tuple[Future, ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(1)
    return pool.submit(call), pool


def _blocked(url: str, future: Future) -> bool:
    """Wait until the session running `future` finished (False) or waits for a lock (True)."""
    deadline = time.monotonic() + WAIT_S
    with psycopg.connect(url, autocommit=True) as observer:
        while not future.done():
            waiting = observer.execute(
                "SELECT COUNT(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()[0]
            if waiting:
                return True
            assert time.monotonic() < deadline, "the other session neither finished nor waited"
            time.sleep(0.01)
    return False


def _while_held(first: Connection, hold: Callable[[], Any], other: Callable[[], Any]) -> Any:
    """Run `hold` in an open transaction of `first`, then `other` (another session) beside it;
    commit `first` once `other` finished or blocks on a lock. Returns `other`'s result and
    whether it had to wait for the commit."""
    assert isinstance(first, PostgresConnection)
    with first.transaction():
        hold()
        future, pool = _run_aside(other)
        waited = _blocked(first.url, future)
    try:
        return future.result(timeout=30), waited
    finally:
        pool.shutdown()


def _active_on(hub: SimpleNamespace, resource_id: str) -> list[str]:
    rows = hub.db.query(
        "SELECT id FROM bookings WHERE resource_id = ? AND status IN ('pending', 'confirmed')",
        [resource_id],
    )
    return [row["id"] for row in rows]


# --- 1. the double-booking rule across hub processes -------------------------------------------


@pytest.mark.parametrize("first_lands", ["earlier claim", "later claim"])
def test_a_double_booking_pushed_through_two_sessions_at_once_has_one_winner(
    tmp_path, hub, second_session, first_lands
):
    ada, ada_key = _node(tmp_path, "ada", hub)
    bob, bob_key = _node(tmp_path, "bob", hub)
    resource = expect(ada, "POST", RESOURCES, {"name": "Chair 1"}, status=201)
    ada.sync(), bob.sync()
    # Offline, both book the slot: ada first, so ada's claim is the earlier in event order.
    early = expect(ada, "POST", BOOKINGS, {"resource_id": resource["id"], "start_time": SLOT}, 201)
    late = expect(bob, "POST", BOOKINGS, {"resource_id": resource["id"], "start_time": SLOT}, 201)
    # Meanwhile the hub's clock moved past both: applying them moves no clock, so the two
    # pushes share no row to queue on but the slot itself.
    expect(hub, "POST", RESOURCES, {"name": "Chair 2"}, status=201)
    pushes = [(_pending_push(ada), ada_key), (_pending_push(bob), bob_key)]
    if first_lands == "later claim":
        pushes.reverse()
    (first_push, first_key), (second_push, second_key) = pushes

    answer, waited = _while_held(
        hub.db,
        lambda: service.push(hub.db, first_push, key_id=first_key),
        lambda: service.push(second_session, second_push, key_id=second_key),
    )

    assert waited, "the second push settled the slot without waiting for the first one"
    assert answer["acked_through"] == len(second_push.changes)
    assert _active_on(hub, resource["id"]) == [early["id"]]
    cancelled = expect(hub, "GET", f"{BOOKINGS}/{late['id']}")
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_reason"] == f"sync_conflict: overlaps {early['id']}"
    for node in (ada, bob, ada, bob):
        node.sync()
    for node in (ada, bob):
        assert expect(node, "GET", f"{BOOKINGS}/{early['id']}")["status"] == "pending"
        assert expect(node, "GET", f"{BOOKINGS}/{late['id']}")["status"] == "cancelled"


def test_a_booking_through_the_api_waits_for_a_push_settling_its_slot(
    tmp_path, hub, second_session
):
    ada, ada_key = _node(tmp_path, "ada", hub)
    resource = expect(ada, "POST", RESOURCES, {"name": "Chair 1"}, status=201)
    ada.sync()
    pushed = expect(ada, "POST", BOOKINGS, {"resource_id": resource["id"], "start_time": SLOT}, 201)
    expect(hub, "POST", RESOURCES, {"name": "Chair 2"}, status=201)  # the hub's clock moves on
    at_the_counter = bookings.NewBooking(
        resource_id=resource["id"],
        start=parse_instant(SLOT) + 15 * 60_000,
        end=None,
        duration_minutes=30,
        customer_id=None,
        service_id=None,
        title=None,
        notes=None,
        metadata=None,
    )

    def book_at_the_counter() -> str:
        try:
            bookings.create(second_session, at_the_counter, actor="counter")
        except SlotConflict as refusal:
            return refusal.details[0]["message"]
        return "booked"

    answer, waited = _while_held(
        hub.db,
        lambda: service.push(hub.db, _pending_push(ada), key_id=ada_key),
        book_at_the_counter,
    )

    assert waited
    assert answer == f"Overlaps {pushed['id']}."
    assert _active_on(hub, resource["id"]) == [pushed["id"]]


# --- one record changed in two hub processes at once ------------------------------------------


def test_a_booking_changed_in_two_sessions_at_once_keeps_the_state_its_history_replays_to(
    hub, second_session
):
    resource = expect(hub, "POST", RESOURCES, {"name": "Chair 1"}, status=201)
    booking = expect(
        hub, "POST", BOOKINGS, {"resource_id": resource["id"], "start_time": SLOT}, 201
    )
    bookings.transition(hub.db, booking["id"], "confirmed", actor="counter")

    def check_in_at_the_other_counter() -> str:
        try:
            bookings.transition(second_session, booking["id"], "checked_in", actor="counter 2")
        except InvalidTransition as refusal:
            return refusal.details[0]["message"]
        return "checked in"

    answer, waited = _while_held(
        hub.db,
        lambda: bookings.transition(hub.db, booking["id"], "cancelled", actor="counter"),
        check_in_at_the_other_counter,
    )

    assert waited
    assert answer == "Cannot go from cancelled to checked_in."
    stored = store.get_booking(hub.db, booking["id"])
    replayed, anomalies = booking_states.replay(store.booking_events(hub.db, booking["id"]))
    assert stored["status"] == replayed["status"] == "cancelled"
    assert anomalies == {}


def test_two_fields_of_one_customer_pushed_through_two_sessions_keep_both_clocks(
    tmp_path, hub, second_session
):
    ada, ada_key = _node(tmp_path, "ada", hub)
    bob, bob_key = _node(tmp_path, "bob", hub)
    customer = expect(ada, "POST", CUSTOMERS, {"name": "Grace"}, status=201)
    ada.sync(), bob.sync()
    expect(ada, "PATCH", f"{CUSTOMERS}/{customer['id']}", {"name": "Grace Hopper"})
    expect(bob, "PATCH", f"{CUSTOMERS}/{customer['id']}", {"email": "grace@example.com"})
    expect(hub, "POST", RESOURCES, {"name": "Chair 2"}, status=201)  # the hub's clock moves on
    ada_push = service.Push(
        node_id=store.node_id(ada.db),
        changes=changelog.own_pending(ada.db, store.peer_acked(hub.db, store.node_id(ada.db)), 500),
    )
    bob_push = service.Push(
        node_id=store.node_id(bob.db),
        changes=changelog.own_pending(bob.db, store.peer_acked(hub.db, store.node_id(bob.db)), 500),
    )

    _answer, waited = _while_held(
        hub.db,
        lambda: service.push(hub.db, ada_push, key_id=ada_key),
        lambda: service.push(second_session, bob_push, key_id=bob_key),
    )

    assert waited
    clocks = store.field_clocks(hub.db, "customer", customer["id"])
    assert clocks["name"] == ada_push.changes[-1]["hlc"]
    assert clocks["email"] == bob_push.changes[-1]["hlc"]
    for node in (ada, bob, ada, bob):
        node.sync()
    for replica in (hub, ada, bob):
        row = replica.db.query("SELECT * FROM customers WHERE id = ?", [customer["id"]])[0]
        assert (row["name"], row["email"]) == ("Grace Hopper", "grace@example.com")
        assert store.field_clocks(replica.db, "customer", customer["id"]) == clocks


# --- 2. every push applied once across hub processes --------------------------------------------


def test_one_push_landing_on_two_sessions_at_once_is_applied_once(tmp_path, hub, second_session):
    ada, ada_key = _node(tmp_path, "ada", hub)
    resource = expect(ada, "POST", RESOURCES, {"name": "Chair 1"}, status=201)
    ada.sync()  # the key is bound to ada: nothing about it changes in the pushes below
    booking = expect(
        ada, "POST", BOOKINGS, {"resource_id": resource["id"], "start_time": SLOT}, 201
    )
    push = _pending_push(ada)  # the laptop's retry after a lost answer: the same body twice

    first_answer = {}
    answer, waited = _while_held(
        hub.db,
        lambda: first_answer.update(service.push(hub.db, push, key_id=ada_key)),
        lambda: service.push(second_session, push, key_id=ada_key),
    )

    assert waited
    assert answer["acked_through"] == first_answer["acked_through"] == len(push.changes)
    node = store.node_id(ada.db)
    held = hub.db.scalar("SELECT COUNT(*) FROM change_log WHERE origin_node = ?", [node])
    assert held == len(push.changes)
    events = expect(hub, "GET", f"{BOOKINGS}/{booking['id']}/events")
    assert [event["type"] for event in events] == ["created"]
    ada.sync()  # the laptop never heard either answer: it sends them once more, and is not refused
    again = hub.db.scalar("SELECT COUNT(*) FROM change_log WHERE origin_node = ?", [node])
    assert again == len(push.changes)


def test_two_sessions_stamping_in_the_same_millisecond_never_share_a_stamp(hub, second_session):
    now = wall_ms() + 60_000  # ahead of every stamp made so far

    def stamp_in(db: Connection) -> str:
        with db.transaction():
            return changelog.next_hlc(db, now)

    stamps: list[str] = []
    later, waited = _while_held(
        hub.db,
        lambda: stamps.append(changelog.next_hlc(hub.db, now)),
        lambda: stamp_in(second_session),
    )

    assert waited  # the clock row is written by one transaction at a time
    assert later > stamps[0]
    assert store.meta(hub.db, "hlc") == later
    more = [stamp_in(db) for db in (hub.db, second_session, hub.db)]
    assert more == sorted(set(more)) and more[0] > later


def test_a_stamp_observed_in_one_session_is_not_lost_to_a_tick_in_another(hub, second_session):
    node = store.node_id(hub.db)
    remote = f"{wall_ms() + 60_000:016d}-00007-01OTHERNODE"

    def tick_aside() -> str:
        with second_session.transaction():
            return changelog.next_hlc(second_session)

    after, waited = _while_held(hub.db, lambda: changelog.observe(hub.db, remote), tick_aside)

    assert waited
    assert after > remote and after.endswith(node)
    assert store.meta(hub.db, "hlc") == after


def test_a_push_moves_the_clock_at_commit_so_a_tick_beside_it_does_not_wait(hub, second_session):
    node = store.node_id(hub.db)
    remote = f"{wall_ms() + 60_000:016d}-00007-01OTHERNODE"

    def observe_as_a_push_does() -> None:
        changelog.observe_at_commit(hub.db)
        changelog.observe(hub.db, remote)

    def tick_aside() -> str:
        with second_session.transaction():
            return changelog.next_hlc(second_session)

    beside, waited = _while_held(hub.db, observe_as_a_push_does, tick_aside)

    assert not waited  # the push held no clock row while it ran
    stored = store.meta(hub.db, "hlc")
    assert stored[:22] == remote[:22] and stored.endswith(node) and stored > beside
    assert stamp_after(hub.db) > remote


def stamp_after(db: Connection) -> str:
    with db.transaction():
        return changelog.next_hlc(db)


def test_sqlite_ignores_locks_its_write_lock_already_serialises(tmp_path):
    db = store.open_db(str(tmp_path / "laptop.db"))
    try:
        with db.transaction():
            db.lock("resource:anything", "origin:anyone")  # nothing to run, nothing raised
        db.lock("outside a transaction")
    finally:
        db.close()


def test_locks_outside_a_transaction_do_nothing_on_postgresql(hub):
    hub.db.lock("resource:anything")
    held = hub.db.scalar("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory'")
    assert held == 0


def test_locks_are_held_until_the_transaction_ends(hub, second_session):
    seen: list[int] = []

    def count_waiting() -> None:
        seen.append(
            second_session.scalar(
                "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            )
        )

    with hub.db.transaction():
        hub.db.lock("resource:b", "resource:a", "resource:a")
        count_waiting()
    count_waiting()
    assert seen == [2, 0]


def test_a_lock_asked_for_again_stays_held_and_a_rolled_back_savepoint_lets_go(hub, second_session):
    def held() -> int:
        return second_session.scalar(
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        )

    seen = []
    with hub.db.transaction():
        hub.db.lock("slot:a", "slot:b")
        hub.db.lock("slot:b", "slot:c")  # b is held already: only c is asked for
        seen.append(held())
        with pytest.raises(RuntimeError), hub.db.transaction():
            hub.db.lock("slot:d")
            seen.append(held())
            raise RuntimeError
        seen.append(held())
        hub.db.lock("slot:d", "slot:a")  # d was let go with its savepoint: taken again
        seen.append(held())
    seen.append(held())
    assert seen == [3, 4, 3, 4, 0]


# --- a transaction that runs into another -----------------------------------------------------


def _take_once_waited_on(db: PostgresConnection, lock: str, waiter: Future) -> None:
    """Take `lock` in db's open transaction once `waiter` (another session) is blocked."""
    assert _blocked(db.url, waiter)
    db.lock(lock)


def test_a_push_that_deadlocks_runs_again_and_is_applied_once(tmp_path, hub, second_session):
    ada, ada_key = _node(tmp_path, "ada", hub)
    resource = expect(ada, "POST", RESOURCES, {"name": "Chair 1"}, status=201)
    ada.sync()
    booking = expect(
        ada, "POST", BOOKINGS, {"resource_id": resource["id"], "start_time": SLOT}, 201
    )
    push = _pending_push(ada)
    node = store.node_id(ada.db)
    pool = ThreadPoolExecutor(1)
    try:
        with hub.db.transaction():
            # This session holds the slot; the push holds its origin and waits for the slot;
            # this session then asks for the origin: a deadlock, which PostgreSQL ends by
            # failing the push (it waited first). The push runs again, once this one is done.
            store.lock_resources(hub.db, [resource["id"]])
            future = pool.submit(service.push, second_session, push, key_id=ada_key)
            _take_once_waited_on(hub.db, store.origin_lock(node), future)
        answer = future.result(timeout=30)
    finally:
        pool.shutdown()

    assert answer["acked_through"] == len(push.changes)
    held = hub.db.scalar("SELECT COUNT(*) FROM change_log WHERE origin_node = ?", [node])
    assert held == len(push.changes)
    assert expect(hub, "GET", f"{BOOKINGS}/{booking['id']}")["status"] == "pending"


def test_a_booking_that_deadlocks_is_503_storage_busy_and_saves_nothing(hub, second_session):
    resource = expect(hub, "POST", RESOURCES, {"name": "Chair 1"}, status=201)
    before = hub.db.scalar("SELECT COUNT(*) FROM change_log")
    body = {"resource_id": resource["id"], "start_time": SLOT}
    pool = ThreadPoolExecutor(1)
    try:
        with second_session.transaction():
            # This session holds the clock; the booking takes its slot, then waits for the
            # clock; this session asks for the slot: the booking waited first and is failed.
            changelog.next_hlc(second_session)
            future = pool.submit(hub.call, "POST", BOOKINGS, body)
            _take_once_waited_on(second_session, store.slot_lock(resource["id"]), future)
        response = future.result(timeout=30)
    finally:
        pool.shutdown()
        store.close_thread_connections()

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.get_json()["error"]["code"] == "storage_busy"
    assert hub.db.scalar("SELECT COUNT(*) FROM change_log") == before
    assert expect(hub, "GET", f"{BOOKINGS}?resource_id={resource['id']}") == []
    assert hub.call("POST", BOOKINGS, body).status_code == 201  # and the retry is taken


# --- what holds across processes: token balances ----------------------------------------------


def test_a_token_balance_spent_through_two_sessions_at_once_is_never_overspent(hub, second_session):
    record, _key = create_key(
        hub.db, name="metered", scopes=["booking:read"], rate_limit="1000000/minute", tokens=25
    )
    sessions = [hub.db, second_session]

    def spend_all(db: Connection) -> list[int | None]:
        return [store.spend_token(db, record["id"]) for _ in range(20)]

    with ThreadPoolExecutor(2) as pool:
        spent = [balance for batch in pool.map(spend_all, sessions) for balance in batch]

    taken = sorted(balance for balance in spent if balance is not None)
    assert taken == list(range(25))  # every token spent once, each balance seen once
    assert spent.count(None) == 40 - 25
    assert store.get_api_key(hub.db, record["id"])["tokens_remaining"] == 0
