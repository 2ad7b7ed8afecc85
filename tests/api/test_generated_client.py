"""A client generated from /openapi.json by a generator nobody here wrote (openapi-python-client)
drives every operation, typed, and gets errors back parsed into the error model (issue 15 §2).

The client is generated into a temporary folder by this test run, so a change to the document
that breaks generated SDKs fails here. It talks to the app through httpx's WSGI transport, and
raises on any status the document does not declare.
"""

from __future__ import annotations

import datetime
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

PACKAGE = "booking_api_client"


class Instant(datetime.datetime):
    """An aware UTC datetime that writes itself with `Z`, as the API's inputs must be (the
    seeds' pattern): Python's own isoformat() writes `+00:00`, which the API refuses."""

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        return super().isoformat(sep, timespec).replace("+00:00", "Z")


def at(text: str) -> Instant:
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return Instant(*moment.timetuple()[:6], tzinfo=datetime.UTC)


@pytest.fixture(scope="module")
def sdk(tmp_path_factory):
    """The package openapi-python-client generates from this app's /openapi.json."""
    from app import create_app

    folder = tmp_path_factory.mktemp("sdk")
    app = create_app({"TESTING": True, "DB": str(folder / "schema.db")})
    (folder / "openapi.json").write_text(json.dumps(app.test_client().get("/openapi.json").json))
    bin_dir = str(Path(sys.executable).parent)  # the generator runs ruff from PATH
    subprocess.run(
        [
            f"{bin_dir}/openapi-python-client", "generate", "--path", "openapi.json",
            "--output-path", PACKAGE, "--meta", "none",
        ],
        cwd=folder, check=True, capture_output=True, timeout=300,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
    )  # fmt: skip
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))


class Driver:
    """Calls operations by operationId and remembers which were called."""

    def __init__(self, sdk, app, keys: dict[str, str]) -> None:
        self.sdk, self.called = sdk, set()
        self.models = importlib.import_module(f"{PACKAGE}.models")
        self.clients = {
            name: sdk.AuthenticatedClient(
                base_url="http://testserver",
                token=key,
                raise_on_unexpected_status=True,
                httpx_args={"transport": httpx.WSGITransport(app=app)},
            )
            for name, key in keys.items()
        }

    def __call__(self, tag: str, operation: str, *, key: str = "admin", **kwargs: Any):
        module = importlib.import_module(f"{PACKAGE}.api.{tag}.{operation}")
        self.called.add(operation)
        return module.sync_detailed(client=self.clients[key], **kwargs)

    def error(self, response, status: int, code: str):
        assert response.status_code == status, response.content
        assert isinstance(response.parsed, self.models.Error), response.parsed
        assert response.parsed.error.code == code
        assert response.parsed.error.message
        return response.parsed.error


@pytest.fixture
def drive(sdk, app, make_key):
    keys = {
        name: make_key(scope)["Authorization"].removeprefix("Bearer ")
        for name, scope in (("admin", "booking:admin"), ("sync", "sync"))
    }
    return Driver(sdk, app, keys)


