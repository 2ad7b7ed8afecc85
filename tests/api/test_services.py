"""Services with prices, bookings that name one, and the day summary (API.md §8), via HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import assert_error, unchanged

SERVICES = "/modules/booking/services"
BOOKINGS = "/modules/booking/bookings"
SUMMARY = "/modules/booking/day-summary"
START = "2030-01-07T10:00:00Z"
FIELDS = {
    "id",
    "name",
    "duration_minutes",
    "price_minor",
    "currency",
    "buffer_minutes",
    "resource_ids",
    "metadata",
    "created_at",
    "updated_at",
}


@pytest.fixture
def make_service(client, admin_headers):
    def make(**overrides: Any) -> dict[str, Any]:
        body = {
            "name": "Trim",
            "duration_minutes": 30,
            "price_minor": 2500,
            "currency": "EUR",
            **overrides,
        }
        response = client.post(SERVICES, json=body, headers=admin_headers)
        assert response.status_code == 201, response.json
        return response.json["data"]

    return make


def book(client, headers, **body: Any):
    return client.post(BOOKINGS, json=body, headers=headers)


# --- CRUD -------------------------------------------------------------------------------------


def test_create_returns_every_field_with_defaults(client, write_headers):
    body = {"name": "Colour", "duration_minutes": 90, "price_minor": 8000, "currency": "EUR"}
    response = client.post(SERVICES, json=body, headers=write_headers)
    assert response.status_code == 201
    data = response.json["data"]
    assert set(data) == FIELDS and data["id"].startswith("svc_")
    assert {k: data[k] for k in body} == body
    assert (data["buffer_minutes"], data["resource_ids"], data["metadata"]) == (0, [], {})


@pytest.mark.parametrize(
    "change,field",
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 1441}, "duration_minutes"),
        ({"price_minor": -1}, "price_minor"),
        ({"price_minor": 12.5}, "price_minor"),
        ({"price_minor": "2500"}, "price_minor"),
        ({"currency": "eur"}, "currency"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "ABC"}, "currency"),
        ({"buffer_minutes": 241}, "buffer_minutes"),
        ({"resource_ids": "res_1"}, "resource_ids"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_create_is_422_naming_the_field_and_changes_nothing(
    client, db, write_headers, change, field
):
    body = {
        "name": "Trim",
        "duration_minutes": 30,
        "price_minor": 2500,
        "currency": "EUR",
        **change,
    }
    with unchanged(db):
        response = client.post(SERVICES, json=body, headers=write_headers)
    error = assert_error(response, 422, "validation_error")
    assert field in [detail["field"] for detail in error["details"]]


def test_currency_message_says_what_to_send(client, write_headers):
    body = {"name": "Trim", "duration_minutes": 30, "price_minor": 1, "currency": "XYZ"}
    error = assert_error(
        client.post(SERVICES, json=body, headers=write_headers), 422, "validation_error"
    )
    assert "ISO 4217" in error["details"][0]["message"]


def test_get_patch_list_and_delete(client, db, read_headers, admin_headers, make_service):
    trim, colour = make_service(), make_service(name="Colour", price_minor=8000)
    assert client.get(f"{SERVICES}/{trim['id']}", headers=read_headers).json["data"] == trim
    patched = client.patch(
        f"{SERVICES}/{trim['id']}", json={"price_minor": 3000}, headers=admin_headers
    ).json["data"]
    assert patched["price_minor"] == 3000 and patched["name"] == "Trim"
    listed = client.get(f"{SERVICES}?q=col", headers=read_headers).json
    assert [s["id"] for s in listed["data"]] == [colour["id"]]
    assert listed["meta"]["has_more"] is False
    page = client.get(f"{SERVICES}?limit=1", headers=read_headers).json
    rest = client.get(
        f"{SERVICES}?limit=1&cursor={page['meta']['next_cursor']}", headers=read_headers
    ).json
    assert [s["id"] for s in page["data"] + rest["data"]] == [trim["id"], colour["id"]]
    gone = client.delete(f"{SERVICES}/{trim['id']}", headers=admin_headers)
    assert gone.status_code == 200 and gone.json["data"]["id"] == trim["id"]
    assert_error(client.get(f"{SERVICES}/{trim['id']}", headers=read_headers), 404, "not_found")


def test_list_by_resource_keeps_the_services_it_performs(
    client, read_headers, make_service, make_resource
):
    chair, sink = make_resource(name="Chair"), make_resource(name="Sink")
    anywhere = make_service(name="Trim")
    at_sink = make_service(name="Wash", resource_ids=[sink["id"]])
    listed = client.get(f"{SERVICES}?resource_id={chair['id']}", headers=read_headers).json
    assert [s["id"] for s in listed["data"]] == [anywhere["id"]]
    listed = client.get(f"{SERVICES}?resource_id={sink['id']}", headers=read_headers).json
    assert [s["id"] for s in listed["data"]] == [anywhere["id"], at_sink["id"]]


def test_invalid_patch_and_unknown_ids(client, db, write_headers, admin_headers, make_service):
    trim = make_service()
    with unchanged(db):
        response = client.patch(
            f"{SERVICES}/{trim['id']}", json={"currency": "XX"}, headers=write_headers
        )
        assert_error(response, 422, "validation_error")
        response = client.patch(f"{SERVICES}/svc_nope", json={"name": "X"}, headers=write_headers)
        assert_error(response, 404, "not_found")
        assert_error(client.delete(f"{SERVICES}/svc_nope", headers=admin_headers), 404, "not_found")


def test_delete_needs_admin_and_read_keys_cannot_write(
    client, db, read_headers, write_headers, make_service
):
    trim = make_service()
    with unchanged(db):
        assert_error(
            client.delete(f"{SERVICES}/{trim['id']}", headers=write_headers), 403, "forbidden"
        )
        body = {"name": "X", "duration_minutes": 5, "price_minor": 1, "currency": "EUR"}
        assert_error(client.post(SERVICES, json=body, headers=read_headers), 403, "forbidden")


# --- bookings that name a service -------------------------------------------------------------


def test_a_booking_takes_the_service_s_length_price_and_currency(
    client, write_headers, make_service, make_resource
):
    chair = make_resource()
    colour = make_service(name="Colour", duration_minutes=90, price_minor=8000)
    response = book(
        client, write_headers, resource_id=chair["id"], start_time=START, service_id=colour["id"]
    )
    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert (data["service_id"], data["price_minor"], data["currency"]) == (
        colour["id"],
        8000,
        "EUR",
    )
    assert data["duration_minutes"] == 90


def test_a_booking_s_own_length_wins_over_the_service_s(
    client, write_headers, make_service, make_resource
):
    chair = make_resource()
    colour = make_service(duration_minutes=90)
    data = book(
        client,
        write_headers,
        resource_id=chair["id"],
        start_time=START,
        service_id=colour["id"],
        duration_minutes=45,
    ).json["data"]
    assert data["duration_minutes"] == 45 and data["price_minor"] == 2500


def test_a_price_change_leaves_booked_prices_alone(
    client, write_headers, read_headers, make_service, make_resource
):
    chair = make_resource()
    trim = make_service()
    made = book(
        client, write_headers, resource_id=chair["id"], start_time=START, service_id=trim["id"]
    ).json["data"]
    client.patch(f"{SERVICES}/{trim['id']}", json={"price_minor": 9999}, headers=write_headers)
    again = client.get(f"{BOOKINGS}/{made['id']}", headers=read_headers).json["data"]
    assert again["price_minor"] == 2500


def test_an_unknown_service_is_422_and_changes_nothing(client, db, write_headers, make_resource):
    chair = make_resource()
    with unchanged(db):
        response = book(
            client, write_headers, resource_id=chair["id"], start_time=START, service_id="svc_x"
        )
    assert_error(response, 422, "unknown_service")


def test_a_service_the_resource_does_not_perform_is_422_and_changes_nothing(
    client, db, write_headers, make_service, make_resource
):
    chair, sink = make_resource(name="Chair"), make_resource(name="Sink")
    wash = make_service(name="Wash", resource_ids=[sink["id"]])
    with unchanged(db):
        response = book(
            client, write_headers, resource_id=chair["id"], start_time=START, service_id=wash["id"]
        )
    error = assert_error(response, 422, "service_not_offered")
    assert error["message"].startswith("Chair does not perform Wash")


def test_a_moved_booking_stays_on_resources_that_perform_its_service(
    client, db, write_headers, make_service, make_resource
):
    chair, sink = make_resource(name="Chair"), make_resource(name="Sink")
    wash = make_service(name="Wash", resource_ids=[sink["id"]])
    made = book(
        client, write_headers, resource_id=sink["id"], start_time=START, service_id=wash["id"]
    ).json["data"]
    with unchanged(db):
        response = client.post(
            f"{BOOKINGS}/{made['id']}/move",
            json={"resource_id": chair["id"]},
            headers=write_headers,
        )
    assert_error(response, 422, "service_not_offered")


def test_a_service_buffer_keeps_its_time_free_and_the_refusal_says_so(
    client, db, write_headers, make_service, make_resource
):
    chair = make_resource(name="Chair 1", buffer_minutes=5)
    colour = make_service(name="Colour", duration_minutes=60, buffer_minutes=20)
    first = book(
        client, write_headers, resource_id=chair["id"], start_time=START, service_id=colour["id"]
    ).json["data"]  # 10:00-11:00, then 20 minutes free (the service's buffer is longer)
    with unchanged(db):
        response = book(
            client, write_headers, resource_id=chair["id"], start_time="2030-01-07T11:10:00Z"
        )
    error = assert_error(response, 422, "slot_conflict")
    assert error["message"].endswith("and 20 minutes are kept free after that booking.")
    assert first["id"] in error["details"][0]["message"]
    assert (
        book(
            client, write_headers, resource_id=chair["id"], start_time="2030-01-07T11:20:00Z"
        ).status_code
        == 201
    )


def test_availability_keeps_a_service_s_buffer_free(
    client, write_headers, read_headers, make_service, make_resource
):
    chair = make_resource(name="Chair 1")
    colour = make_service(name="Colour", duration_minutes=60, buffer_minutes=30)
    book(client, write_headers, resource_id=chair["id"], start_time=START, service_id=colour["id"])
    slots = client.get(
        f"/modules/booking/resources/{chair['id']}/availability?from=2030-01-07T10:00:00Z"
        "&to=2030-01-07T13:00:00Z&duration_minutes=30&step_minutes=15",
        headers=read_headers,
    ).json["data"]
    assert slots[0]["start_time"] == "2030-01-07T11:30:00Z"


# --- the day summary --------------------------------------------------------------------------


def test_the_day_summary_counts_by_status_and_totals_completed_bookings(
    client, admin_headers, read_headers, make_service, make_resource
):
    chair, sink = make_resource(name="Chair"), make_resource(name="Sink")
    trim = make_service(price_minor=2500)
    colour = make_service(name="Colour", price_minor=8000)

    def made(resource, start, service=None, *statuses):
        body = {"resource_id": resource["id"], "start_time": start, "duration_minutes": 30}
        if service:
            body["service_id"] = service["id"]
        booking = book(client, admin_headers, **body).json["data"]
        for status in statuses:
            url = f"{BOOKINGS}/{booking['id']}/transition"
            assert (
                client.post(url, json={"status": status}, headers=admin_headers).status_code == 200
            )
        return booking

    done = ("confirmed", "checked_in", "completed")
    made(chair, "2030-01-07T09:00:00Z", trim, *done)
    made(chair, "2030-01-07T10:00:00Z", colour, *done)
    made(chair, "2030-01-07T11:00:00Z", trim, "confirmed", "no_show")
    made(chair, "2030-01-07T12:00:00Z", None, *done)
    made(sink, "2030-01-07T09:00:00Z", trim, *done)
    made(sink, "2030-01-07T10:00:00Z", trim)
    made(sink, "2030-01-08T10:00:00Z", trim, *done)  # another day
    response = client.get(f"{SUMMARY}?date=2030-01-07", headers=read_headers)
    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert data["date"] == "2030-01-07"
    by_name = {r["name"]: r for r in data["resources"]}
    assert by_name["Chair"]["counts"] == {
        "pending": 0,
        "confirmed": 0,
        "checked_in": 0,
        "completed": 3,
        "cancelled": 0,
        "no_show": 1,
    }
    assert by_name["Chair"]["completed_totals"] == [{"currency": "EUR", "amount_minor": 10500}]
    assert by_name["Chair"]["completed_without_price"] == 1
    assert (by_name["Chair"]["from"], by_name["Chair"]["to"]) == (
        "2030-01-07T00:00:00Z",
        "2030-01-08T00:00:00Z",
    )
    assert by_name["Sink"]["bookings"] == 2
    assert data["shop"]["bookings"] == 6
    assert data["shop"]["counts"]["completed"] == 4 and data["shop"]["counts"]["pending"] == 1
    assert data["shop"]["completed_totals"] == [{"currency": "EUR", "amount_minor": 13000}]
    one = client.get(f"{SUMMARY}?date=2030-01-07&resource_id={sink['id']}", headers=read_headers)
    assert [r["name"] for r in one.json["data"]["resources"]] == ["Sink"]


def test_the_day_summary_uses_each_resource_s_own_day(
    client, admin_headers, read_headers, make_resource
):
    berlin = make_resource(name="Berlin", timezone="Europe/Berlin")
    book(client, admin_headers, resource_id=berlin["id"], start_time="2030-01-06T23:30:00Z")
    data = client.get(f"{SUMMARY}?date=2030-01-07", headers=read_headers).json["data"]
    (figures,) = data["resources"]
    assert figures["from"] == "2030-01-06T23:00:00Z" and figures["bookings"] == 1


@pytest.mark.parametrize("query", ["", "?date=2030-02-30", "?date=7.1.2030", "?date=1700000000"])
def test_a_bad_day_is_422(client, read_headers, query):
    error = assert_error(
        client.get(f"{SUMMARY}{query}", headers=read_headers), 422, "validation_error"
    )
    assert error["details"][0]["field"] == "date"


def test_the_summary_of_an_unknown_resource_is_422(client, read_headers):
    response = client.get(f"{SUMMARY}?date=2030-01-07&resource_id=res_x", headers=read_headers)
    assert_error(response, 422, "unknown_resource")
