"""Conventions of every route (API.md §1): keys, scopes, limits, tokens, check order, envelopes."""

import base64
import json
import re

import pytest

from app import store
from app.web.auth import create_key, revoke_key
from tests.conftest import assert_error, unchanged

RESOURCES = "/modules/booking/resources"
CUSTOMERS = "/modules/booking/customers"
MIB = 1024 * 1024
GRANTED = {
    "booking:read": {"booking:read"},
    "booking:write": {"booking:read", "booking:write"},
    "booking:admin": {"booking:read", "booking:write", "booking:admin"},
    "sync": set(),
}
LEAKS = ("Traceback", "sqlite", "/work", 'File "')


def _secret_of(headers):
    return headers["Authorization"].removeprefix("Bearer ")


def _post_raw(client, headers, data, url=RESOURCES, method="POST"):
    return client.open(
        url, method=method, data=data, headers=headers, content_type="application/json"
    )


def _body_of_size(size):
    """A JSON object body of exactly `size` bytes: a resource whose metadata is padding."""
    shell = '{"name": "A", "metadata": {"pad": ""}}'
    return shell.replace('""', '"' + "x" * (size - len(shell)) + '"').encode()


# --- 401 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(lambda key: None, id="missing"),
        pytest.param(lambda key: "", id="empty"),
        pytest.param(lambda key: key, id="no-scheme"),
        pytest.param(lambda key: f"Token {key}", id="token-scheme"),
        pytest.param(lambda key: f"Bearer{key}", id="no-space"),
        pytest.param(
            lambda key: "Basic " + base64.b64encode(f"{key}:".encode()).decode(), id="basic"
        ),
        pytest.param(lambda key: "Bearer", id="bearer-alone"),
        pytest.param(lambda key: "Bearer ", id="bearer-blank"),
        pytest.param(lambda key: "Bearer sk_", id="prefix-only"),
        pytest.param(lambda key: "Bearer sk__" + key.split("_", 2)[2], id="no-key-id"),
        pytest.param(lambda key: "Bearer " + key.rsplit("_", 1)[0] + "_", id="no-secret"),
        pytest.param(lambda key: "Bearer " + key.removeprefix("sk_"), id="no-sk-prefix"),
        pytest.param(lambda key: "Bearer pk_" + key.removeprefix("sk_"), id="other-prefix"),
        pytest.param(lambda key: "Bearer not-a-key", id="garbage"),
        pytest.param(
            lambda key: f"Bearer {key[:-1]}{'A' if key[-1] != 'A' else 'B'}", id="wrong-secret"
        ),
        pytest.param(lambda key: f"Bearer {key}x", id="longer-secret"),
        pytest.param(lambda key: f"Bearer {key} {key}", id="two-keys"),
        pytest.param(
            lambda key: "Bearer sk_01J0000000000000000000000_" + key.split("_", 2)[2],
            id="unknown-key-id",
        ),
    ],
)
def test_a_missing_malformed_or_unknown_key_is_401_and_changes_nothing(
    client, db, admin_headers, authorization
):
    header = authorization(_secret_of(admin_headers))
    headers = {} if header is None else {"Authorization": header}
    with unchanged(db):
        response = client.post(RESOURCES, json={"name": "A"}, headers=headers)
    assert_error(response, 401, "unauthorized")
    assert client.get(RESOURCES, headers=headers).status_code == 401


def test_a_revoked_key_is_401_from_then_on(client, db):
    record, key = create_key(db, name="gone", scopes=["booking:admin"], rate_limit="600/minute")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get(RESOURCES, headers=headers).status_code == 200
    assert revoke_key(db, record["id"]) is True
    with unchanged(db):
        assert_error(
            client.post(RESOURCES, json={"name": "A"}, headers=headers), 401, "unauthorized"
        )
        assert_error(client.get(RESOURCES, headers=headers), 401, "unauthorized")


def test_revoking_one_key_leaves_the_others_working(client, db, admin_headers):
    record, _ = create_key(db, name="gone", scopes=["booking:admin"], rate_limit="600/minute")
    revoke_key(db, record["id"])
    assert client.get(RESOURCES, headers=admin_headers).status_code == 200