def test_every_operation_runs_through_the_generated_client(sdk, client, drive):
    m = drive.models
    health = drive("health", "get_health")
    assert isinstance(health.parsed.data, m.Health) and health.parsed.data.db == "ok"

    # Resources: create, list, read, conditional write, availability.
    hours = m.ResourceCreateBusinessHoursType0.from_dict({"mon": [["09:00", "17:00"]]})
    made = drive(
        "resources", "create_resource",
        body=m.ResourceCreate(name="Chair", timezone="Europe/Berlin", business_hours=hours),
    )  # fmt: skip
    assert made.status_code == 201 and isinstance(made.parsed.data, m.Resource)
    resource = made.parsed.data
    assert made.headers["Location"].endswith(resource.id)
    assert [r.id for r in drive("resources", "list_resources").parsed.data] == [resource.id]
    read = drive("resources", "get_resource", resource_id=resource.id)
    assert read.parsed.data.business_hours.to_dict() == {"mon": [["09:00", "17:00"]]}
    same = drive(
        "resources", "get_resource", resource_id=resource.id, if_none_match=read.headers["ETag"]
    )
    assert same.status_code == 304 and same.parsed is None
    drive(
        "resources", "update_resource", resource_id=resource.id,
        body=m.ResourcePatch(buffer_minutes=5), if_match=read.headers["ETag"],
    )  # fmt: skip
    slots = drive(
        "resources", "get_resource_availability", resource_id=resource.id,
        from_=at("2030-01-07T08:00:00Z"), to=at("2030-01-07T10:00:00Z"),
    )  # fmt: skip
    assert slots.parsed.data[0].start_time == datetime.datetime(
        2030, 1, 7, 8, 0, tzinfo=datetime.UTC
    )

    # Customers on both APIs: one customer, one id.
    v1 = drive(
        "shingle_ai_customers", "create_v1_customer", body=m.ShingleCustomerCreate(name="Ada")
    )
    assert v1.status_code == 201 and isinstance(v1.parsed.data, m.ShingleCustomer)
    v1_id = str(v1.parsed.data.id)  # a uuid.UUID: the document says format uuid
    assert [str(c.id) for c in drive("shingle_ai_customers", "list_v1_customers").parsed.data] == [
        v1_id
    ]
    drive("shingle_ai_customers", "get_v1_customer", customer_id=v1_id)
    drive(
        "shingle_ai_customers", "update_v1_customer", customer_id=v1_id,
        body=m.ShingleCustomerPatch(status="active"),
    )  # fmt: skip
    native = drive("customers", "get_customer", customer_id=v1_id).parsed.data
    assert isinstance(native, m.Customer) and native.id.startswith("cus_")
    other = drive("customers", "create_customer", body=m.CustomerCreate(name="Grace", tags=["vip"]))
    assert other.status_code == 201
    listed = drive("customers", "list_customers", tags="vip").parsed.data
    assert [c.id for c in listed] == [other.parsed.data.id]
    drive("customers", "update_customer", customer_id=v1_id, body=m.CustomerPatch(phone="12"))

    # Bookings: an idempotent create named by the /v1 id, its statuses, its history.
    body = m.BookingCreate(
        resource_id=resource.id, customer_id=v1_id, start_time=at("2030-01-07T10:00:00Z"),
        end_time=at("2030-01-07T11:00:00Z"), title="Cut",
    )  # fmt: skip
    first = drive("bookings", "create_booking", body=body, idempotency_key="desk-1-0001")
    again = drive("bookings", "create_booking", body=body, idempotency_key="desk-1-0001")
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    booking = first.parsed.data
    assert booking.id == again.parsed.data.id and booking.customer_id == native.id
    assert booking.status == m.BookingStatus.PENDING
    clash = drive("bookings", "create_booking", body=body)
    assert booking.id in drive.error(clash, 422, "slot_conflict").details[0].message
    tag = drive("bookings", "get_booking", booking_id=booking.id).headers["ETag"]
    patched = drive(
        "bookings", "update_booking", booking_id=booking.id,
        body=m.BookingPatch(notes="Short"), if_match=tag,
    )  # fmt: skip
    stale = drive(
        "bookings", "transition_booking", booking_id=booking.id,
        body=m.BookingTransition(status=m.BookingTransitionStatus.CONFIRMED), if_match=tag,
    )  # fmt: skip
    drive.error(stale, 412, "precondition_failed")
    for status in ("CONFIRMED", "CHECKED_IN", "COMPLETED"):
        moved = drive(
            "bookings", "transition_booking", booking_id=booking.id,
            body=m.BookingTransition(status=getattr(m.BookingTransitionStatus, status)),
            if_match=patched.headers["ETag"] if status == "CONFIRMED" else "*",
        )  # fmt: skip
        assert moved.parsed.data.status.value == status.lower()
    refused = drive(
        "bookings", "transition_booking", booking_id=booking.id,
        body=m.BookingTransition(status=m.BookingTransitionStatus.CANCELLED),
    )  # fmt: skip
    drive.error(refused, 422, "invalid_transition")
    events = drive("bookings", "list_booking_events", booking_id=booking.id).parsed.data
    assert [e.type_.value for e in events][:2] == ["created", "updated"]
    by_customer = drive("bookings", "list_bookings", customer_id=v1_id).parsed.data
    assert [b.id for b in by_customer] == [booking.id]
    later = drive(
        "bookings", "create_booking",
        body=m.BookingCreate(resource_id=resource.id, start_time=at("2030-01-14T10:00:00Z")),
    ).parsed.data  # fmt: skip
    assert drive("bookings", "delete_booking", booking_id=later.id).status_code == 200
    drive.error(drive("bookings", "get_booking", booking_id=later.id), 404, "not_found")

    # Blockers: a repeating one in the structured form.
    weekly = m.RecurrenceFields(
        freq=m.RecurrenceFieldsFreq.WEEKLY, count=3,
        by_weekday=[m.RecurrenceFieldsByWeekdayType0Item.MO],
    )  # fmt: skip
    blocker = drive(
        "blockers", "create_blocker",
        body=m.BlockerCreate(
            resource_id=resource.id, start_time=at("2030-02-04T12:00:00Z"),
            end_time=at("2030-02-04T13:00:00Z"), recurrence=weekly,
        ),
    )  # fmt: skip
    assert blocker.status_code == 201 and blocker.parsed.meta.conflicting_booking_ids == []
    window = drive(
        "blockers", "list_blockers", from_=at("2030-02-01T00:00:00Z"), to=at("2030-03-01T00:00:00Z")
    ).parsed.data
    assert len(window[0].occurrences) == 3
    drive("blockers", "get_blocker", blocker_id=blocker.parsed.data.id)
    drive("blockers", "delete_blocker", blocker_id=blocker.parsed.data.id)

    _drive_the_counters_and_the_outbox(drive, m)

    # Deletes, and the refusals they can meet.
    drive("customers", "delete_customer", customer_id=other.parsed.data.id)
    drive("shingle_ai_customers", "delete_v1_customer", customer_id=v1_id)
    busy = drive(
        "bookings", "create_booking",
        body=m.BookingCreate(resource_id=resource.id, start_time=at("2099-01-05T10:00:00Z")),
    ).parsed.data  # fmt: skip
    drive.error(
        drive("resources", "delete_resource", resource_id=resource.id), 422, "invalid_state"
    )
    drive("bookings", "delete_booking", booking_id=busy.id)
    assert drive("resources", "delete_resource", resource_id=resource.id).status_code == 200

    # The hub's protocol, with a sync key, and a node's sync views.
    push = drive(
        "sync", "push_changes", key="sync",
        body=m.SyncPush(protocol=1, node_id="node-a", changes=[]),
    )  # fmt: skip
    assert isinstance(push.parsed.data, m.SyncPushResult) and push.parsed.data.acked_through == 0
    newer = drive(
        "sync",
        "push_changes",
        key="sync",
        body=m.SyncPush(protocol=2, node_id="node-a", changes=[]),
    )
    drive.error(newer, 409, "protocol_mismatch")
    page = drive("sync", "pull_changes", key="sync", node_id="node-a")
    assert isinstance(page.parsed.data, m.SyncPage) and page.parsed.data.has_more is False
    assert drive("sync", "get_sync_status").parsed.data.hub_url is None
    assert drive("sync", "list_sync_anomalies").parsed.data == []
    drive.error(drive("sync", "run_sync"), 422, "invalid_state")

    operations = {
        operation["operationId"]
        for item in client.get("/openapi.json").json["paths"].values()
        for operation in item.values()
    }
    assert drive.called == operations


