"""Customer emails through a real SMTP server (aiosmtpd, STARTTLS and login required): what
arrives, when, and what never does."""

from __future__ import annotations

import dataclasses

import pytest

from app.core.times import format_instant, parse_instant, wall_ms
from app.outbound.config import OutboundConfig
from app.outbound.sender import send_due
from tests.conftest import assert_error, unchanged
from tests.outbound.helpers import (
    DAY,
    MINUTE,
    SETTINGS,
    book,
    cancel,
    days_ahead,
    messages,
)
from tests.outbound.servers import SmtpServer


@pytest.fixture
def shop(client, admin_headers, make_resource, make_customer):
    """A shop that reminds a day ahead, a chair in Paris, and Ada with an email address."""
    response = client.patch(
        SETTINGS, json={"reminder_minutes": [1440], "shop_name": "Salon Ada"}, headers=admin_headers
    )
    assert response.status_code == 200, response.json
    resource = make_resource(name="Chair 1", timezone="Europe/Paris")
    customer = make_customer(name="Ada Lovelace", email="ada@example.com", phone="+33600000000")
    return resource, customer


def test_a_booking_gets_one_confirmation_now_and_one_reminder_a_day_ahead(
    client, db, admin_headers, shop, outbound, smtp_server
):
    resource, customer = shop
    start = days_ahead(3)
    booking = book(client, admin_headers, resource["id"], start, customer["id"])

    send_due(db, outbound)
    send_due(db, outbound)
    assert len(smtp_server.inbox) == 1
    confirmation = smtp_server.inbox[0]
    assert confirmation.recipients == ["ada@example.com"]
    assert confirmation.over_tls and confirmation.login == "shop"
    assert confirmation.message["From"] == "desk@shop.example"
    assert confirmation.message["Subject"].startswith("Your booking on ")
    text = confirmation.message.get_content()
    assert "Hello Ada Lovelace" in text and "Chair 1" in text and "Salon Ada" in text

    send_due(db, outbound, now=start - DAY - MINUTE)  # a minute before the reminder is due
    assert len(smtp_server.inbox) == 1
    send_due(db, outbound, now=start - DAY)
    send_due(db, outbound, now=start - DAY + MINUTE)
    assert [m.message["Subject"].split(":")[0] for m in smtp_server.inbox] == [
        confirmation.message["Subject"].split(":")[0],
        "Reminder",
    ]
    listed = messages(client, admin_headers, booking_id=booking["id"])
    assert [(m["kind"], m["state"], m["recipient"]) for m in listed] == [
        ("confirmation", "sent", "ada@example.com"),
        ("reminder", "sent", "ada@example.com"),
    ]
    # The Message-ID names the outbox row, so a copy sent again after a crash is the same mail.
    ids = [m.message["Message-ID"] for m in smtp_server.inbox]
    assert all(row["id"] in mail_id for row, mail_id in zip(listed, ids, strict=True))


def test_a_cancelled_booking_sends_its_cancellation_and_never_its_reminder(
    client, db, admin_headers, shop, outbound, smtp_server
):
    resource, customer = shop
    start = days_ahead(3)
    booking = book(client, admin_headers, resource["id"], start, customer["id"])
    send_due(db, outbound)
    cancel(client, admin_headers, booking["id"])
    send_due(db, outbound)
    send_due(db, outbound, now=start - DAY + MINUTE)
    subjects = [m.message["Subject"] for m in smtp_server.inbox]
    assert len(subjects) == 2 and subjects[1].endswith("is cancelled")
    states = {m["kind"]: m["state"] for m in messages(client, admin_headers)}
    assert states == {"confirmation": "sent", "reminder": "superseded", "cancelled": "sent"}


def test_a_moved_booking_is_told_of_its_new_time_and_reminded_of_that_one_only(
    client, db, admin_headers, shop, outbound, smtp_server
):
    resource, customer = shop
    start, later = days_ahead(3), days_ahead(4)
    booking = book(client, admin_headers, resource["id"], start, customer["id"])
    send_due(db, outbound)
    moved = client.post(
        f"/modules/booking/bookings/{booking['id']}/move",
        json={"start_time": format_instant(later)},
        headers=admin_headers,
    )
    assert moved.status_code == 200, moved.json
    send_due(db, outbound)
    send_due(db, outbound, now=start - DAY + MINUTE)  # the old reminder's time: nothing
    assert len(smtp_server.inbox) == 2
    send_due(db, outbound, now=later - DAY + MINUTE)
    kinds = [(m["kind"], m["state"]) for m in messages(client, admin_headers)]
    assert sorted(kinds) == [
        ("confirmation", "sent"),
        ("moved", "sent"),
        ("reminder", "sent"),
        ("reminder", "superseded"),
    ]
    assert len(smtp_server.inbox) == 3


def test_a_booking_without_a_customer_or_far_too_close_has_no_reminder(
    client, db, admin_headers, shop, outbound, smtp_server
):
    resource, customer = shop
    book(client, admin_headers, resource["id"], days_ahead(5))  # nobody to tell
    book(client, admin_headers, resource["id"], days_ahead(0.5), customer["id"])  # in 12 hours
    assert [m["kind"] for m in messages(client, admin_headers)] == ["confirmation"]