# --- 403: scopes -------------------------------------------------------------------------------

RECORD_ROUTES = [
    ("GET", RESOURCES, None, "booking:read", 200),
    ("GET", RESOURCES + "/{res}", None, "booking:read", 200),
    ("POST", RESOURCES, {"name": "New"}, "booking:write", 201),
    ("PATCH", RESOURCES + "/{res}", {"name": "Renamed"}, "booking:write", 200),
    ("DELETE", RESOURCES + "/{res}", None, "booking:admin", 200),
    ("GET", CUSTOMERS, None, "booking:read", 200),
    ("GET", CUSTOMERS + "/{cus}", None, "booking:read", 200),
    ("POST", CUSTOMERS, {"name": "New"}, "booking:write", 201),
    ("PATCH", CUSTOMERS + "/{cus}", {"name": "Renamed"}, "booking:write", 200),
    ("DELETE", CUSTOMERS + "/{cus}", None, "booking:admin", 200),
]


@pytest.mark.parametrize("held", list(GRANTED))
@pytest.mark.parametrize(
    "method, path, body, needed, success",
    RECORD_ROUTES,
    ids=[f"{method} {path}" for method, path, *_ in RECORD_ROUTES],
)
def test_scope_hierarchy_on_resources_and_customers(
    client, db, make_key, make_resource, make_customer, held, method, path, body, needed, success
):
    url = path.format(res=make_resource()["id"], cus=make_customer()["id"])
    headers = make_key(held)
    if needed in GRANTED[held]:
        response = client.open(url, method=method, json=body, headers=headers)
        assert response.status_code == success, response.json
        return
    with unchanged(db):
        response = client.open(url, method=method, json=body, headers=headers)
    assert needed in assert_error(response, 403, "forbidden")["message"]


BOOKING_ROUTES = [
    ("GET", "/modules/booking/bookings", "booking:read"),
    ("POST", "/modules/booking/bookings", "booking:write"),
    ("GET", "/modules/booking/bookings/bk_x", "booking:read"),
    ("PATCH", "/modules/booking/bookings/bk_x", "booking:write"),
    ("DELETE", "/modules/booking/bookings/bk_x", "booking:admin"),
    ("POST", "/modules/booking/bookings/bk_x/transition", "booking:write"),
    ("GET", "/modules/booking/bookings/bk_x/events", "booking:read"),
    ("GET", "/modules/booking/blockers", "booking:read"),
    ("POST", "/modules/booking/blockers", "booking:write"),
    ("GET", "/modules/booking/blockers/blk_x", "booking:read"),
    ("DELETE", "/modules/booking/blockers/blk_x", "booking:write"),
]


@pytest.mark.parametrize(
    "method, url, needed", BOOKING_ROUTES, ids=[f"{m} {u}" for m, u, _ in BOOKING_ROUTES]
)
def test_scope_rules_on_bookings_and_blockers(client, db, make_key, method, url, needed):
    """DELETE booking needs admin, DELETE blocker only write; a granted key gets past 403."""
    for held, granted in GRANTED.items():
        headers = make_key(held)
        with unchanged(db):
            response = client.open(url, method=method, json={}, headers=headers)
        if needed in granted:
            assert response.status_code not in (401, 403), (held, response.json)
        else:
            assert_error(response, 403, "forbidden")


