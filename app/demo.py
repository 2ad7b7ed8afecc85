"""`booking serve --demo`: a few records so a new user sees a working shop at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from app import store
from app.web.models.blockers import BlockerCreate
from app.web.models.bookings import BookingCreate
from app.web.models.customers import CustomerCreate
from app.web.models.resources import ResourceCreate

# Through the API's own request models and services, so the demo holds only what a client
# could have made (defaults included).
from app.web.routes.services import blockers, bookings, customers, resources

WEEKDAYS_9_TO_6 = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def is_empty(db: Database) -> bool:
    tables = ("customers", "resources", "bookings", "blockers")
    return all(store.count_rows(db, table) == 0 for table in tables)


def fill(db: Database) -> None:
    """Add demo resources, customers, tomorrow's bookings and a lunch break to an empty db."""
    hours = {**WEEKDAYS_9_TO_6, "sat": [["10:00", "14:00"]]}
    chairs = [
        resources.create(
            db,
            ResourceCreate(
                name=name, timezone="Europe/Berlin", default_duration_minutes=45,
                buffer_minutes=15, business_hours=hours,
            ),
        )
        for name in ("Chair 1", "Chair 2")
    ]  # fmt: skip
    resources.create(db, ResourceCreate(name="Repair desk", default_duration_minutes=30))
    people = [
        customers.create(db, CustomerCreate(name=name, email=email, tags=tags))
        for name, email, tags in (
            ("Ada Lovelace", "ada@example.com", ["regular"]),
            ("Grace Hopper", "grace@example.com", ["regular", "vip"]),
            ("Alan Turing", "alan@example.com", []),
        )
    ]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0)
    start = tomorrow.replace(microsecond=0)
    for index, person in enumerate(people):
        slot = start + timedelta(hours=8 + index)  # 09:00-11:00 Berlin in winter
        bookings.create(
            db,
            BookingCreate(
                resource_id=chairs[index % 2]["id"], customer_id=person["id"],
                start_time=slot.strftime("%Y-%m-%dT%H:%M:%SZ"), title="Haircut",
            ),
            actor="demo",
        )  # fmt: skip
    for chair in chairs:
        lunch = start + timedelta(hours=11)
        blockers.create(
            db,
            BlockerCreate(
                resource_id=chair["id"], title="Lunch break",
                start_time=lunch.strftime("%Y-%m-%dT%H:%M:%SZ"),
                end_time=(lunch + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                recurrence={"freq": "weekly", "by_weekday": ["MO", "TU", "WE", "TH", "FR"]},
            ),
        )  # fmt: skip
