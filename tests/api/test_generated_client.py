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
