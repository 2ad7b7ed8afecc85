"""Webhooks: signed deliveries checked by a receiver written from the README alone, in order per
booking, retried, and a subscription disabled after a run of failures with the reason shown."""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path

import pytest

from app.core.times import parse_instant, wall_ms
from app.outbound.sender import send_due
from tests.conftest import assert_error, unchanged
from tests.outbound.helpers import book, cancel, days_ahead, messages

WEBHOOKS = "/modules/booking/webhooks"
README = Path(__file__).parents[2] / "README.md"


def readme_verify():
    """The `verify` function exactly as README § Webhooks prints it: the receiver below knows
    nothing of the service's code, only what an integrator reads."""
    section = README.read_text().split("### Webhooks", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 (the README's own example)
    return namespace["verify"]


@pytest.fixture
def subscribe(client, admin_headers, receiver):
    def make(events=("*",), path="/hook") -> dict:
        body = {"url": f"{receiver.url}{path}", "events": list(events)}
        response = client.post(WEBHOOKS, json=body, headers=admin_headers)
        assert response.status_code == 201, response.json
        return response.json["data"]

    return make


def test_every_delivery_verifies_with_the_readme_receiver_and_a_forgery_does_not(
    client, db, admin_headers, subscribe, receiver, outbound, make_resource, make_customer
):
    verify = readme_verify()
    subscription = subscribe()
    assert subscription["secret"].startswith("whsec_")
    resource = make_resource()
    customer = make_customer(name="Ada", email="ada@example.com")
    booking = book(client, admin_headers, resource["id"], days_ahead(3), customer["id"])
    cancel(client, admin_headers, booking["id"])
    send_due(db, dataclasses.replace(outbound, smtp=None))

    types = [r.json()["type"] for r in receiver.requests]
    assert types == ["customer.created", "booking.created", "booking.cancelled"]
    secret = subscription["secret"]
    for delivery in receiver.requests:
        header = delivery.headers["Booking-Signature"]
        assert verify(secret, header, delivery.body)
        assert delivery.headers["Booking-Webhook-Id"] == delivery.json()["id"]
        assert delivery.headers["Booking-Event"] == delivery.json()["type"]
        assert not verify(secret, header, delivery.body.replace(b'"id"', b'"ID"', 1))
        assert not verify("whsec_someone-else", header, delivery.body)
    last = receiver.requests[-1]
    assert last.json()["data"]["status"] == "cancelled"
    assert last.json()["data"]["id"] == booking["id"]
    # A delivery replayed ten minutes later is refused by the README's rule.
    stamp = int(dict(p.split("=", 1) for p in last.headers["Booking-Signature"].split(","))["t"])
    assert abs(stamp - time.time()) < 60
    import hashlib
    import hmac

    old = stamp - 600
    digest = hmac.new(secret.encode(), f"{old}.".encode() + last.body, hashlib.sha256).hexdigest()
    assert not verify(secret, f"t={old},v1={digest}", last.body)


def test_deliveries_of_one_booking_go_in_order_and_a_later_one_waits_for_a_retry(
    client, db, admin_headers, subscribe, receiver, outbound, make_resource
):
    subscribe(events=["booking.*"])
    resource = make_resource()
    booking = book(client, admin_headers, resource["id"], days_ahead(3))
    client.post(
        f"/modules/booking/bookings/{booking['id']}/transition",
        json={"status": "confirmed"},
        headers=admin_headers,
    )
    other = book(client, admin_headers, resource["id"], days_ahead(4))
    receiver.statuses = [503]  # the first delivery fails once
    now = wall_ms() + 1_000
    send_due(db, outbound, now=now)
    delivered = [(r.json()["type"], r.json()["data"]["id"]) for r in receiver.requests]
    # booking.created of the first booking failed; its booking.confirmed waited; the other
    # booking's delivery did not wait for it.
    assert delivered == [("booking.created", booking["id"]), ("booking.created", other["id"])]
    retry_at = parse_instant(
        next(m for m in messages(client, admin_headers) if m["state"] == "pending")[
            "next_attempt_at"
        ]
    )
    send_due(db, outbound, now=retry_at)
    delivered = [(r.json()["type"], r.json()["data"]["id"]) for r in receiver.requests]
    assert delivered[2:] == [
        ("booking.created", booking["id"]),
        ("booking.confirmed", booking["id"]),
    ]
    assert receiver.requests[0].json()["id"] == receiver.requests[2].json()["id"]  # same id
    sequences = [r.json()["sequence"] for r in receiver.requests[2:]]
    assert sequences == sorted(sequences)


def test_a_run_of_failures_disables_the_subscription_with_its_reason_and_enabling_resumes(
    client, db, admin_headers, subscribe, receiver, outbound, make_customer
):
    subscription = subscribe(events=["customer.*"])
    receiver.default = 500
    for number in range(3):
        make_customer(name=f"Customer {number}")
    now = wall_ms() + 1_000
    for _round in range(3):
        send_due(db, outbound, now=now)
        now += 3_600_000
    assert len(receiver.requests) == 3  # three customers, one attempt each: the run of 3
    shown = client.get(f"{WEBHOOKS}/{subscription['id']}", headers=admin_headers).json["data"]
    assert shown["enabled"] is False and shown["secret"] is None
    assert shown["disabled_reason"].startswith("Disabled after 3 failed deliveries in a row")
    assert "answered 500" in shown["disabled_reason"] and shown["disabled_at"]

    send_due(db, outbound, now=now + 3_600_000)
    assert len(receiver.requests) == 3  # held while disabled: nothing is attempted, nothing lost
    receiver.default = 200
    response = client.patch(
        f"{WEBHOOKS}/{subscription['id']}", json={"enabled": True}, headers=admin_headers
    )
    assert response.json["data"]["disabled_reason"] is None
    send_due(db, outbound, now=now + 2 * 3_600_000)
    names = [r.json()["data"]["name"] for r in receiver.requests[3:]]
    assert names == ["Customer 0", "Customer 1", "Customer 2"]


def test_deleting_a_subscription_drops_its_waiting_deliveries(
    client, db, admin_headers, subscribe, receiver, outbound, make_customer
):
    subscription = subscribe()
    make_customer(name="Ada")
    client.delete(f"{WEBHOOKS}/{subscription['id']}", headers=admin_headers)
    send_due(db, outbound)
    assert receiver.requests == []
    (delivery,) = messages(client, admin_headers, channel="webhook")
    assert (delivery["state"], delivery["state_reason"]) == (
        "skipped",
        "The webhook subscription was deleted.",
    )


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": "ftp://example.com/x", "events": ["*"]}, "url"),
        ({"url": "https://example.com/x", "events": ["booking.exploded"]}, "events.0"),
        ({"url": "https://example.com/x", "events": []}, "events"),
        ({"url": "https://example.com/x", "events": ["*"], "secret": "mine"}, "secret"),
    ],
)
def test_a_bad_subscription_is_refused_naming_the_field_and_changes_nothing(
    client, db, admin_headers, body, field
):
    with unchanged(db):
        response = client.post(WEBHOOKS, json=body, headers=admin_headers)
    error = assert_error(response, 422, "validation_error")
    assert error["details"][0]["field"] == field


def test_webhooks_are_for_admins_only(client, db, write_headers):
    with unchanged(db):
        response = client.post(
            WEBHOOKS, json={"url": "https://example.com/x", "events": ["*"]}, headers=write_headers
        )
    assert_error(response, 403, "forbidden")
    assert_error(client.get(WEBHOOKS, headers=write_headers), 403, "forbidden")


def test_an_unknown_subscription_is_404(client, db, admin_headers):
    with unchanged(db):
        response = client.patch(
            f"{WEBHOOKS}/whk_nope", json={"enabled": True}, headers=admin_headers
        )
    assert_error(response, 404, "not_found")
    assert_error(client.delete(f"{WEBHOOKS}/whk_nope", headers=admin_headers), 404, "not_found")