def _drive_the_counters_and_the_outbox(drive, m) -> None:
    """What came after the seeds: services and a booking of one, a move and its undo, the
    day's figures, a closure, the type-ahead, messaging, webhooks and calendar feeds."""
    chair = drive("resources", "create_resource", body=m.ResourceCreate(name="Chair 2")).parsed
    chair_id = chair.data.id
    service = drive(
        "services", "create_service",
        body=m.ServiceCreate(
            name="Colour", duration_minutes=90, price_minor=6000, currency="EUR",
            resource_ids=[chair_id],
        ),
    )  # fmt: skip
    assert service.status_code == 201 and isinstance(service.parsed.data, m.Service)
    service_id = service.parsed.data.id
    assert service.headers["Location"].endswith(service_id)
    assert [s.id for s in drive("services", "list_services", q="col").parsed.data] == [service_id]
    read = drive("services", "get_service", service_id=service_id)
    raised = drive(
        "services", "update_service", service_id=service_id,
        body=m.ServicePatch(price_minor=6500), if_match=read.headers["ETag"],
    )  # fmt: skip
    assert raised.parsed.data.price_minor == 6500
    stale = drive(
        "services", "update_service", service_id=service_id,
        body=m.ServicePatch(price_minor=7000), if_match=read.headers["ETag"],
    )  # fmt: skip
    drive.error(stale, 412, "precondition_failed")

    # A booking of the service takes its length, then moves, is completed, and the completion
    # is undone; the day's figures count it.
    made = drive(
        "bookings", "create_booking",
        body=m.BookingCreate(
            resource_id=chair_id, service_id=service_id, start_time=at("2030-03-04T09:00:00Z")
        ),
    ).parsed.data  # fmt: skip
    assert made.end_time == datetime.datetime(2030, 3, 4, 10, 30, tzinfo=datetime.UTC)
    moved = drive(
        "bookings", "move_booking", booking_id=made.id,
        body=m.BookingMove(start_time=at("2030-03-04T11:00:00Z")),
    )  # fmt: skip
    assert moved.parsed.data.start_time == datetime.datetime(2030, 3, 4, 11, tzinfo=datetime.UTC)
    assert moved.parsed.meta.outside_business_hours is False
    for status in ("CONFIRMED", "CHECKED_IN", "COMPLETED"):
        drive(
            "bookings", "transition_booking", booking_id=made.id,
            body=m.BookingTransition(status=getattr(m.BookingTransitionStatus, status)),
        )  # fmt: skip
    summary = drive("day_summary", "get_day_summary", date="2030-03-04").parsed.data
    assert summary.shop.counts["completed"] == 1
    assert [t.amount_minor for t in summary.shop.completed_totals] == [6500]
    completion = drive("bookings", "list_booking_events", booking_id=made.id).parsed.data[-1]
    undone = drive(
        "bookings", "undo_booking_status", booking_id=made.id,
        body=m.BookingUndo(event_id=completion.id, reason="Pressed by mistake"),
    )  # fmt: skip
    assert undone.parsed.data.status == m.BookingStatus.CHECKED_IN
    again = drive(
        "bookings", "undo_booking_status", booking_id=made.id,
        body=m.BookingUndo(event_id=completion.id),
    )  # fmt: skip
    drive.error(again, 422, "invalid_correction")

    # A closure blocks every resource at once; the type-ahead finds a customer by a few letters.
    closure = drive(
        "blockers", "create_closure",
        body=m.ClosureCreate(
            title="Holiday", start_time=at("2030-05-01T00:00:00Z"),
            end_time=at("2030-05-02T00:00:00Z"),
        ),
    )  # fmt: skip
    assert closure.status_code == 201 and "Location" not in closure.headers
    assert chair_id in {b.resource_id for b in closure.parsed.data.blockers}
    drive("customers", "create_customer", body=m.CustomerCreate(name="Katherine Johnson"))
    found = drive("customers", "search_customers", q="kath").parsed.data
    assert [c.name for c in found] == ["Katherine Johnson"]
    customer_id = found[0].id

    # Messaging: settings, a template, a customer's opt-out, and the outbox it fills.
    drive(
        "messaging", "update_messaging_settings",
        body=m.MessagingSettingsPatch(shop_name="Salon Ada"),
    )  # fmt: skip
    assert drive("messaging", "get_messaging_settings").parsed.data.shop_name == "Salon Ada"
    drive(
        "messaging", "put_message_template", kind="confirmation", channel="sms",
        body=m.TemplatePut(body="See you soon."),
    )  # fmt: skip
    templates = drive("messaging", "list_message_templates").parsed.data.templates
    assert any(t.custom and t.body == "See you soon." for t in templates)
    drive("messaging", "reset_message_template", kind="confirmation", channel="sms")
    unknown = drive("messaging", "reset_message_template", kind="postcard", channel="sms")
    drive.error(unknown, 404, "not_found")
    drive(
        "customers", "update_customer", customer_id=customer_id,
        body=m.CustomerPatch(email="katherine@example.com"),
    )  # fmt: skip
    drive(
        "customers", "update_customer_messaging", customer_id=customer_id,
        body=m.CustomerMessagingPatch(sms_opt_out=True),
    )  # fmt: skip
    assert drive(
        "customers", "get_customer_messaging", customer_id=customer_id
    ).parsed.data.sms_opt_out
    drive(
        "bookings", "create_booking",
        body=m.BookingCreate(
            resource_id=chair_id, customer_id=customer_id, start_time=at("2030-03-05T09:00:00Z")
        ),
    )  # fmt: skip
    outbox = drive("messaging", "list_messages", channel=m.ListMessagesChannel.EMAIL).parsed.data
    assert [(x.kind, x.customer_id, x.state.value) for x in outbox] == [
        ("confirmation", customer_id, "pending")
    ]
    assert drive("messaging", "get_message", message_id=outbox[0].id).parsed.data.id == outbox[0].id

    # Webhooks and calendar feeds; the feed's secret address answers iCalendar with no key.
    hook = drive(
        "webhooks", "create_webhook",
        body=m.WebhookCreate(
            url="https://example.com/hook", events=[m.WebhookCreateEventsItem.BOOKING_MOVED]
        ),
    ).parsed.data  # fmt: skip
    assert hook.secret and drive("webhooks", "list_webhooks").parsed.data[0].secret is None
    tag = drive("webhooks", "get_webhook", subscription_id=hook.id).headers["ETag"]
    paused = drive(
        "webhooks", "update_webhook", subscription_id=hook.id,
        body=m.WebhookPatch(enabled=False), if_match=tag,
    )  # fmt: skip
    assert paused.parsed.data.disabled_reason
    drive("webhooks", "delete_webhook", subscription_id=hook.id)
    feed = drive(
        "calendar_feeds", "create_calendar_feed",
        body=m.FeedCreate(resource_id=chair_id, name="Chair 2"),
    ).parsed.data  # fmt: skip
    soon = datetime.datetime.now(datetime.UTC).replace(second=0, microsecond=0)
    soon += datetime.timedelta(days=2)  # a feed shows 30 days back to a year ahead
    drive(
        "bookings", "create_booking",
        body=m.BookingCreate(resource_id=chair_id, start_time=at(soon.isoformat()), title="Trim"),
    )  # fmt: skip
    token = feed.url.rsplit("/", 1)[-1].removesuffix(".ics")
    calendar = drive("calendar_feeds", "get_calendar_feed", token=token).parsed
    assert calendar.startswith("BEGIN:VCALENDAR") and "SUMMARY:Trim" in calendar
    assert [f.id for f in drive("calendar_feeds", "list_calendar_feeds").parsed.data] == [feed.id]
    drive("calendar_feeds", "revoke_calendar_feed", feed_id=feed.id)
    gone = drive("calendar_feeds", "get_calendar_feed", token=token)
    drive.error(gone, 404, "not_found")
    drive("services", "delete_service", service_id=service_id)


def test_refusals_before_the_route_are_parsed_into_the_error_model(drive, sdk):
    m = drive.models
    anonymous = sdk.Client(
        base_url="http://testserver",
        raise_on_unexpected_status=True,
        httpx_args={"transport": drive.clients["admin"]._httpx_args["transport"]},
    )
    module = importlib.import_module(f"{PACKAGE}.api.customers.list_customers")
    drive.error(module.sync_detailed(client=anonymous), 401, "unauthorized")
    forbidden = drive("customers", "list_customers", key="sync")
    drive.error(forbidden, 403, "forbidden")
    bad = drive("customers", "create_customer", body=m.CustomerCreate(name="   "))
    error = drive.error(bad, 422, "validation_error")
    assert [detail.field for detail in error.details] == ["name"]
