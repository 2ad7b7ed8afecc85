"""SMS through an HTTP provider API, checked against a local receiver: the plain JSON provider
and Twilio's Messages API."""

from __future__ import annotations

import base64
import dataclasses
from urllib.parse import parse_qs

import pytest

from app.core.times import wall_ms
from app.outbound.config import SmsConfig
from app.outbound.sender import send_due
from tests.outbound.helpers import SETTINGS, book, days_ahead, messages


@pytest.fixture
def texting_shop(client, admin_headers, make_resource, make_customer):
    response = client.patch(
        SETTINGS, json={"channels": ["sms"], "shop_name": "Salon Ada"}, headers=admin_headers
    )
    assert response.json["data"]["channels"] == ["sms"]
    resource = make_resource(name="Chair 1")
    customer = make_customer(name="Ada", phone="+33600000000")
    return resource, customer


def test_the_json_provider_gets_the_text_with_its_token_and_the_message_id(
    client, db, admin_headers, texting_shop, outbound, receiver
):
    resource, customer = texting_shop
    book(client, admin_headers, resource["id"], days_ahead(3), customer["id"])
    send_due(db, outbound)
    (request,) = receiver.requests
    sent = request.json()
    (message,) = messages(client, admin_headers)
    assert request.path == "/sms" and request.headers["Authorization"] == "Bearer sms-token"
    assert sent["to"] == "+33600000000" and sent["from"] == "+15550000000"
    assert sent["text"].startswith("Salon Ada: booked ") and sent["id"] == message["id"]
    assert request.headers["Idempotency-Key"] == message["id"]
    assert (message["state"], message["recipient"]) == ("sent", "+33600000000")


def test_twilio_gets_a_form_post_with_basic_auth(
    client, db, admin_headers, texting_shop, outbound, receiver
):
    resource, customer = texting_shop
    twilio = SmsConfig(
        provider="twilio",
        url=receiver.url,
        account="AC123",
        token="tok",
        sender="+15551112222",
        timeout_s=5,
    )
    book(client, admin_headers, resource["id"], days_ahead(3), customer["id"])
    send_due(db, dataclasses.replace(outbound, sms=twilio))
    (request,) = receiver.requests
    assert request.path == "/2010-04-01/Accounts/AC123/Messages.json"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"AC123:tok").decode()
    form = parse_qs(request.body.decode())
    assert form["To"] == ["+33600000000"] and form["From"] == ["+15551112222"]
    assert form["Body"][0].startswith("Salon Ada: booked ")


@pytest.mark.parametrize("status, state", [(400, "failed"), (503, "pending"), (429, "pending")])
def test_a_refusal_fails_at_once_and_a_busy_provider_is_retried(
    client, db, admin_headers, texting_shop, outbound, receiver, status, state
):
    resource, customer = texting_shop
    receiver.statuses = [status]
    book(client, admin_headers, resource["id"], days_ahead(3), customer["id"])
    send_due(db, outbound, now=wall_ms() + 1_000)
    (message,) = messages(client, admin_headers)
    assert (message["state"], message["attempts"]) == (state, 1)
    assert f"answered {status}" in message["last_error"]


def test_a_customer_without_a_phone_gets_no_text_and_no_outbox_row(
    client, db, admin_headers, texting_shop, outbound, receiver, make_customer
):
    resource, customer = texting_shop
    silent = make_customer(name="No phone")
    book(client, admin_headers, resource["id"], days_ahead(3), silent["id"])
    assert messages(client, admin_headers) == []
    booking = book(client, admin_headers, resource["id"], days_ahead(4), customer["id"])
    client.patch(
        f"/modules/booking/customers/{customer['id']}", json={"phone": ""}, headers=admin_headers
    )  # the number was wrong: staff removed it after booking
    send_due(db, outbound)
    (message,) = messages(client, admin_headers)
    assert receiver.requests == [] and message["booking_id"] == booking["id"]
    assert message["state_reason"] == "The customer has no phone on file."