def test_a_sync_only_key_is_forbidden_on_every_booking_route(app, client, db, make_key):
    headers = make_key("sync")
    checked = 0
    for rule in app.url_map.iter_rules():
        doc = getattr(app.view_functions[rule.endpoint], "api_doc", None)
        if doc is None or not rule.rule.startswith("/modules/booking"):
            continue
        url = re.sub(r"<[^>]+>", "x", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            with unchanged(db):
                response = client.open(url, method=method, json={}, headers=headers)
            assert_error(response, 403, "forbidden")
            checked += 1
    assert checked >= 10


# --- 429: rate limits --------------------------------------------------------------------------


def test_rate_limit_allows_the_limit_then_answers_429_with_retry_after(client, make_key):
    headers = make_key("booking:read", rate_limit="3/minute")
    for remaining in ("2", "1", "0"):
        response = client.get(RESOURCES, headers=headers)
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "3"
        assert response.headers["X-RateLimit-Remaining"] == remaining
    response = client.get(RESOURCES, headers=headers)
    assert_error(response, 429, "rate_limited")
    assert re.fullmatch(r"[1-9]\d*", response.headers["Retry-After"])
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.headers["X-RateLimit-Limit"] == "3"
    assert response.headers["X-RateLimit-Remaining"] == "0"


def test_a_request_over_the_rate_limit_changes_nothing(client, db, make_key):
    headers = make_key("booking:write", rate_limit="1/minute")
    assert client.post(RESOURCES, json={"name": "A"}, headers=headers).status_code == 201
    with unchanged(db):
        response = client.post(RESOURCES, json={"name": "B"}, headers=headers)
    assert_error(response, 429, "rate_limited")


def test_rate_limits_are_per_key(client, make_key):
    busy = make_key("booking:read", rate_limit="1/minute")
    other = make_key("booking:read", rate_limit="1/minute")
    assert client.get(RESOURCES, headers=busy).status_code == 200
    assert_error(client.get(RESOURCES, headers=busy), 429, "rate_limited")
    assert client.get(RESOURCES, headers=other).status_code == 200


def test_every_authorized_response_carries_rate_limit_headers_even_errors(
    client, make_key, make_resource
):
    headers = make_key("booking:write", rate_limit="50/minute")
    resource = make_resource()
    responses = [
        client.get(RESOURCES, headers=headers),
        client.post(RESOURCES, json={"name": "B"}, headers=headers),
        client.patch(f"{RESOURCES}/{resource['id']}", json={"name": "C"}, headers=headers),
        client.get(f"{RESOURCES}/res_nope", headers=headers),
        client.post(RESOURCES, json={"name": ""}, headers=headers),
        _post_raw(client, headers, b"{not json"),
        _post_raw(client, headers, _body_of_size(MIB + 1)),
        client.get(f"{RESOURCES}?limit=0", headers=headers),
    ]
    assert [r.status_code for r in responses] == [200, 201, 200, 404, 422, 400, 413, 422]
    assert {r.headers["X-RateLimit-Limit"] for r in responses} == {"50"}
    remaining = [int(r.headers["X-RateLimit-Remaining"]) for r in responses]
    assert remaining == list(range(49, 49 - len(responses), -1))


# --- 402: tokens -------------------------------------------------------------------------------


def test_tokens_count_down_then_402(client, make_key):
    headers = make_key("booking:read", tokens=2)
    for left in ("1", "0"):
        response = client.get(RESOURCES, headers=headers)
        assert response.status_code == 200 and response.headers["X-Tokens-Remaining"] == left
    response = client.get(RESOURCES, headers=headers)
    assert_error(response, 402, "insufficient_tokens")
    assert response.headers["X-Tokens-Remaining"] == "0"


def test_a_402_post_creates_nothing(client, db, make_key):
    headers = make_key("booking:write", tokens=0)
    with unchanged(db):
        response = client.post(RESOURCES, json={"name": "A"}, headers=headers)
    assert_error(response, 402, "insufficient_tokens")
    assert client.get(RESOURCES, headers=make_key("booking:read")).json["data"] == []


def test_a_request_that_fails_validation_still_costs_a_token(client, make_key):
    headers = make_key("booking:write", tokens=3)
    assert _post_raw(client, headers, b"{not json").headers["X-Tokens-Remaining"] == "2"
    response = client.post(RESOURCES, json={"name": ""}, headers=headers)
    assert response.status_code == 422 and response.headers["X-Tokens-Remaining"] == "1"


def test_403_and_429_cost_no_token(client, make_key):
    headers = make_key("booking:read", rate_limit="1/minute", tokens=5)
    response = client.post(RESOURCES, json={"name": "A"}, headers=headers)
    assert_error(response, 403, "forbidden")
    assert response.headers["X-Tokens-Remaining"] == "5"
    assert client.get(RESOURCES, headers=headers).headers["X-Tokens-Remaining"] == "4"
    response = client.get(RESOURCES, headers=headers)
    assert_error(response, 429, "rate_limited")
    assert response.headers["X-Tokens-Remaining"] == "4"


def test_unlimited_keys_get_no_tokens_header(client, admin_headers):
    responses = [
        client.get(RESOURCES, headers=admin_headers),
        client.post(RESOURCES, json={"name": ""}, headers=admin_headers),
        client.get(f"{RESOURCES}/res_nope", headers=admin_headers),
    ]
    assert all("X-Tokens-Remaining" not in r.headers for r in responses)


# --- check order: 401 → 403 → 429 → 402 → 400/413 → 422 → 404 ---------------------------------


def test_401_comes_before_everything_else(client, db):
    with unchanged(db):
        response = _post_raw(client, {"Authorization": "Bearer sk_x_y"}, b"{not json")
    assert_error(response, 401, "unauthorized")


@pytest.mark.parametrize(
    "data", [b"{not json", _body_of_size(MIB + 1), b'{"name": ""}'], ids=["400", "413", "422"]
)
def test_a_read_key_posting_a_bad_body_gets_403(client, db, read_headers, data):
    with unchanged(db):
        response = _post_raw(client, read_headers, data)
    assert_error(response, 403, "forbidden")


def test_403_comes_before_429(client, make_key):
    headers = make_key("booking:read", rate_limit="1/minute")
    assert client.get(RESOURCES, headers=headers).status_code == 200
    assert_error(_post_raw(client, headers, b"{not json"), 403, "forbidden")


@pytest.mark.parametrize(
    "data", [b"{not json", _body_of_size(MIB + 1), b'{"name": ""}'], ids=["400", "413", "422"]
)
def test_a_key_over_its_rate_limit_sending_a_bad_body_gets_429(client, db, make_key, data):
    headers = make_key("booking:write", rate_limit="1/minute")
    assert client.get(RESOURCES, headers=headers).status_code == 200
    with unchanged(db):
        assert_error(_post_raw(client, headers, data), 429, "rate_limited")


def test_429_comes_before_402(client, make_key):
    headers = make_key("booking:read", rate_limit="1/minute", tokens=0)
    assert_error(client.get(RESOURCES, headers=headers), 402, "insufficient_tokens")
    assert_error(client.get(RESOURCES, headers=headers), 429, "rate_limited")


@pytest.mark.parametrize(
    "data", [b"{not json", _body_of_size(MIB + 1), b'{"name": ""}'], ids=["400", "413", "422"]
)
def test_a_key_at_zero_tokens_sending_a_bad_body_gets_402_and_nothing_changes(
    client, db, make_key, data
):
    headers = make_key("booking:write", tokens=0)
    with unchanged(db):
        assert_error(_post_raw(client, headers, data), 402, "insufficient_tokens")


def test_413_comes_before_422(client, db, admin_headers):
    data = json.dumps({"nmae": "typo", "metadata": {"pad": "x" * MIB}}).encode()
    with unchanged(db):
        assert_error(_post_raw(client, admin_headers, data), 413, "payload_too_large")


def test_400_comes_before_an_invalid_idempotency_key(client, db, admin_headers):
    headers = {**admin_headers, "Idempotency-Key": "k" * 256}
    with unchanged(db):
        assert_error(_post_raw(client, headers, b"{not json"), 400, "bad_request")


def test_invalid_body_on_an_unknown_id_is_422_before_404(client, db, write_headers):
    with unchanged(db):
        response = client.patch(f"{RESOURCES}/res_nope", json={"name": ""}, headers=write_headers)
        assert_error(response, 422, "validation_error")
        response = _post_raw(client, write_headers, b"[]", f"{RESOURCES}/res_nope", "PATCH")
        assert_error(response, 400, "bad_request")
        response = client.patch(f"{RESOURCES}/res_nope", json={"name": "A"}, headers=write_headers)
        assert_error(response, 404, "not_found")


# --- 400 and 413 -------------------------------------------------------------------------------

NOT_OBJECTS = {
    "invalid": b"{not json",
    "trailing-comma": b'{"name": "A",}',
    "array": b"[1]",
    "empty-array": b"[]",
    "string": b'"a string"',
    "null": b"null",
    "number": b"42",
    "true": b"true",
    "empty": b"",
}


@pytest.mark.parametrize("method, url", [("POST", RESOURCES), ("PATCH", RESOURCES + "/{res}")])
@pytest.mark.parametrize("data", NOT_OBJECTS.values(), ids=NOT_OBJECTS.keys())
def test_a_body_that_is_not_a_json_object_is_400_and_changes_nothing(
    client, db, admin_headers, make_resource, method, url, data
):
    url = url.format(res=make_resource()["id"])
    with unchanged(db):
        response = _post_raw(client, admin_headers, data, url, method)
    assert_error(response, 400, "bad_request")


def test_a_body_that_is_not_utf8_is_400(client, db, admin_headers):
    with unchanged(db):
        response = _post_raw(client, admin_headers, b'{"name": "\xff\xfe"}')
    assert_error(response, 400, "bad_request")


def test_a_body_over_1_mib_is_413_and_changes_nothing(client, db, admin_headers):
    with unchanged(db):
        response = _post_raw(client, admin_headers, _body_of_size(MIB + 1))
    assert_error(response, 413, "payload_too_large")


def test_a_body_of_exactly_1_mib_is_read(client, db, admin_headers):
    # read and validated: its 1 MiB metadata is over the 16 KiB bound, so 422, not 413
    with unchanged(db):
        response = _post_raw(client, admin_headers, _body_of_size(MIB))
    assert "metadata" in [
        d["field"] for d in assert_error(response, 422, "validation_error")["details"]
    ]


# --- 404, 405, 500 and the envelope ------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/nope", "/modules/booking/nope", "/modules/booking/resources/a/b", "/modules"]
)
def test_unknown_routes_are_404_in_the_envelope(client, admin_headers, url):
    assert_error(client.get(url, headers=admin_headers), 404, "not_found")
    assert_error(client.get(url), 404, "not_found")


