"""Every class of hostile input, sent to every route and every form (issue #12, item 3).

Each answer must be below 500 with no traceback, and the database must not change: none of
these inputs is a valid request. The messages themselves are checked in
tests/api/test_hostile_bodies.py; here the point is coverage of every route.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import snapshot
from tests.ui.conftest import DAY, Desk, key_text

DEEP = "[" * 1000 + "]" * 1000
HUGE = "9" * 5000
# Raw JSON texts: json.dumps would refuse a lone surrogate, and these must reach the server.
BODIES = {
    "deep_top": DEEP,
    "deep_metadata": '{"name": "x", "metadata": {"a": ' + DEEP + "}}",
    "deep_data": '{"name": "x", "data": {"a": ' + DEEP + "}}",
    "surrogate_top": '"\\ud800"',
    "surrogate_value": '{"name": "\\ud800", "status": "\\udc00"}',
    "surrogate_key": '{"\\ud800": 1}',
    "surrogate_nested": '{"name": "x", "metadata": {"a": [{"\\udbff": "\\ud800"}]}}',
    "surrogate_data": '{"name": "x", "data": {"k": "\\ud800"}}',
    "raw_surrogate": b'{"name": "\xed\xa0\x80"}',
    "huge_int_top": HUGE,
    "huge_int_value": '{"name": "x", "metadata": {"n": ' + HUGE + "}}",
    "huge_int_field": '{"name": "x", "count": ' + HUGE + ', "limit": -' + HUGE + "}",
    "not_utf8": b'{"name": "\xff\xfe"}',
    "empty": "",
    "truncated": '{"name": ',
}
# A body that is JSON but not a valid request, under content types a client might send.
CONTENT_TYPES = (
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json; charset=utf-16",
    "application/xml",
)
WRONG_BODY = '{"no_such_field": "\\ud800"}'
LONG = "x" * 60_000
QUERIES = {
    "long_q": {"q": LONG, "email": LONG},
    "many_tags": {"tags": ",".join(f"t{i}" for i in range(998))},
    "long_tags": {"tags": LONG},
    "many_statuses": {"status": ",".join(["pending"] * 20_000)},
    "long_ids": {"resource_id": LONG, "customer_id": LONG, "node_id": LONG},
    "huge_numbers": {"limit": HUGE, "offset": HUGE, "duration_minutes": HUGE},
    "bad_times": {"from": "9999-99-99T99:99:99Z", "to": LONG, "day": LONG, "date": LONG},
    "long_cursor": {"cursor": LONG},
}
FORM_FIELDS = (
    "all_day business_days cancel_reason closes customer_id date duration_minutes end_clock "
    "end_date name new_customer_name new_customer_phone notes opens other_time resource_id "
    "start_clock start_date start_time status tags timezone title email phone external_id "
    "default_duration_minutes buffer_minutes"
).split()
FORM_VALUES = {
    "long": "x" * 100_000,
    "huge_int": HUGE,
    "many_tags": ",".join(f"t{i}" for i in range(998)),
}
# Forms that take no input but do something (delete, sign out) are left out: fields they
# ignore cannot harm them, and doing their job would change the database.
SKIPPED_FORMS = {"ui.signin", "ui.signout"}


@pytest.fixture
def ids(make_customer, make_resource, booked, client, admin_headers) -> dict[str, str]:
    resource = make_resource()
    blocker = client.post(
        "/modules/booking/blockers",
        json={
            "resource_id": resource["id"],
            "start_time": "2030-02-01T00:00:00Z",
            "end_time": "2030-02-01T01:00:00Z",
        },
        headers=admin_headers,
    )
    return {
        "customer_id": make_customer()["id"],
        "resource_id": resource["id"],
        "booking_id": booked(resource["id"], f"{DAY}T10:00:00Z")["id"],
        "blocker_id": blocker.json["data"]["id"],
    }


@pytest.fixture
def fuzz_headers(make_key) -> dict[str, str]:
    """Every scope, and a rate limit that the fuzzing cannot reach."""
    return make_key("booking:admin", "sync", rate_limit="100000/minute")


def _routes(app, blueprint_is_ui: bool) -> list[tuple[str, str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("ui.") != blueprint_is_ui:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS", "DELETE"}):
            routes.append((method, rule.rule, rule.endpoint))
    return routes


def _path(rule: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        rule = rule.replace(f"<{name}>", value)
    return rule


def _assert_handled(response: Any, what: str) -> None:
    text = response.get_data(as_text=True)
    assert response.status_code < 500, f"{what}: {response.status_code} {text[:300]}"
    assert "Traceback" not in text and 'File "' not in text, what


def test_every_api_route_answers_every_hostile_body_with_a_4xx(app, client, db, ids, fuzz_headers):
    before = snapshot(db)
    for method, rule, _ in _routes(app, blueprint_is_ui=False):
        path = _path(rule, ids)
        if method in ("POST", "PATCH"):
            for name, body in BODIES.items():
                data = body.encode() if isinstance(body, str) else body
                response = client.open(
                    path,
                    method=method,
                    data=data,
                    headers=fuzz_headers,
                    content_type="application/json",
                )
                _assert_handled(response, f"{method} {path} {name}")
            for content_type in CONTENT_TYPES:
                response = client.open(
                    path,
                    method=method,
                    data=WRONG_BODY,
                    headers=fuzz_headers,
                    content_type=content_type,
                )
                _assert_handled(response, f"{method} {path} {content_type}")
        else:
            for name, query in QUERIES.items():
                response = client.get(path, query_string=query, headers=fuzz_headers)
                _assert_handled(response, f"GET {path} {name}")
    assert snapshot(db) == before


def _raw_form(fields: Iterable[str], csrf: str) -> str:
    """A urlencoded form whose every field is a lone surrogate in UTF-8 (ED A0 80), which no
    browser would send and the test client cannot encode from a str."""
    pairs = [f"{name}=%ED%A0%80" for name in fields] + [f"csrf_token={quote(csrf)}"]
    return "&".join(pairs)


def _forms(app, ids: dict[str, str]) -> list[str]:
    return [
        _path(rule, ids)
        for method, rule, endpoint in _routes(app, blueprint_is_ui=True)
        if method == "POST" and endpoint not in SKIPPED_FORMS and "delete" not in endpoint
    ]


@pytest.fixture
def staff(app, make_key) -> Desk:
    signed_in = Desk(app.test_client())
    key = key_text(make_key("booking:admin", rate_limit="100000/minute"))
    assert signed_in.post("/signin", {"api_key": key}).status_code == 302
    return signed_in


def test_every_page_answers_hostile_queries_with_a_4xx(app, db, ids, staff):
    before = snapshot(db)
    for method, rule, _ in _routes(app, blueprint_is_ui=True):
        if method == "GET":
            path = _path(rule, ids)
            for name, query in QUERIES.items():
                _assert_handled(staff.client.get(path, query_string=query), f"GET {path} {name}")
    assert snapshot(db) == before


def test_every_form_answers_hostile_fields_with_a_4xx(app, db, ids, staff):
    csrf = staff.csrf()
    before = snapshot(db)
    for path in _forms(app, ids):
        for name, value in FORM_VALUES.items():
            form = dict.fromkeys(FORM_FIELDS, value) | {"csrf_token": csrf}
            _assert_handled(staff.client.post(path, data=form), f"POST {path} {name}")
    assert snapshot(db) == before


def test_forms_take_invalid_utf8_as_plain_text(app, db, ids, staff):
    """Werkzeug keeps an undecodable %ED%A0%80 as those nine characters, so a form may store
    it, but never a lone surrogate: every row still reads back as text."""
    csrf = staff.csrf()
    for path in _forms(app, ids):
        raw = _raw_form(FORM_FIELDS, csrf)
        response = staff.client.post(
            path, data=raw, content_type="application/x-www-form-urlencoded"
        )
        _assert_handled(response, f"POST {path} surrogate")
    snapshot(db)  # would raise on text SQLite cannot hand back as UTF-8
