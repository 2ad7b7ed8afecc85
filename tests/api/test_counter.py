"""Shop-wide closures and the customers' type-ahead search (API.md §8)."""

from __future__ import annotations

import logging

import pytest

from app.domain import shop_settings
from tests.conftest import assert_error, unchanged

CLOSURES = "/modules/booking/closures"
SEARCH = "/modules/booking/customers/search"
HOLIDAY = {
    "title": "Holiday",
    "start_time": "2030-01-07T09:00:00Z",
    "end_time": "2030-01-07T17:00:00Z",
}


def names(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [customer["name"] for customer in response.json["data"]]


# --- closures ---------------------------------------------------------------------------------


def test_a_closure_blocks_every_resource_in_one_request(
    client, write_headers, make_resource, booked
):
    chairs = [make_resource(name=f"Chair {n}", timezone="Europe/Berlin") for n in (1, 2, 3)]
    in_the_way = booked(chairs[1]["id"], "2030-01-07T10:00:00Z")
    response = client.post(CLOSURES, json=HOLIDAY, headers=write_headers)
    assert response.status_code == 201, response.json
    made = response.json["data"]["blockers"]
    assert sorted(b["resource_id"] for b in made) == sorted(c["id"] for c in chairs)
    assert {b["title"] for b in made} == {"Holiday"}
    assert response.json["meta"]["conflicting_booking_ids"] == [in_the_way["id"]]
    listed = client.get("/modules/booking/blockers", headers=write_headers).json["data"]
    assert sorted(b["id"] for b in listed) == sorted(b["id"] for b in made)
    refused = client.post(
        "/modules/booking/bookings",
        json={"resource_id": chairs[2]["id"], "start_time": "2030-01-07T12:00:00Z"},
        headers=write_headers,
    )
    assert_error(refused, 422, "slot_conflict")


def test_an_all_day_closure_covers_each_resource_s_own_local_day(
    client, write_headers, make_resource
):
    make_resource(name="Berlin chair", timezone="Europe/Berlin")
    make_resource(name="London chair", timezone="Europe/London")
    body = {
        "title": "Holiday",
        "start_time": "2030-01-07T12:00:00Z",
        "end_time": "2030-01-07T13:00:00Z",
        "all_day": True,
    }
    response = client.post(CLOSURES, json=body, headers=write_headers)
    assert response.status_code == 201, response.json
    spans = sorted((b["start_time"], b["end_time"]) for b in response.json["data"]["blockers"])
    assert spans == [
        ("2030-01-06T23:00:00Z", "2030-01-07T23:00:00Z"),
        ("2030-01-07T00:00:00Z", "2030-01-08T00:00:00Z"),
    ]


def test_a_repeating_closure_repeats_on_every_resource(client, write_headers, make_resource):
    make_resource(name="Chair 1")
    make_resource(name="Chair 2")
    body = {**HOLIDAY, "title": "Team meeting", "recurrence": {"freq": "weekly", "count": 4}}
    response = client.post(CLOSURES, json=body, headers=write_headers)
    assert response.status_code == 201, response.json
    assert all(
        b["recurrence"] == {"freq": "weekly", "interval": 1, "count": 4}
        or b["recurrence"]["count"] == 4
        for b in response.json["data"]["blockers"]
    )


@pytest.mark.parametrize(
    "body,field",
    [
        ({**HOLIDAY, "end_time": "2030-01-07T08:00:00Z"}, "end_time"),
        ({**HOLIDAY, "start_time": "2030-01-07 09:00"}, "start_time"),
        ({**HOLIDAY, "resource_id": "res_x"}, "resource_id"),
        ({**HOLIDAY, "recurrence": {"freq": "hourly"}}, "recurrence.freq"),
        ({**HOLIDAY, "end_time": "2031-06-07T17:00:00Z"}, "end_time"),
    ],
)
def test_a_bad_closure_is_refused_naming_the_field_and_makes_nothing(
    client, db, write_headers, make_resource, body, field
):
    make_resource()
    with unchanged(db):
        response = client.post(CLOSURES, json=body, headers=write_headers)
    error = assert_error(response, 422, "validation_error")
    assert field in [detail["field"] for detail in error["details"]]


def test_a_closure_of_a_shop_without_resources_is_invalid_state(client, db, write_headers):
    with unchanged(db):
        response = client.post(CLOSURES, json=HOLIDAY, headers=write_headers)
    assert "no resources" in assert_error(response, 422, "invalid_state")["message"]


def test_a_closure_needs_the_write_scope(client, db, read_headers, make_resource):
    make_resource()
    with unchanged(db):
        response = client.post(CLOSURES, json=HOLIDAY, headers=read_headers)
    assert_error(response, 403, "forbidden")
    assert_error(client.post(CLOSURES, json=HOLIDAY), 401, "unauthorized")


def test_a_closure_with_a_rule_dateutil_refuses_makes_nothing(
    client, db, write_headers, make_resource
):
    make_resource()
    make_resource(name="Chair 2")
    body = {**HOLIDAY, "recurrence": {"rrule": "FREQ=WEEKLY;BYDAY=XX"}}
    with unchanged(db):
        response = client.post(CLOSURES, json=body, headers=write_headers)
    assert_error(response, 422, "validation_error")


# --- customer search --------------------------------------------------------------------------


@pytest.fixture
def german_shop(db):
    shop_settings.update(db, country="DE", clock="24h", first_weekday="mon")


@pytest.mark.parametrize(
    "typed",
    [
        "+49 151 2345678", "+491512345678", "0151 2345678", "01512345678", "0049 151 2345678",
        "(0151) 234-5678", "0151/2345678", "0151.234.5678", "1512345678", "+49 (0)151 2345678",
    ],
)  # fmt: skip
def test_any_common_spelling_of_a_phone_number_finds_the_customer(
    client, read_headers, make_customer, german_shop, typed
):
    make_customer(name="Ada Lovelace", phone="+49 151 2345678")
    make_customer(name="Grace Hopper", phone="0151 9876543")
    response = client.get(SEARCH, query_string={"q": typed}, headers=read_headers)
    assert names(response) == ["Ada Lovelace"]


@pytest.mark.parametrize("stored", ["0151 2345678", "+49 (0)151 2345678", "0049-151-2345678"])
def test_a_number_stored_in_any_spelling_is_found_by_the_international_one(
    client, read_headers, make_customer, german_shop, stored
):
    make_customer(name="Ada Lovelace", phone=stored)
    response = client.get(SEARCH, query_string={"q": "+491512345678"}, headers=read_headers)
    assert names(response) == ["Ada Lovelace"]


def test_the_start_of_a_number_finds_it_while_typing(
    client, read_headers, make_customer, german_shop
):
    make_customer(name="Ada Lovelace", phone="+49 151 2345678")
    make_customer(name="Alan Turing", phone="+44 20 7946 0000")
    assert names(client.get(SEARCH, query_string={"q": "0151 23"}, headers=read_headers)) == [
        "Ada Lovelace"
    ]
    assert names(client.get(SEARCH, query_string={"q": "+44 20"}, headers=read_headers)) == [
        "Alan Turing"
    ]


def test_without_a_country_only_international_spellings_match(client, read_headers, make_customer):
    make_customer(name="Ada Lovelace", phone="+49 151 2345678")
    assert names(
        client.get(SEARCH, query_string={"q": "0049 151 2345678"}, headers=read_headers)
    ) == ["Ada Lovelace"]
    assert names(client.get(SEARCH, query_string={"q": "0151 2345678"}, headers=read_headers)) == []


def test_names_match_by_their_start_and_by_the_start_of_any_word(
    client, read_headers, make_customer
):
    for name in ("Ada Lovelace", "Adam Smith", "Canada Dry", "Anne-Marie Lov", "Grace Hopper"):
        make_customer(name=name)
    assert names(client.get(SEARCH, query_string={"q": "ada"}, headers=read_headers)) == [
        "Ada Lovelace", "Adam Smith",
    ]  # fmt: skip
    assert names(client.get(SEARCH, query_string={"q": "lov"}, headers=read_headers)) == [
        "Ada Lovelace", "Anne-Marie Lov",
    ]  # fmt: skip
    assert names(client.get(SEARCH, query_string={"q": "marie"}, headers=read_headers)) == [
        "Anne-Marie Lov"
    ]
    assert names(client.get(SEARCH, query_string={"q": "ada  love"}, headers=read_headers)) == [
        "Ada Lovelace"
    ]


def test_the_start_of_an_email_matches(client, read_headers, make_customer):
    make_customer(name="Ada Lovelace", email="Countess@example.com")
    for typed in ("countess", "COUNTESS@ex"):
        response = client.get(SEARCH, query_string={"q": typed}, headers=read_headers)
        assert names(response) == ["Ada Lovelace"]


def test_like_wildcards_are_literal(client, read_headers, make_customer):
    make_customer(name="Ada Lovelace")
    assert names(client.get(SEARCH, query_string={"q": "%"}, headers=read_headers)) == []
    assert names(client.get(SEARCH, query_string={"q": "a_a"}, headers=read_headers)) == []


def test_limit_and_has_more(client, read_headers, make_customer):
    for index in range(4):
        make_customer(name=f"Ada {index}")
    response = client.get(SEARCH, query_string={"q": "ada", "limit": 3}, headers=read_headers)
    assert names(response) == ["Ada 0", "Ada 1", "Ada 2"]
    assert response.json["meta"] == {"limit": 3, "next_cursor": None, "has_more": True}


def test_deleted_customers_are_not_suggested(client, admin_headers, make_customer):
    gone = make_customer(name="Ada Lovelace", phone="+49 151 2345678")
    client.delete(f"/modules/booking/customers/{gone['id']}", headers=admin_headers)
    assert names(client.get(SEARCH, query_string={"q": "ada"}, headers=admin_headers)) == []
    assert names(client.get(SEARCH, query_string={"q": "+49151"}, headers=admin_headers)) == []


@pytest.mark.parametrize(
    "params,field",
    [({}, "q"), ({"q": ""}, "q"), ({"q": "x" * 321}, "q"), ({"q": "a", "limit": 26}, "limit"),
     ({"q": "a", "limit": 0}, "limit"), ({"q": "a", "limit": "ten"}, "limit")],
)  # fmt: skip
def test_bad_search_parameters_are_422_naming_the_parameter(client, read_headers, params, field):
    response = client.get(SEARCH, query_string=params, headers=read_headers)
    error = assert_error(response, 422, "validation_error")
    assert error["details"][0]["field"] == field


def test_the_search_path_is_not_a_customer_id(client, db, admin_headers, make_customer):
    """PATCH or DELETE /customers/search is 405, offering GET: it never reaches the customer
    routes as a customer called "search" (found by schemathesis's Allow check)."""
    make_customer(name="Ada")
    with unchanged(db):
        for method in ("PATCH", "DELETE"):
            response = client.open(SEARCH, method=method, json={}, headers=admin_headers)
            assert_error(response, 405, "method_not_allowed")
            assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert "PATCH" not in client.options(SEARCH).headers["Allow"]


def test_the_request_log_names_the_customer_route_as_the_api_does(
    client, admin_headers, make_customer, caplog
):
    customer = make_customer()
    with caplog.at_level(logging.INFO, logger="booking.requests"):
        client.get(f"/modules/booking/customers/{customer['id']}", headers=admin_headers)
    assert "GET /modules/booking/customers/<customer_id> 200" in caplog.text
    assert customer["id"] not in caplog.text


def test_search_needs_a_key(client):
    assert_error(client.get(SEARCH, query_string={"q": "ada"}), 401, "unauthorized")


@pytest.mark.sqlite_only(reason="reads SQLite's query plan for its own search index")
def test_the_phone_search_reads_its_index(db):
    """The query's expression is the migration's, so SQLite walks the index, never the table."""
    from app.store import customer_search

    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    customer_search.by_phone_prefixes(db, ["+49151"], 10)
    db.conn.set_trace_callback(None)
    plan = db.execute(f"EXPLAIN QUERY PLAN {statements[-1]}").fetchall()
    assert "customers_phone_digits" in " ".join(str(row) for row in plan)