@pytest.mark.parametrize(
    "method, url",
    [
        ("PUT", RESOURCES),
        ("DELETE", RESOURCES),
        ("PUT", CUSTOMERS + "/cus_x"),
        ("POST", "/healthz"),
        ("DELETE", "/openapi.json"),
    ],
)
def test_a_wrong_method_is_405_in_the_envelope_with_allow(client, db, admin_headers, method, url):
    with unchanged(db):
        response = client.open(url, method=method, json={"name": "A"}, headers=admin_headers)
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"] or "POST" in response.headers["Allow"]


def test_an_unexpected_error_is_500_internal_error_without_details(app, client, caplog):
    app.add_url_rule("/boom", "boom", lambda: 1 / 0)
    response = client.get("/boom")
    error = assert_error(response, 500, "internal_error")
    text = response.get_data(as_text=True)
    assert "division" not in text and "ZeroDivisionError" not in text
    assert set(error) == {"code", "message"}
    # logged server-side, with the traceback, where only the operator sees it
    assert any(
        record.exc_info and record.exc_info[0] is ZeroDivisionError for record in caplog.records
    )


def _over_the_rate_limit(client, make_key):
    headers = make_key("booking:read", rate_limit="1/minute")
    client.get(RESOURCES, headers=headers)
    return client.get(RESOURCES, headers=headers)