def test_a_customer_who_opted_out_gets_nothing_and_the_outbox_says_why(
    client, db, admin_headers, shop, outbound, smtp_server
):
    resource, customer = shop
    path = f"/modules/booking/customers/{customer['id']}/messaging"
    response = client.patch(path, json={"email_opt_out": True}, headers=admin_headers)
    assert response.json["data"] == {
        "customer_id": customer["id"],
        "email_opt_out": True,
        "sms_opt_out": False,
    }
    start = days_ahead(3)
    book(client, admin_headers, resource["id"], start, customer["id"])
    send_due(db, outbound, now=start - DAY + MINUTE)
    assert smtp_server.inbox == []
    listed = messages(client, admin_headers)
    assert {m["state"] for m in listed} == {"skipped"}
    assert listed[0]["state_reason"] == "The customer opted out of email."


def test_opting_out_after_booking_stops_the_reminder(
    client, db, admin_headers, shop, outbound, smtp_server
):
    resource, customer = shop
    start = days_ahead(3)
    book(client, admin_headers, resource["id"], start, customer["id"])
    send_due(db, outbound)
    path = f"/modules/booking/customers/{customer['id']}/messaging"
    client.patch(path, json={"email_opt_out": True}, headers=admin_headers)
    send_due(db, outbound, now=start - DAY + MINUTE)
    assert len(smtp_server.inbox) == 1
    reminder = messages(client, admin_headers)[1]
    assert (reminder["state"], reminder["state_reason"]) == (
        "skipped",
        "The customer opted out of email.",
    )


def test_a_mail_server_that_is_down_is_retried_with_growing_waits_then_given_up(
    client, db, admin_headers, shop, outbound, tmp_path
):
    resource, customer = shop
    book(client, admin_headers, resource["id"], days_ahead(3), customer["id"])
    down = dataclasses.replace(outbound.smtp, port=1)  # nothing listens there
    config = dataclasses.replace(outbound, smtp=down)
    now = wall_ms() + 1_000
    waits = []
    for _attempt in range(3):
        report = send_due(db, config, now=now)
        message = messages(client, admin_headers)[0]
        if message["state"] == "failed":
            break
        assert report.retrying and message["last_error"].startswith("Cannot reach the mail")
        due = message["next_attempt_at"]
        assert send_due(db, config, now=now).retrying == []  # not before its time
        waits.append(parse_instant(due) - now)
        now = parse_instant(due)
    assert message["state"] == "failed" and message["attempts"] == 3
    assert message["state_reason"] == "Gave up after 3 attempts."
    assert 15_000 <= waits[0] <= 30_000 and 30_000 <= waits[1] <= 60_000


def test_a_refused_address_fails_at_once_and_a_later_server_takes_the_rest(
    client, db, admin_headers, shop, outbound, smtp_server, make_customer
):
    resource, _ = shop
    nobody = make_customer(name="Nobody", email="nobody@example.com")
    smtp_server.handler.refuse.add("nobody@example.com")
    book(client, admin_headers, resource["id"], days_ahead(3), nobody["id"])
    send_due(db, outbound)
    message = messages(client, admin_headers)[0]
    assert (message["state"], message["attempts"]) == ("failed", 1)
    assert "550" in message["last_error"] and smtp_server.inbox == []


def test_a_node_without_smtp_settings_skips_emails_instead_of_piling_them_up(
    client, db, admin_headers, shop, outbound, smtp_server
):
    resource, customer = shop
    book(client, admin_headers, resource["id"], days_ahead(3), customer["id"])
    send_due(db, OutboundConfig())
    message = messages(client, admin_headers)[0]
    assert (message["state"], message["state_reason"]) == (
        "skipped",
        "This node has no email settings.",
    )


def test_a_shop_template_words_the_email(client, db, admin_headers, shop, outbound, smtp_server):
    resource, customer = shop
    response = client.put(
        "/modules/booking/message-templates/confirmation/email",
        json={"subject": "See you {{ date }}", "body": "Dear {{ customer_name }}, at {{ time }}."},
        headers=admin_headers,
    )
    assert response.status_code == 200 and response.json["data"]["custom"] is True
    start = days_ahead(3)
    book(client, admin_headers, resource["id"], start, customer["id"])
    send_due(db, outbound)
    mail = smtp_server.inbox[0].message
    assert mail["Subject"].startswith("See you ")
    assert mail.get_content().strip().startswith("Dear Ada Lovelace, at ")


def test_a_template_naming_an_unknown_field_is_refused_and_changes_nothing(
    client, db, admin_headers
):
    with unchanged(db):
        response = client.put(
            "/modules/booking/message-templates/reminder/sms",
            json={"body": "Hi {{ customer.secret }}"},
            headers=admin_headers,
        )
    error = assert_error(response, 422, "validation_error")
    assert (
        error["details"][0]["field"] == "body" and "customer_name" in error["details"][0]["message"]
    )


def test_an_email_template_needs_a_subject(client, db, admin_headers):
    with unchanged(db):
        response = client.put(
            "/modules/booking/message-templates/reminder/email",
            json={"body": "Hello"},
            headers=admin_headers,
        )
    assert assert_error(response, 422, "validation_error")["details"][0]["field"] == "subject"


def test_a_template_for_an_unknown_kind_is_404(client, db, admin_headers):
    with unchanged(db):
        response = client.put(
            "/modules/booking/message-templates/birthday/email",
            json={"subject": "x", "body": "y"},
            headers=admin_headers,
        )
    assert_error(response, 404, "not_found")


def test_the_smtp_server_refuses_a_client_without_tls(smtp_server):
    """The server the suite starts is strict: STARTTLS is not optional there."""
    import smtplib

    with smtplib.SMTP("127.0.0.1", smtp_server.port, timeout=5) as plain:
        plain.ehlo()
        code, _ = plain.mail("desk@shop.example")
    assert code == 530 and isinstance(smtp_server, SmtpServer)
