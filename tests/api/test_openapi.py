"""/openapi.json is a valid, complete OpenAPI 3.1 document (issue 15 §1), checked with a
validator nobody here wrote, and by walking what it says against what the app does."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from app.web.models.blockers import BlockerCreate
from app.web.models.bookings import BookingCreate, BookingTransition
from app.web.models.customers import CustomerCreate
from app.web.models.parsing import validate
from app.web.models.resources import ResourceCreate
from app.web.models.shingleai import ShingleCustomerCreate

OPERATION_IDS = {
    "get_health", "create_customer", "list_customers", "get_customer", "update_customer",
    "delete_customer", "create_resource", "list_resources", "get_resource", "update_resource",
    "delete_resource", "get_resource_availability", "create_booking", "list_bookings",
    "get_booking", "update_booking", "delete_booking", "transition_booking",
    "list_booking_events", "create_blocker", "list_blockers", "get_blocker", "delete_blocker",
    "create_v1_customer", "list_v1_customers", "get_v1_customer", "update_v1_customer",
    "delete_v1_customer", "push_changes", "pull_changes", "list_sync_anomalies",
    "get_sync_status", "run_sync",
    "move_booking", "undo_booking_status", "create_service", "list_services", "get_service",
    "update_service", "delete_service", "get_day_summary", "create_closure",
    "search_customers", "list_messages", "get_message", "get_messaging_settings",
    "update_messaging_settings", "list_message_templates", "put_message_template",
    "reset_message_template", "get_customer_messaging", "update_customer_messaging",
    "create_webhook", "list_webhooks", "get_webhook", "update_webhook", "delete_webhook",
    "create_calendar_feed", "list_calendar_feeds", "revoke_calendar_feed", "get_calendar_feed",
}  # fmt: skip
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def document(client):
    return client.get("/openapi.json").json


def _operations(document):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _walk(node, where=""):
    """Every (JSON pointer, schema object) in `node`."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{where}/{index}")


def test_openapi_spec_validator_finds_nothing_wrong(document):
    errors = [error.message for error in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []


def test_no_default_is_a_value_its_own_schema_refuses(document):
    for where, node in _walk(document["components"]["schemas"]):
        if node.get("default", ...) is None:
            kinds = [node.get("type")] + [part.get("type") for part in node.get("anyOf", [])]
            assert "null" in kinds, f"{where} defaults to null but is not nullable"


def test_every_instant_is_a_date_time_with_the_accepted_pattern(document):
    instants = [
        (where, node)
        for where, node in _walk(document)
        if isinstance(node.get("pattern"), str) and "-02-29" in node["pattern"]
    ]
    assert len(instants) > 10
    for where, node in instants:
        assert node.get("format") == "date-time", where
        assert node["pattern"].startswith("^(?=(?:19|[2-8][0-9])"), where
    outputs = document["components"]["schemas"]["Booking"]["properties"]
    for name in ("start_time", "end_time", "created_at", "updated_at"):
        assert outputs[name]["format"] == "date-time", name


def test_operations_have_stable_readable_ids_tags_and_summaries(document):
    found = [operation["operationId"] for _, _, operation in _operations(document)]
    assert len(found) == len(set(found))
    assert OPERATION_IDS <= set(found)  # an id, once published, stays
    names = {tag["name"] for tag in document["tags"]}
    for path, method, operation in _operations(document):
        assert operation["tags"] and set(operation["tags"]) <= names, (path, method)
        assert operation["summary"], (path, method)


def test_operations_sit_with_their_resource_whatever_blueprint_serves_them(document):
    """shop_services, counter and outbound serve routes of several resources: a generated
    client groups operations by tag, so a move is a Bookings call and a closure a Blockers one."""
    tags = {
        operation["operationId"]: operation["tags"] for _, _, operation in _operations(document)
    }
    expected = {
        "move_booking": "Bookings", "undo_booking_status": "Bookings",
        "create_closure": "Blockers", "search_customers": "Customers",
        "create_service": "Services", "get_day_summary": "Day summary",
        "list_messages": "Messaging", "put_message_template": "Messaging",
        "create_webhook": "Webhooks", "create_calendar_feed": "Calendar feeds",
        "get_calendar_feed": "Calendar feeds",
    }  # fmt: skip
    assert {name: tags[name] for name in expected} == {
        name: [tag] for name, tag in expected.items()
    }


def test_the_calendar_feed_is_documented_as_a_keyless_text_calendar(document):
    operation = document["paths"]["/calendar/{token}.ics"]["get"]
    assert "security" not in operation
    assert operation["responses"]["200"]["content"] == {
        "text/calendar": {"schema": {"type": "string"}}
    }
    assert operation["responses"]["404"]["content"]["application/json"]


def test_every_instant_a_new_area_returns_is_a_date_time(document):
    schemas = document["components"]["schemas"]
    instants = {
        "Service": ("created_at", "updated_at"),
        "Message": ("due_at", "created_at"),
        "Webhook": ("created_at", "updated_at"),
        "Feed": ("created_at",),
        "ResourceDay": ("from", "to"),
    }
    for model, names in instants.items():
        for name in names:
            assert schemas[model]["properties"][name]["format"] == "date-time", (model, name)
    assert schemas["DaySummary"]["properties"]["date"]["format"] == "date"


def test_request_and_response_headers_are_declared(document):
    for path, method, operation in _operations(document):
        parameters = {
            p.get("name") or p["$ref"].rsplit("/", 1)[-1] for p in operation["parameters"]
        }
        keyed = bool(operation.get("security"))
        if method == "post" and keyed:
            assert "IdempotencyKey" in parameters, path
        responses = operation["responses"]
        if "201" in responses and path != "/modules/booking/closures":
            assert responses["201"]["headers"]["Location"]["required"] is True, path
        if keyed:
            success = next(v for k, v in responses.items() if k.startswith("2"))
            assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-Tokens-Remaining"} <= set(
                success["headers"]
            ), path
            assert responses["429"] == {"$ref": "#/components/responses/429"}, path
    shared = document["components"]["responses"]
    assert shared["429"]["headers"]["Retry-After"]["required"] is True
    assert shared["503"]["headers"]["Retry-After"]["required"] is True