PROVOKE = {
    "401": lambda client, make_key: client.get(RESOURCES),
    "403": lambda client, make_key: client.delete(
        f"{RESOURCES}/res_x", headers=make_key("booking:read")
    ),
    "429": _over_the_rate_limit,
    "402": lambda client, make_key: client.get(
        RESOURCES, headers=make_key("booking:read", tokens=0)
    ),
    "400": lambda client, make_key: _post_raw(client, make_key("booking:write"), b"{x"),
    "413": lambda client, make_key: _post_raw(
        client, make_key("booking:write"), _body_of_size(MIB + 1)
    ),
    "422": lambda client, make_key: client.post(
        RESOURCES, json={"name": "", "x": 1}, headers=make_key("booking:write")
    ),
    "422-cursor": lambda client, make_key: client.get(
        f"{RESOURCES}?cursor=forged", headers=make_key("booking:read")
    ),
    "404": lambda client, make_key: client.get(
        f"{RESOURCES}/res_x", headers=make_key("booking:read")
    ),
    "404-route": lambda client, make_key: client.get("/nope"),
    "405": lambda client, make_key: client.put(RESOURCES),
    "500": lambda client, make_key: client.get("/boom"),
}


@pytest.mark.parametrize("case", list(PROVOKE))
def test_every_error_has_exactly_the_envelope_and_leaks_nothing(app, client, make_key, case):
    app.add_url_rule("/boom", "boom", lambda: 1 / 0)
    response = PROVOKE[case](client, make_key)
    assert response.status_code == int(case[:3])
    assert response.mimetype == "application/json"
    body = response.json
    assert set(body) == {"status", "error"} and body["status"] == "error"
    error = body["error"]
    assert {"code", "message"} <= set(error) <= {"code", "message", "details"}
    assert re.fullmatch(r"[a-z]+(_[a-z]+)*", error["code"])
    assert isinstance(error["message"], str) and error["message"].strip()
    for detail in error.get("details", []):
        assert set(detail) == {"field", "message"}
    text = response.get_data(as_text=True)
    assert not [leak for leak in LEAKS if leak.lower() in text.lower()]


