"""Moves made offline converge between real processes (SYNC.md §5, §7): a hub and two shop
laptops as `booking serve` subprocesses syncing every second; the hub goes away, both laptops
move bookings, book and cancel, and once it is back every replica ends identical.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.live.sync_cluster import (
    BOOKINGS,
    Servers,
    query,
    wait_converged,
    wait_for,
)
from tests.live.test_sync_processes import assert_no_duplicate_changes, change_ids, start_cluster

pytestmark = pytest.mark.live

DAY = "2030-01-07"


@pytest.fixture
def servers() -> Iterator[Servers]:
    made = Servers()
    yield made
    made.stop_all()


def call(server, method: str, path: str, body: dict | None = None, status: int = 200) -> dict:
    response = server.request(method, path, json=body)
    assert response.status_code == status, response.text
    return response.json()["data"]


def at(clock: str) -> str:
    return f"{DAY}T{clock}:00Z"


def claims(db_path: str, booking_id: str, kind: str) -> list[str]:
    """The stamps of a booking's events of one type, in event order."""
    rows = query(
        db_path,
        "SELECT hlc FROM booking_events WHERE booking_id = ? AND type = ? ORDER BY hlc",
        [booking_id, kind],
    )
    return [row[0] for row in rows]


def test_offline_moves_converge_with_the_same_winner_everywhere(tmp_path, hub_db, servers):
    cluster = start_cluster(tmp_path, hub_db, servers)
    hub, (n1, n2) = cluster.hub, cluster.nodes
    chair = cluster.resource_id

    def book(node, clock: str) -> dict:
        body = {"resource_id": chair, "start_time": at(clock), "duration_minutes": 60}
        return call(node, "POST", BOOKINGS, body, 201)

    shared = {
        name: book(n1, clock)
        for name, clock in (("twice", "09:00"), ("into", "11:00"), ("gone", "13:00"))
    }
    wait_for(
        lambda: all(
            s.request("GET", f"{BOOKINGS}/{b['id']}").status_code == 200
            for s in (hub, n2)
            for b in shared.values()
        ),
        timeout=30,
        what="the bookings on every replica",
    )
    hub.stop()  # the laptops are on their own now

    # Both laptops move one booking; n2 moves it later.
    call(n1, "POST", f"{BOOKINGS}/{shared['twice']['id']}/move", {"start_time": at("15:00")})
    time.sleep(0.01)
    call(n2, "POST", f"{BOOKINGS}/{shared['twice']['id']}/move", {"start_time": at("17:00")})
    # n1 moves a booking into 19:00, which n2 books for someone else.
    call(n1, "POST", f"{BOOKINGS}/{shared['into']['id']}/move", {"start_time": at("19:00")})
    rival = book(n2, "19:30")
    # n1 cancels a booking that n2 then moves.
    url = f"{BOOKINGS}/{shared['gone']['id']}"
    call(n1, "POST", f"{url}/transition", {"status": "cancelled"})
    time.sleep(0.01)
    call(n2, "POST", f"{url}/move", {"start_time": at("21:00")})

    hub = servers.restart(hub)
    replicas = [hub, n1, n2]
    everything = {*(b["id"] for b in shared.values()), rival["id"]}

    def settled(shot: dict) -> bool:
        mine = {b["id"]: b for b in shot["bookings"] if b["id"] in everything}
        contested = (mine.get(shared["into"]["id"], {}), mine.get(rival["id"], {}))
        return (
            len(mine) == 4
            and sorted(b["status"] for b in contested) == ["cancelled", "pending"]
            and any(a["booking_id"] == shared["gone"]["id"] for a in shot["anomalies"])
        )

    final = wait_converged(replicas, settled, timeout=60)
    by_id = {b["id"]: b for b in final["bookings"]}

    # Moved twice: the later move (n2's, 17:00) everywhere, both moves in every history.
    assert by_id[shared["twice"]["id"]]["start_time"] == at("17:00")
    histories = [call(r, "GET", f"{BOOKINGS}/{shared['twice']['id']}/events") for r in replicas]
    assert histories[0] == histories[1] == histories[2]
    moves = [e["data"]["to"]["start_time"] for e in histories[0] if e["type"] == "moved"]
    assert moves == [at("15:00"), at("17:00")]

    # Moved into a slot booked elsewhere: the earlier claim (the move or the booking) keeps it.
    move_stamp = claims(hub.db_path, shared["into"]["id"], "moved")[-1]
    booked_stamp = claims(hub.db_path, rival["id"], "created")[0]
    winner, loser = (
        (shared["into"]["id"], rival["id"])
        if move_stamp < booked_stamp
        else (rival["id"], shared["into"]["id"])
    )
    assert by_id[winner]["status"] == "pending"
    assert by_id[loser]["status"] == "cancelled"
    assert by_id[loser]["cancel_reason"] == f"sync_conflict: overlaps {winner}"

    # Moved after it was cancelled elsewhere: cancelled where it was, and a visible anomaly.
    gone = by_id[shared["gone"]["id"]]
    assert (gone["status"], gone["start_time"]) == ("cancelled", at("13:00"))
    (anomaly,) = [a for a in final["anomalies"] if a["booking_id"] == gone["id"]]
    assert anomaly["kind"] == "invalid_event"
    assert "cannot be moved" in anomaly["message"]

    for replica in replicas:
        assert_no_duplicate_changes(replica.db_path)
        assert change_ids(replica.db_path) == change_ids(hub.db_path)