def test_records_declare_etag_if_none_match_and_if_match(document):
    record = document["paths"]["/modules/booking/bookings/{booking_id}"]
    get_parameters = [p.get("$ref") for p in record["get"]["parameters"]]
    assert "#/components/parameters/IfNoneMatch" in get_parameters
    assert record["get"]["responses"]["200"]["headers"]["ETag"]["required"] is True
    assert record["get"]["responses"]["304"] == {"$ref": "#/components/responses/304"}
    for method in ("patch", "delete"):
        assert "#/components/parameters/IfMatch" in [
            p.get("$ref") for p in record[method]["parameters"]
        ]
        assert "412" in record[method]["responses"]
    transition = document["paths"]["/modules/booking/bookings/{booking_id}/transition"]["post"]
    assert "412" in transition["responses"]
    assert transition["responses"]["200"]["headers"]["ETag"]["required"] is True


def test_the_sync_routes_declare_their_409s(document):
    push = document["paths"]["/sync/push"]["post"]["responses"]
    for code in ("sequence_gap", "protocol_mismatch", "change_id_reused", "sync_key_in_use"):
        assert code in push["409"]["description"]
    assert push["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_business_codes_are_listed_on_the_422(document):
    create = document["paths"]["/modules/booking/bookings"]["post"]["responses"]["422"]
    for code in ("validation_error", "idempotency_mismatch", "slot_conflict", "unknown_customer"):
        assert code in create["description"]


def test_rules_json_schema_can_say_are_in_the_schema(document):
    schemas = document["components"]["schemas"]
    hours = schemas["ResourceCreate"]["properties"]["business_hours"]["anyOf"][0]
    assert hours["propertyNames"] == {"enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}
    forms = schemas["Recurrence"]["oneOf"]
    assert [form["title"] for form in forms] == ["RecurrenceFields", "RecurrenceRule"]
    assert forms[0]["required"] == ["freq"] and forms[0]["not"]["required"] == ["count", "until"]
    transition = schemas["BookingTransition"]
    assert transition["then"]["properties"]["cancel_reason"] == {"type": "null"}
    status = next(
        p for p in document["paths"]["/modules/booking/bookings"]["get"]["parameters"]
        if p.get("name") == "status"
    )  # fmt: skip
    assert re.fullmatch(status["schema"]["pattern"], "pending, confirmed")
    assert not re.fullmatch(status["schema"]["pattern"], "pending,nope")
    assert "31 days" in str(
        document["paths"]["/modules/booking/resources/{resource_id}/availability"]
    )


@pytest.mark.parametrize(
    "model",
    [BookingCreate, BookingTransition, CustomerCreate, ResourceCreate, BlockerCreate,
     ShingleCustomerCreate],
)  # fmt: skip
def test_every_documented_example_is_a_valid_request(document, model):
    examples = document["components"]["schemas"][model.__name__]["examples"]
    assert examples
    for example in examples:
        validate(model, example)  # raises 422 on a single bad field


def test_field_examples_of_an_interval_are_in_order(document):
    booking = document["components"]["schemas"]["BookingCreate"]["properties"]
    start = booking["start_time"]["examples"][0]
    end = booking["end_time"]["anyOf"][0]["examples"][0]
    assert start < end
