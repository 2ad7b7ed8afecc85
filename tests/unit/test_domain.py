"""The domain called with plain data, no app and no request: rows in ms, refusals without status."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app import store
from app.core.times import parse_instant
from app.domain import blockers, bookings, customers, resources, shingleai
from app.domain.errors import (
    DomainError,
    InvalidInput,
    InvalidState,
    InvalidTransition,
    NotFound,
    SlotConflict,
    UnknownCustomer,
    UnknownResource,
)
from sync import identity

TEN = parse_instant("2030-01-07T10:00:00Z")
HOUR = 3_600_000


@pytest.fixture
def db(tmp_path):
    path = str(tmp_path / "domain.db")
    identity.init_database(path)  # what `booking init` does; no Flask app is built
    database = store.open_db(path)
    yield database
    database.close()


@pytest.fixture
def chair(db) -> dict:
    fields = {
        "name": "Chair 1",
        "timezone": "UTC",
        "default_duration_minutes": 60,
        "buffer_minutes": 0,
        "business_hours": None,
        "metadata": {},
    }
    return resources.create(db, fields)


def test_importing_the_domain_imports_no_web_framework():
    code = (
        "import sys, app.domain.bookings, app.domain.blockers, app.domain.customers, "
        "app.domain.resources, app.domain.shingleai, sync.merge, sync.client; "
        "print([m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug')])"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


def test_domain_errors_carry_a_code_and_no_http_status():
    error = SlotConflict("Busy.", details=[{"field": "start_time", "message": "Overlaps x."}])
    assert isinstance(error, DomainError) and error.code == "slot_conflict"
    assert not hasattr(error, "status")


def test_a_booking_is_made_from_plain_data_and_returned_as_a_row(db, chair):
    booking = bookings.create(db, bookings.NewBooking(chair["id"], start=TEN), actor="desk")
    assert booking["status"] == "pending"
    assert (booking["start_time"], booking["end_time"]) == (TEN, TEN + HOUR)  # the default length
    assert bookings.get(db, booking["id"]) == booking
    assert bookings.conflicts(db, booking) == []


def test_an_overlapping_booking_is_a_slot_conflict_naming_the_first(db, chair):
    first = bookings.create(db, bookings.NewBooking(chair["id"], start=TEN), actor=None)
    with pytest.raises(SlotConflict) as refused:
        bookings.create(db, bookings.NewBooking(chair["id"], start=TEN + HOUR // 2), actor=None)
    assert first["id"] in refused.value.details[0]["message"]


def test_unknown_resource_and_customer_are_refused_by_name(db, chair):
    with pytest.raises(UnknownResource):
        bookings.create(db, bookings.NewBooking("res_missing", start=TEN), actor=None)
    with pytest.raises(UnknownCustomer):
        new = bookings.NewBooking(chair["id"], start=TEN, customer_id="cus_missing")
        bookings.create(db, new, actor=None)


def test_transitions_follow_the_status_machine(db, chair):
    booking = bookings.create(db, bookings.NewBooking(chair["id"], start=TEN), actor=None)
    with pytest.raises(InvalidTransition) as refused:
        bookings.transition(db, booking["id"], "completed", actor=None)
    assert refused.value.message == "A pending booking can only move to confirmed, cancelled."
    cancelled = bookings.transition(db, booking["id"], "cancelled", cancel_reason="ill", actor="x")
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "ill")
    with pytest.raises(InvalidState):
        bookings.update(db, booking["id"], {"title": "Late"}, actor=None)
    assert bookings.delete(db, booking["id"])["id"] == booking["id"]
    with pytest.raises(store.RowMissing):
        bookings.get(db, booking["id"])


def test_lists_take_an_after_key_and_a_limit_not_a_cursor(db, chair):
    made = [
        bookings.create(db, bookings.NewBooking(chair["id"], start=TEN + i * HOUR), actor=None)
        for i in range(3)
    ]
    first = bookings.find(db, after=None, limit=2)
    assert [b["id"] for b in first] == [b["id"] for b in made[:2]]
    rest = bookings.find(db, after=(first[-1]["start_time"], first[-1]["id"]), limit=2)
    assert [b["id"] for b in rest] == [made[2]["id"]]


def test_a_resource_with_upcoming_bookings_cannot_be_deleted(db, chair):
    bookings.create(db, bookings.NewBooking(chair["id"], start=TEN), actor=None)
    with pytest.raises(InvalidState):
        resources.delete(db, chair["id"])


def test_availability_returns_intervals_in_ms(db, chair):
    bookings.create(db, bookings.NewBooking(chair["id"], start=TEN), actor=None)
    slots = resources.availability(
        db, chair["id"], start=TEN - HOUR, end=TEN + 2 * HOUR, duration_minutes=60, step_minutes=60
    )
    assert [(s.start, s.end) for s in slots] == [(TEN - HOUR, TEN), (TEN + HOUR, TEN + 2 * HOUR)]


def test_a_blocker_reports_the_bookings_it_covers_and_an_unusable_rule_is_invalid_input(db, chair):
    booking = bookings.create(db, bookings.NewBooking(chair["id"], start=TEN), actor=None)
    blocker, covered = blockers.create(db, blockers.NewBlocker(chair["id"], TEN, TEN + HOUR))
    assert covered == [booking["id"]]
    [(row, hits)] = blockers.find(db, after_id=None, limit=10, start=TEN, end=TEN + HOUR)
    assert row["id"] == blocker["id"] and hits == [(TEN, TEN + HOUR, blocker["id"])]
    assert blockers.find(db, after_id=None, limit=10, start=TEN + HOUR) == []
    rule = {"rrule": "FREQ=SOMETIMES"}
    never = blockers.NewBlocker(chair["id"], TEN, TEN + HOUR, recurrence=rule)
    with pytest.raises(InvalidInput) as refused:
        blockers.create(db, never)
    assert refused.value.details[0]["field"] == "recurrence.rrule"


def test_customers_take_and_return_plain_fields(db):
    fields = {"name": "Ada", "external_id": None, "phone": None, "email": None}
    customer = customers.create(db, {**fields, "tags": ["vip"], "metadata": {}})
    updated = customers.update(db, customer["id"], {"name": "Ada L.", "tags": ["vip"]})
    assert (updated["name"], updated["tags"]) == ("Ada L.", ["vip"])
    assert [c["id"] for c in customers.find(db, after_id=None, limit=5, tags=["vip"])] == [
        customer["id"]
    ]


def test_shingleai_names_the_id_the_client_sent_when_it_is_unknown(db):
    with pytest.raises(NotFound, match="'not-a-uuid'"):
        shingleai.get(db, "not-a-uuid")
