"""Request models for moves, corrections, services and the day summary (API.md §8).

They validate bodies and queries and generate /openapi.json like every other model; the
shared field types come from app/web/validation.py.
"""

from __future__ import annotations

import datetime
from typing import Annotated

from babel.numbers import list_currencies
from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from app.core.times import parse_instant
from app.web.models.base import Body, Instant, Limit, Metadata, Name, Query, rule_error
from app.web.models.bookings import Minutes
from app.web.models.customers import Search

Id = Annotated[str, Field(min_length=1, max_length=64)]
Actor = Annotated[str, Field(max_length=256)]
MAX_PRICE_MINOR = 10**12  # ten billion in a two-decimal currency: more than any one service


# --- moving a booking -------------------------------------------------------------------------


class BookingMove(Body):
    """Where the booking goes; fields left out stay as they are, the length included."""

    resource_id: Id | None = None
    start_time: Instant | None = None
    end_time: Instant | None = None
    duration_minutes: Minutes | None = None
    actor: Actor | None = None

    @model_validator(mode="after")
    def _says_where(self) -> BookingMove:
        where = (self.resource_id, self.start_time, self.end_time, self.duration_minutes)
        if all(value is None for value in where):
            raise rule_error(
                "start_time", "Send start_time, resource_id, end_time or duration_minutes."
            )
        if self.end_time is not None and self.start_time is None:
            raise rule_error("end_time", "Send start_time with it (or duration_minutes alone).")
        if self.end_time is not None and self.duration_minutes is not None:
            assert self.start_time is not None
            length = parse_instant(self.end_time) - parse_instant(self.start_time)
            if length != self.duration_minutes * 60_000:
                raise rule_error(
                    "duration_minutes", "Disagrees with end_time; send one, or make them match."
                )
        return self


class BookingUndo(Body):
    """Undo the booking's latest status change, named so that two desks cannot undo two
    different things: the event id is in the booking's `events`."""

    event_id: Annotated[str, Field(min_length=1, max_length=64, examples=["evt_01J..."])]
    reason: Annotated[str, Field(max_length=1000)] | None = None
    actor: Actor | None = None


# --- services ---------------------------------------------------------------------------------


def _currency(value: str) -> str:
    if value not in list_currencies():
        raise PydanticCustomError(
            "currency", "Use an ISO 4217 currency code in capitals, such as EUR or USD."
        )
    return value


Currency = Annotated[
    str, Field(min_length=3, max_length=3, examples=["EUR"]), AfterValidator(_currency)
]
PriceMinor = Annotated[
    int,
    Field(
        ge=0,
        le=MAX_PRICE_MINOR,
        description="In the currency's minor units: 4500 with EUR is €45.00.",
        examples=[4500],
    ),
]
Buffer = Annotated[int, Field(ge=0, le=240)]
ResourceIds = Annotated[
    list[Id],
    Field(
        max_length=200,
        description="The resources that perform the service; empty means every resource.",
    ),
    AfterValidator(lambda ids: list(dict.fromkeys(ids))),
]


class ServiceCreate(Body):
    name: Name
    duration_minutes: Minutes
    price_minor: PriceMinor
    currency: Currency
    buffer_minutes: Buffer = Field(
        0, description="Kept free after a booking of it, when longer than the resource's."
    )
    resource_ids: ResourceIds = []
    metadata: Metadata = {}


class ServicePatch(Body):
    """Every create field, all optional. Bookings already made keep their price and buffer."""

    name: Name = None  # type: ignore[assignment]
    duration_minutes: Minutes = None  # type: ignore[assignment]
    price_minor: PriceMinor = None  # type: ignore[assignment]
    currency: Currency = None  # type: ignore[assignment]
    buffer_minutes: Buffer = None  # type: ignore[assignment]
    resource_ids: ResourceIds = None  # type: ignore[assignment]
    metadata: Metadata = None  # type: ignore[assignment]


class ServiceListQuery(Query):
    q: Search | None = None
    resource_id: Id | None = Field(None, description="Only services this resource performs.")
    limit: Limit = 25
    cursor: str | None = None


# --- the day summary --------------------------------------------------------------------------


def _calendar_day(value: str) -> str:
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("day", "Use a calendar day such as 2030-01-07.") from None
    if not 1900 <= day.year <= 8999:
        raise PydanticCustomError("day", "Use a day from year 1900 to 8999.")
    return value


Day = Annotated[
    str,
    Field(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2030-01-07"]),
    AfterValidator(_calendar_day),
]


class DaySummaryQuery(Query):
    date: Day = Field(description="The day, in each resource's own time zone.")
    resource_id: Id | None = None

    def day(self) -> datetime.date:
        return datetime.date.fromisoformat(self.date)
