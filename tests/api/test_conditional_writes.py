"""ETag and If-Match beyond the seed's records (docs/concurrency.md): services, moves and undos
of a booking, webhooks, and one outbox message's ETag."""

from __future__ import annotations

import pytest

from tests.conftest import assert_error, unchanged

BOOKINGS = "/modules/booking/bookings"
SERVICES = "/modules/booking/services"
WEBHOOKS = "/modules/booking/webhooks"
STALE = '"not-current"'


@pytest.fixture
def service(client, admin_headers) -> dict:
    body = {"name": "Haircut", "duration_minutes": 30, "price_minor": 4500, "currency": "EUR"}
    response = client.post(SERVICES, json=body, headers=admin_headers)
    assert response.status_code == 201, response.json
    return response.json["data"]


@pytest.fixture
def webhook(client, admin_headers) -> dict:
    body = {"url": "https://example.com/hook", "events": ["booking.created"]}
    response = client.post(WEBHOOKS, json=body, headers=admin_headers)
    assert response.status_code == 201, response.json
    return response.json["data"]


def _etag_and_304(client, headers, path: str) -> str:
    tag = client.get(path, headers=headers).headers["ETag"]
    again = client.get(path, headers={**headers, "If-None-Match": tag})
    assert again.status_code == 304 and again.get_data() == b""
    return tag


@pytest.mark.parametrize(
    ("collection", "record", "change", "other"),
    [
        (SERVICES, "service", {"price_minor": 5000}, {"price_minor": 6000}),
        (WEBHOOKS, "webhook", {"description": "CRM"}, {"description": "Shop"}),
    ],
)
def test_two_admins_editing_one_record_the_second_gets_412_and_changes_nothing(
    client, db, admin_headers, request, collection, record, change, other
):
    path = f"{collection}/{request.getfixturevalue(record)['id']}"
    seen_by_both = _etag_and_304(client, admin_headers, path)
    first = client.patch(path, json=change, headers={**admin_headers, "If-Match": seen_by_both})
    assert first.status_code == 200
    assert first.headers["ETag"] == client.get(path, headers=admin_headers).headers["ETag"]
    stale = {**admin_headers, "If-Match": seen_by_both}
    with unchanged(db):
        writes = [
            client.patch(path, json=change, headers=stale),
            client.delete(path, headers=stale),
        ]
    for response in writes:
        assert_error(response, 412, "precondition_failed")
    current = client.get(path, headers=admin_headers).headers["ETag"]
    assert client.delete(path, headers={**admin_headers, "If-Match": current}).status_code == 200
    assert_error(client.get(path, headers=admin_headers), 404, "not_found")


def test_a_move_or_undo_on_a_booking_changed_since_it_was_read_is_412(
    client, db, admin_headers, make_resource, booked
):
    booking = booked(make_resource()["id"], "2030-01-07T10:00:00Z")
    path = f"{BOOKINGS}/{booking['id']}"
    read = client.get(path, headers=admin_headers).headers["ETag"]
    confirmed = client.post(
        f"{path}/transition",
        json={"status": "confirmed"},
        headers={**admin_headers, "If-Match": read},
    )
    assert confirmed.status_code == 200
    event_id = client.get(path, headers=admin_headers).json["data"]["events"][-1]["id"]
    stale = {**admin_headers, "If-Match": read}
    with unchanged(db):
        moved = client.post(
            f"{path}/move", json={"start_time": "2030-01-07T12:00:00Z"}, headers=stale
        )
        undone = client.post(f"{path}/undo", json={"event_id": event_id}, headers=stale)
    assert_error(moved, 412, "precondition_failed")
    assert_error(undone, 412, "precondition_failed")

    current = {**admin_headers, "If-Match": confirmed.headers["ETag"]}
    moved = client.post(
        f"{path}/move", json={"start_time": "2030-01-07T12:00:00Z"}, headers=current
    )
    assert moved.status_code == 200 and moved.json["data"]["start_time"] == "2030-01-07T12:00:00Z"
    after_move = {**admin_headers, "If-Match": moved.headers["ETag"]}
    undone = client.post(f"{path}/undo", json={"event_id": event_id}, headers=after_move)
    assert undone.status_code == 200 and undone.json["data"]["status"] == "pending"


def test_a_write_without_if_match_still_goes_through(client, admin_headers, service):
    """If-Match is the client's choice: without it the last write wins, as before."""
    path = f"{SERVICES}/{service['id']}"
    response = client.patch(path, json={"price_minor": 5500}, headers=admin_headers)
    assert response.status_code == 200 and response.json["data"]["price_minor"] == 5500


def test_an_outbox_message_has_an_etag_that_answers_304_while_it_is_current(
    client, admin_headers, make_resource, make_customer
):
    customer = make_customer(email="ada@example.com")
    body = {
        "resource_id": make_resource()["id"],
        "customer_id": customer["id"],
        "start_time": "2030-01-07T10:00:00Z",
    }
    assert client.post(BOOKINGS, json=body, headers=admin_headers).status_code == 201
    listed = client.get("/modules/booking/messages", headers=admin_headers).json["data"]
    assert listed, "a booking of a customer with an email decides a confirmation"
    _etag_and_304(client, admin_headers, f"/modules/booking/messages/{listed[0]['id']}")
