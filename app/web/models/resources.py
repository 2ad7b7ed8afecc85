"""Resources (API.md §2): create, patch, list, and the availability query."""

from __future__ import annotations

import functools
import importlib.resources
import zoneinfo
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from app.core.times import parse_instant
from app.web.models.base import Body, Instant, Limit, Metadata, Name, Query, rule_error
from app.web.models.bookings import Minutes
from app.web.models.customers import Search


@functools.cache
def _iana_zones() -> frozenset[str]:
    """The zone names tzdata ships: the same list on every machine, unlike the system folder
    (which also holds `localtime`, `posixrules`, `right/...`)."""
    return frozenset(importlib.resources.files("tzdata").joinpath("zones").read_text().split())


def _timezone(value: str) -> str:
    try:
        if value not in _iana_zones():
            raise ValueError(value)
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "timezone", "Use an IANA time zone name such as Europe/Berlin."
        ) from None
    return value


Timezone = Annotated[
    str, Field(max_length=64, examples=["Europe/Berlin"]), AfterValidator(_timezone)
]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HhMm = Annotated[str, Field(pattern=r"^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$", examples=["09:00"])]
Span = Annotated[list[HhMm], Field(min_length=2, max_length=2)]


def _valid_business_hours(value: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
    for day, spans in value.items():
        if day not in DAYS:
            raise PydanticCustomError("day", "Days are mon, tue, wed, thu, fri, sat, sun.")
        ordered = sorted(spans)
        for start, end in ordered:
            if start >= end:
                raise PydanticCustomError("span", "Each opening must end after it starts.")
        for (_, end), (next_start, _) in zip(ordered, ordered[1:], strict=False):
            if next_start < end:
                raise PydanticCustomError("span", "Openings on one day must not overlap.")
        value[day] = ordered
    return value


BusinessHours = Annotated[
    dict[str, Annotated[list[Span], Field(max_length=24)]],
    AfterValidator(_valid_business_hours),
    Field(
        description="Opening hours per weekday (mon … sun) in the resource's time zone, each "
        'a list of ["HH:MM", "HH:MM"] openings that end after they start ("24:00" is '
        "midnight) and do not overlap on one day; absent days are closed, an absent object "
        "means always open.",
        examples=[{"mon": [["09:00", "17:00"]], "sat": [["10:00", "14:00"]]}],
        json_schema_extra={"propertyNames": {"enum": list(DAYS)}},
    ),
]


class ResourceCreate(Body):
    """A resource: what is booked (a chair, a room, a person)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Chair 1",
                    "timezone": "Europe/Berlin",
                    "default_duration_minutes": 30,
                    "business_hours": {"mon": [["09:00", "17:00"]]},
                }
            ]
        }
    )

    name: Name
    timezone: Timezone = "UTC"
    default_duration_minutes: Annotated[int, Field(ge=1, le=1440)] = 60
    buffer_minutes: Annotated[int, Field(ge=0, le=240)] = 0
    business_hours: BusinessHours | None = None
    metadata: Metadata = {}


class ResourcePatch(Body):
    """Every create field, all optional; `business_hours: null` makes the resource always open."""

    name: Name = None  # type: ignore[assignment]
    timezone: Timezone = None  # type: ignore[assignment]
    default_duration_minutes: Annotated[int, Field(ge=1, le=1440)] = None  # type: ignore[assignment]
    buffer_minutes: Annotated[int, Field(ge=0, le=240)] = None  # type: ignore[assignment]
    business_hours: BusinessHours | None = None
    metadata: Metadata = None  # type: ignore[assignment]


class ResourceListQuery(Query):
    q: Search | None = None
    limit: Limit = 25
    cursor: str | None = None


# --- availability (API.md §2) ------------------------------------------------------------------

MAX_WINDOW_DAYS = 31


class AvailabilityQuery(Query):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    from_: Annotated[Instant, Field(examples=["2030-01-07T00:00:00Z"])] = Field(alias="from")
    to: Annotated[
        Instant,
        Field(examples=["2030-01-08T00:00:00Z"], description="After from, at most 31 days."),
    ]
    duration_minutes: Minutes | None = None
    step_minutes: Minutes = 15

    @model_validator(mode="after")
    def _window_is_bounded(self) -> AvailabilityQuery:
        length = parse_instant(self.to) - parse_instant(self.from_)
        if length <= 0:
            raise rule_error("to", "Must be after from.")
        if length > MAX_WINDOW_DAYS * 86_400_000:
            raise rule_error("to", "The window is at most 31 days after from.")
        return self