# --- public routes -----------------------------------------------------------------------------


def test_healthz_needs_no_key(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json
    assert body == {
        "status": "ok",
        "data": {"version": body["data"]["version"], "node_id": store.node_id(db), "db": "ok"},
    }
    assert isinstance(body["data"]["version"], str) and body["data"]["version"]
    assert "X-RateLimit-Limit" not in response.headers


def _documented_routes(app, prefix=""):
    """(OpenAPI path, method, EndpointDoc) for each route of the app that declares api_doc."""
    routes = []
    for rule in app.url_map.iter_rules():
        doc = getattr(app.view_functions[rule.endpoint], "api_doc", None)
        if doc is None or not rule.rule.startswith(prefix):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        routes += [(path, m.lower(), doc) for m in rule.methods - {"HEAD", "OPTIONS"}]
    return routes


def test_openapi_is_public_and_version_3_1(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.json["openapi"].startswith("3.1")
    assert response.json["info"]["title"] and response.json["info"]["version"]


def test_openapi_lists_every_booking_route_with_its_scope(app, client):
    document = client.get("/openapi.json").json
    routes = _documented_routes(app, "/modules/booking")
    assert len(routes) >= 10
    for path, method, doc in routes:
        operation = document["paths"][path][method]
        assert doc.scope is not None, (path, method)
        assert operation["security"] == [{"bearer": [doc.scope]}], (path, method)
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_openapi_public_routes_have_no_security(app, client):
    document = client.get("/openapi.json").json
    assert "security" not in document["paths"]["/healthz"]["get"]


def test_openapi_request_bodies_forbid_unknown_fields(app, client):
    document = client.get("/openapi.json").json
    schemas = document["components"]["schemas"]
    with_body = [(p, m, d) for p, m, d in _documented_routes(app) if d.body is not None]
    assert len(with_body) >= 4
    for path, method, _doc in with_body:
        ref = document["paths"][path][method]["requestBody"]["content"]["application/json"][
            "schema"
        ]["$ref"]
        schema = schemas[ref.removeprefix("#/components/schemas/")]
        assert schema["additionalProperties"] is False, (path, method)


def test_openapi_resource_create_schema_lists_the_contract_fields(client):
    schemas = client.get("/openapi.json").json["components"]["schemas"]
    create = schemas["ResourceCreate"]
    assert set(create["properties"]) == {
        "name",
        "timezone",
        "default_duration_minutes",
        "buffer_minutes",
        "business_hours",
        "metadata",
    }
    assert create["required"] == ["name"]
