"""Malformed input gets a 4xx whose message says what to change (issue #12, item 3)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import assert_error, unchanged

CUSTOMERS = "/modules/booking/customers"
DEEP_MESSAGE = "The body nests arrays and objects more than 64 levels deep; flatten it."
SURROGATE_MESSAGE = (
    "The body contains a lone UTF-16 surrogate (such as \\ud800), which is not a character; "
    "send each character whole, as UTF-8 text or a surrogate pair."
)
DIGITS_MESSAGE = (
    "A number in the body has more than 4,300 digits; send it as a string if it must be that long."
)


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def _post(client, path: str, text: str | bytes, headers: dict[str, str], **kwargs):
    data = text.encode() if isinstance(text, str) else text
    kwargs.setdefault("content_type", "application/json")
    return client.post(path, data=data, headers=headers, **kwargs)


@pytest.mark.parametrize(
    ("path", "text", "message"),
    [
        (CUSTOMERS, _nested(1000), DEEP_MESSAGE),
        (CUSTOMERS, '{"name": "x", "metadata": {"a": ' + _nested(70) + "}}", DEEP_MESSAGE),
        ("/v1/customers", '{"name": "x", "data": {"a": ' + _nested(5000) + "}}", DEEP_MESSAGE),
        (CUSTOMERS, '"\\ud800"', SURROGATE_MESSAGE),
        (CUSTOMERS, '{"name": "Ada\\udc00"}', SURROGATE_MESSAGE),
        (CUSTOMERS, '{"name": "x", "metadata": {"\\ud800": 1}}', SURROGATE_MESSAGE),
        (CUSTOMERS, '{"name": "x", "metadata": {"a": [{"b": "\\ud800"}]}}', SURROGATE_MESSAGE),
        ("/v1/customers", '{"name": "x", "data": {"k": "\\udbff"}}', SURROGATE_MESSAGE),
        (CUSTOMERS, b'{"name": "\xed\xa0\x80"}', SURROGATE_MESSAGE),
        (CUSTOMERS, "9" * 5000, DIGITS_MESSAGE),
        (CUSTOMERS, '{"name": "x", "metadata": {"n": ' + "9" * 5000 + "}}", DIGITS_MESSAGE),
        (CUSTOMERS, '{"name": "x", "metadata": {"n": -' + "1" * 4301 + "}}", DIGITS_MESSAGE),
        (CUSTOMERS, "", "The body is empty; send a JSON object."),
        (
            CUSTOMERS,
            '{"name": "x",',
            "The body is not valid JSON: expecting property name enclosed in double quotes at "
            "line 1, column 14.",
        ),
        (CUSTOMERS, '["name"]', "The body must be a JSON object."),
    ],
)
def test_a_malformed_body_is_a_400_that_names_the_problem(
    client, db, admin_headers, path, text, message
):
    with unchanged(db):
        response = _post(client, path, text, admin_headers)
    assert assert_error(response, 400, "bad_request")["message"] == message


def test_a_body_64_deep_is_read(client, admin_headers):
    response = _post(client, CUSTOMERS, '{"name": "x", "a": ' + _nested(63) + "}", admin_headers)
    # Read, then refused for its unknown field: the depth itself was fine.
    assert assert_error(response, 422, "validation_error")["details"][0]["field"] == "a"


def test_integers_up_to_4300_digits_are_kept_digit_for_digit(client, admin_headers):
    number = "7" * 4300
    response = _post(
        client, CUSTOMERS, '{"name": "x", "metadata": {"n": ' + number + "}}", admin_headers
    )
    assert response.status_code == 201, response.json
    read = client.get(f"{CUSTOMERS}/{response.json['data']['id']}", headers=admin_headers)
    assert json.loads(read.data)["data"]["metadata"]["n"] == int(number)


def test_metadata_nests_at_most_32_levels(client, db, admin_headers):
    deep = {"a": json.loads(_nested(32))}  # 33 levels with its own object
    with unchanged(db):
        response = client.post(
            CUSTOMERS, json={"name": "x", "metadata": deep}, headers=admin_headers
        )
    error = assert_error(response, 422, "validation_error")
    assert error["details"] == [
        {"field": "metadata", "message": "Must nest at most 32 levels of arrays and objects."}
    ]
    fits = {"a": json.loads(_nested(31))}
    assert (
        client.post(
            CUSTOMERS, json={"name": "x", "metadata": fits}, headers=admin_headers
        ).status_code
        == 201
    )


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"tags": ",".join(f"t{i}" for i in range(998))}, "tags", "Give at most 50 tags."),
        ({"tags": "a," + "b" * 65}, "tags", "Each tag is at most 64 characters."),
        ({"q": "x" * 321}, "q", "String should have at most 320 characters"),
        ({"email": "x" * 321}, "email", "String should have at most 320 characters"),
    ],
)
def test_customer_filters_are_bounded(client, read_headers, query, field, message):
    response = client.get(CUSTOMERS, query_string=query, headers=read_headers)
    error = assert_error(response, 422, "validation_error")
    assert error["details"] == [{"field": field, "message": message}]


def test_a_long_resource_search_is_a_422(client, read_headers):
    response = client.get(
        "/modules/booking/resources", query_string={"q": "%_" * 30_000}, headers=read_headers
    )
    error = assert_error(response, 422, "validation_error")
    assert error["details"][0]["field"] == "q"


def test_filters_at_their_bounds_still_search(client, read_headers, make_customer):
    made = make_customer(tags=[f"t{i}" for i in range(50)])
    query = {"tags": ",".join(f"t{i}" for i in range(50)), "q": "Ada"}
    response = client.get(CUSTOMERS, query_string=query, headers=read_headers)
    assert [row["id"] for row in response.json["data"]] == [made["id"]]


def test_a_status_list_repeating_one_status_is_read_once(client, read_headers):
    response = client.get(
        "/modules/booking/bookings",
        query_string={"status": ",".join(["pending"] * 40_000)},
        headers=read_headers,
    )
    assert response.status_code == 200, response.json


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_a_json_body_declared_as_another_type_is_415_and_changes_nothing(
    client, db, admin_headers, content_type
):
    """Issue 15 changed this: a body sent as text/plain used to be read as JSON anyway."""
    with unchanged(db):
        response = _post(
            client, CUSTOMERS, '{"name": "Ada"}', admin_headers, content_type=content_type
        )
    error = assert_error(response, 415, "unsupported_media_type")
    assert "application/json" in error["message"]


@pytest.mark.parametrize(
    "content_type", [None, "application/json; charset=utf-8", "application/merge-patch+json"]
)
def test_json_types_and_a_body_with_no_content_type_are_read_as_json(
    client, admin_headers, content_type
):
    response = client.post(
        CUSTOMERS, data=b'{"name": "Ada"}', headers=admin_headers, content_type=content_type
    )
    assert response.status_code == 201, response.json


def test_the_app_answers_413_in_json_before_reading_an_over_limit_body(client, db, admin_headers):
    with unchanged(db):
        response = client.post(
            CUSTOMERS,
            data=b"x",
            headers=admin_headers,
            environ_overrides={"CONTENT_LENGTH": "300000000"},
            content_type="application/json",
        )
    error = assert_error(response, 413, "payload_too_large")
    assert error["message"] == "The request body is larger than 1 MiB."
