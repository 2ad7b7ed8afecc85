"""A counter's shop for the browser tests: written into the database before `booking serve`
starts, through the same services the API uses (customers in bulk through the store)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from app import store
from app.core.ids import new_id
from app.core.times import format_instant, wall_ms
from app.domain import shop_settings, staff
from app.web.models.bookings import BookingCreate
from app.web.models.resources import ResourceCreate
from app.web.routes.services import bookings, resources
from sync import identity

ZONE = ZoneInfo("Europe/Berlin")
EVERY_DAY = {day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
CHAIRS = ("Chair 1", "Chair 2", "Chair 3")
PIN = "2468"
ADA_PHONE = "+49 151 2345678"


def today() -> date:
    return datetime.now(ZONE).date()


def local(day: date, hour: int, minute: int = 0) -> str:
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)
    return format_instant(int(moment.timestamp() * 1000))


def seed(path: Path, *, customers: int = 0) -> dict[str, str]:
    """Three chairs open 08:00-20:00 every day, staff Mia (counter) and Max (manager), Ada and
    Grace, `customers` more, and one booking of Grace tomorrow at 09:00 on Chair 1."""
    identity.init_database(str(path))
    db = store.open_db(str(path))
    shop_settings.update(db, country="DE", clock="24h", first_weekday="mon")
    staff.create(db, staff.NewMember(name="Mia", role="booking:write", secret=PIN))
    staff.create(db, staff.NewMember(name="Max", role="booking:admin", secret=PIN))
    chairs = [
        resources.create(
            db,
            ResourceCreate(name=name, timezone="Europe/Berlin", default_duration_minutes=30,
                           business_hours=EVERY_DAY),
        )["id"]
        for name in CHAIRS
    ]  # fmt: skip
    people = [("Ada Lovelace", ADA_PHONE), ("Grace Hopper", "0170 9876543")]
    people += [(f"Customer {n:05d}", f"+49 160 {n:07d}") for n in range(customers)]
    ids = {}
    now, organization = wall_ms(), store.organization_id(db)
    with store.transaction(db):
        for name, phone in people:
            record = {
                "id": new_id("cus"), "name": name, "phone": phone, "tags": [], "metadata": {},
                "organization_id": organization, "created_at": now, "updated_at": now,
            }  # fmt: skip
            store.insert_customer(db, record)
            ids[name] = record["id"]
    tomorrow = today() + timedelta(days=1)
    bookings.create(
        db,
        BookingCreate(resource_id=chairs[0], customer_id=ids["Grace Hopper"],
                      start_time=local(tomorrow, 9), title="Colour"),
        actor="test",
    )  # fmt: skip
    db.execute("ANALYZE")
    db.close()
    return {"chair_1": chairs[0], "ada": ids["Ada Lovelace"]}
