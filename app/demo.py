"""`booking serve --demo`: a few records so a new user sees a working shop at once."""

from __future__ import annotations

from sqlite_utils import Database

from app import storage
from app.domain import customers, resources
from app.validation import CustomerCreate, ResourceCreate

WEEKDAYS_9_TO_6 = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def is_empty(db: Database) -> bool:
    return all(storage.count_rows(db, table) == 0 for table in ("customers", "resources"))


def fill(db: Database) -> None:
    """Add demo resources and customers to an empty database."""
    hours = {**WEEKDAYS_9_TO_6, "sat": [["10:00", "14:00"]]}
    for name in ("Chair 1", "Chair 2"):
        resources.create(
            db,
            ResourceCreate(
                name=name,
                timezone="Europe/Berlin",
                default_duration_minutes=45,
                buffer_minutes=15,
                business_hours=hours,
            ),
        )
    resources.create(db, ResourceCreate(name="Repair desk", default_duration_minutes=30))
    for name, email, tags in (
        ("Ada Lovelace", "ada@example.com", ["regular"]),
        ("Grace Hopper", "grace@example.com", ["regular", "vip"]),
        ("Alan Turing", "alan@example.com", []),
    ):
        customers.create(db, CustomerCreate(name=name, email=email, tags=tags))
