"""`booking serve --demo`: a small shop so a new user sees a working day at once.

Two chairs open every day (09:00-18:00, weekends 10:00-16:00) with a lunch break on weekdays,
a repair desk, four customers with phone numbers, and bookings today and tomorrow inside
opening hours, in Europe/Berlin. The shop's country is set to DE, so the customer search reads
0151 2345678 as +49 151 2345678.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app import store
from app.core.times import format_instant
from app.core.vocabulary import DAY_KEYS, RRULE_DAYS
from app.domain import shop_settings
from app.store import Connection
from app.web.models.blockers import BlockerCreate
from app.web.models.bookings import BookingCreate, BookingTransition
from app.web.models.customers import CustomerCreate
from app.web.models.resources import ResourceCreate

# Through the API's own request models and services, so the demo holds only what a client
# could have made (defaults included).
from app.web.routes.services import blockers, bookings, customers, resources

ZONE = ZoneInfo("Europe/Berlin")
WEEKDAYS = DAY_KEYS[:5]  # Monday to Friday
HOURS = {day: [["09:00", "18:00"]] for day in WEEKDAYS} | {
    day: [["10:00", "16:00"]] for day in DAY_KEYS[5:]
}
PEOPLE = (
    ("Ada Lovelace", "ada@example.com", "+49 151 2345678", ["regular"]),
    ("Grace Hopper", "grace@example.com", "0170 9876543", ["regular", "vip"]),
    ("Alan Turing", "alan@example.com", "+44 20 7946 0018", []),
    ("Marie Curie", "marie@example.com", "030 1234567", []),
)
# (day offset, chair, local start, customer, title): inside every day's opening hours.
BOOKINGS = (
    (0, 0, "10:00", 0, "Haircut"),
    (0, 1, "11:00", 1, "Colour"),
    (0, 0, "14:00", 2, "Beard trim"),
    (1, 1, "10:30", 3, "Haircut"),
    (1, 0, "14:30", 0, "Blow-dry"),
)


def is_empty(db: Connection) -> bool:
    tables = ("customers", "resources", "bookings", "blockers")
    return all(store.count_rows(db, table) == 0 for table in tables)


def _instant(day: date, clock: str) -> str:
    hour, minute = (int(part) for part in clock.split(":"))
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)
    return format_instant(int(local.timestamp() * 1000))


def fill(db: Connection) -> str:
    """Add the demo shop to an empty database; return the sentence saying what was added."""
    shop_settings.update(db, country="DE", clock="24h", first_weekday="mon")
    chairs = [
        resources.create(
            db,
            ResourceCreate(
                name=name,
                timezone="Europe/Berlin",
                default_duration_minutes=45,
                buffer_minutes=15,
                business_hours=HOURS,
            ),
        )
        for name in ("Chair 1", "Chair 2")
    ]
    resources.create(
        db,
        ResourceCreate(name="Repair desk", timezone="Europe/Berlin", default_duration_minutes=30),
    )
    people = [
        customers.create(db, CustomerCreate(name=name, email=email, phone=phone, tags=tags))
        for name, email, phone, tags in PEOPLE
    ]
    today = datetime.now(ZONE).date()
    for offset, chair, clock, person, title in BOOKINGS:
        made = bookings.create(
            db,
            BookingCreate(
                resource_id=chairs[chair]["id"],
                customer_id=people[person]["id"],
                start_time=_instant(today + timedelta(days=offset), clock),
                title=title,
            ),
            actor="demo",
        )
        if offset == 0:
            bookings.transition(db, made["id"], BookingTransition(status="confirmed"), actor="demo")
    # The break starts on the first weekday from today, so the list shows a weekday start.
    first = next(
        today + timedelta(days=n) for n in range(7) if (today + timedelta(days=n)).weekday() < 5
    )
    for chair in chairs:
        blockers.create(
            db,
            BlockerCreate(
                resource_id=chair["id"],
                title="Lunch break",
                start_time=_instant(first, "12:30"),
                end_time=_instant(first, "13:30"),
                recurrence={"freq": "weekly", "by_weekday": list(RRULE_DAYS[:5])},
            ),
        )
    return (
        f"Added demo data: 3 resources, {len(PEOPLE)} customers, {len(BOOKINGS)} bookings "
        "(today and tomorrow) and a weekday lunch break, in Europe/Berlin."
    )
