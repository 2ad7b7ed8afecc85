"""The whole chain with real processes: a laptop decides a confirmation and a reminder while
the hub is unreachable; once the hub is back they arrive in a real SMTP server, once each, and
the laptops see them sent. A second laptop that pulls them sends nothing."""

from __future__ import annotations

import time

import pytest

from app.core.times import format_instant, wall_ms
from tests.live.server import LiveServer
from tests.live.sync_cluster import (
    BOOKINGS,
    CUSTOMERS,
    RESOURCES,
    SERVER_ENV,
    make_key,
    node_args,
    post,
    wait_for,
)
from tests.outbound.servers import SMTP_PASSWORD, SMTP_USER, SmtpServer

pytestmark = pytest.mark.live
MESSAGES = "/modules/booking/messages"
LEAD_MINUTES = 5
OFFLINE_S = 8  # the reminder falls due while the hub is down


@pytest.fixture
def smtp_server(tmp_path):
    server = SmtpServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def started():
    made: list[LiveServer] = []
    yield made
    for server in reversed(made):
        server.stop()


def start(made, db_path, *args, env=None, port=None) -> LiveServer:
    server = LiveServer(str(db_path), *args, env={**SERVER_ENV, **(env or {})})
    if port is not None:
        server.port = port
    made.append(server)
    return server.start()


def listed(server: LiveServer, path: str) -> list[dict]:
    response = server.request("GET", path, params={"limit": 100})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_a_reminder_decided_offline_arrives_once_after_the_network_is_back(
    tmp_path, hub_db, started, smtp_server
):
    hub_env = {
        "BOOKING_SMTP_HOST": "127.0.0.1",
        "BOOKING_SMTP_PORT": str(smtp_server.port),
        "BOOKING_SMTP_USERNAME": SMTP_USER,
        "BOOKING_SMTP_PASSWORD": SMTP_PASSWORD,
        "BOOKING_SMTP_FROM": "desk@shop.example",
        "BOOKING_SMTP_CA_FILE": smtp_server.ca_file,
        "BOOKING_OUTBOUND_INTERVAL": "1",
    }
    hub = start(started, hub_db, env=hub_env)
    assert (
        hub.request(
            "PATCH", "/modules/booking/messaging", json={"reminder_minutes": [LEAD_MINUTES]}
        ).status_code
        == 200
    )
    resource = post(hub, RESOURCES, {"name": "Chair 1"})
    customer = post(hub, CUSTOMERS, {"name": "Ada Lovelace", "email": "ada@example.com"})
    laptops = [
        start(started, tmp_path / f"laptop{n}.db", *node_args(hub, make_key(str(hub_db), f"l{n}")))
        for n in (1, 2)
    ]
    for laptop in laptops:
        wait_for(lambda s=laptop: listed(s, CUSTOMERS), timeout=30, what="the customer pulled")

    hub_port, hub_admin = hub.port, hub.admin_key
    hub.stop()  # the network is gone
    start_ms = wall_ms() + LEAD_MINUTES * 60_000 + OFFLINE_S * 1000
    booking = post(
        laptops[0],
        BOOKINGS,
        {
            "resource_id": resource["id"],
            "customer_id": customer["id"],
            "start_time": format_instant(start_ms - start_ms % 1000),
            "duration_minutes": 30,
        },
    )
    decided = listed(laptops[0], MESSAGES)
    assert {m["booking_id"] for m in decided} == {booking["id"]}
    assert [(m["kind"], m["state"]) for m in decided] == [
        ("confirmation", "pending"),
        ("reminder", "pending"),
    ]
    time.sleep(OFFLINE_S + 1)  # the reminder is now due, and the hub still unreachable
    assert smtp_server.inbox == []

    hub = start(started, hub_db, env=hub_env, port=hub_port)  # the network is back
    hub.admin_key = hub.admin_key or hub_admin
    laptops[0].request("POST", "/sync/run")
    wait_for(lambda: len(smtp_server.inbox) >= 2, timeout=40, what="both emails arrived")
    for laptop in laptops:
        laptop.request("POST", "/sync/run")

    def all_sent(server: LiveServer) -> bool:
        rows = listed(server, MESSAGES)
        return len(rows) == 2 and all(m["state"] == "sent" for m in rows)

    for server in (hub, *laptops):  # the outcome synced back: every node shows them sent
        wait_for(lambda s=server: all_sent(s), timeout=30, what=f"sent on {server.url}")
    time.sleep(3)  # several more sender and sync rounds: nothing more goes out
    subjects = sorted(mail.message["Subject"].split(" ")[0] for mail in smtp_server.inbox)
    assert subjects == ["Reminder:", "Your"], subjects
    assert all(mail.recipients == ["ada@example.com"] for mail in smtp_server.inbox)
    assert all(mail.over_tls and mail.login == SMTP_USER for mail in smtp_server.inbox)
    sent_by = {m["sent_by"] for m in listed(laptops[1], MESSAGES)}
    assert sent_by == {hub.request("GET", "/healthz").json()["data"]["node_id"]}
