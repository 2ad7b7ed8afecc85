"""Bookings (API.md §4): create, patch, transition, list, and the event list."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from app.core.times import parse_instant
from app.web.models.base import Body, Instant, Limit, Metadata, Query, rule_error

STATUS_NAMES = ("pending", "confirmed", "checked_in", "completed", "cancelled", "no_show")
TargetStatus = Literal["confirmed", "checked_in", "completed", "cancelled", "no_show"]
Minutes = Annotated[int, Field(ge=1, le=1440)]
MAX_BOOKING_MINUTES = 1440
_STATUS = "(?:" + "|".join(STATUS_NAMES) + ")"
# What the server takes: statuses separated by commas, spaces around each ignored.
STATUS_LIST_PATTERN = rf"^\s*{_STATUS}\s*(?:,\s*{_STATUS}\s*)*$"
CustomerRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="The customer's `cus_` id, or the UUID the /v1 API shows for the customer.",
        examples=["cus_01JGF8ZQ7X0000000000000000"],
    ),
]
START_EXAMPLE, END_EXAMPLE = "2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z"


class BookingCreate(Body):
    """A new booking; it starts `pending`.

    `end_time` must be after `start_time`, by a whole number of minutes (at most 1440); with
    both `end_time` and `duration_minutes` they must agree; with neither, the service's length
    applies when `service_id` names one, else the resource's default duration. The slot (plus
    the resource's or service's buffer) must be free: 422 slot_conflict names the booking or
    blocker in the way.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "resource_id": "res_01JGF8ZQ7X0000000000000000",
                    "customer_id": "cus_01JGF8ZQ7X0000000000000000",
                    "start_time": START_EXAMPLE,
                    "end_time": END_EXAMPLE,
                    "title": "Haircut",
                }
            ]
        }
    )

    resource_id: Annotated[
        str, Field(min_length=1, max_length=64, examples=["res_01JGF8ZQ7X0000000000000000"])
    ]
    customer_id: CustomerRef | None = None
    service_id: (
        Annotated[
            str,
            Field(
                min_length=1,
                max_length=64,
                description="A service the resource performs: it sets the default length (when "
                "neither end_time nor duration_minutes is sent), the price and the buffer.",
            ),
        ]
        | None
    ) = None
    start_time: Annotated[Instant, Field(examples=[START_EXAMPLE])]
    end_time: (
        Annotated[
            Instant,
            Field(
                examples=[END_EXAMPLE],
                description="After start_time by whole minutes, at most 1440 (UTC, with Z).",
            ),
        ]
        | None
    ) = None
    duration_minutes: (
        Annotated[Minutes, Field(description="Must agree with end_time when both are sent.")] | None
    ) = None
    title: Annotated[str, Field(max_length=256)] | None = None
    notes: Annotated[str, Field(max_length=2000)] | None = None
    metadata: Metadata = {}

    @model_validator(mode="after")
    def _interval_is_consistent(self) -> BookingCreate:
        if self.end_time is None:
            return self
        length = parse_instant(self.end_time) - parse_instant(self.start_time)
        if length <= 0:
            raise rule_error("end_time", "Must be after start_time.")
        if length % 60_000 or length > MAX_BOOKING_MINUTES * 60_000:
            raise rule_error("end_time", "A booking lasts a whole number of minutes, at most 1440.")
        if self.duration_minutes is not None and self.duration_minutes * 60_000 != length:
            raise rule_error(
                "duration_minutes", "Disagrees with end_time; send one, or make them match."
            )
        return self


class BookingPatch(Body):
    """Only while pending or confirmed; `metadata` replaces the old object."""

    title: Annotated[str, Field(max_length=256)] | None = None
    notes: Annotated[str, Field(max_length=2000)] | None = None
    metadata: Metadata = None  # type: ignore[assignment]


class BookingTransition(Body):
    """The next status. `cancel_reason` only with `cancelled`. Allowed moves: pending → confirmed
    | cancelled; confirmed → checked_in | cancelled | no_show; checked_in → completed (else 422
    invalid_transition, naming the allowed next statuses)."""

    # JSON Schema says the cancel_reason rule too: with another status it must be absent or null.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"status": {"not": {"const": "cancelled"}}}},
            "then": {"properties": {"cancel_reason": {"type": "null"}}},
            "examples": [{"status": "cancelled", "cancel_reason": "Customer called"}],
        }
    )

    status: TargetStatus
    cancel_reason: Annotated[str, Field(max_length=1000)] | None = None
    actor: Annotated[str, Field(max_length=256)] | None = None

    @model_validator(mode="after")
    def _reason_only_when_cancelling(self) -> BookingTransition:
        if self.cancel_reason is not None and self.status != "cancelled":
            raise rule_error("cancel_reason", "Only allowed with status cancelled.")
        return self


class BookingListQuery(Query):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    status: str | None = Field(
        None,
        description="One status or a comma-separated list.",
        json_schema_extra={"pattern": STATUS_LIST_PATTERN},
        examples=["pending,confirmed"],
    )
    resource_id: str | None = None
    customer_id: (
        Annotated[str, Field(description=CustomerRef.__metadata__[0].description)] | None
    ) = None
    from_: Annotated[Instant, Field(examples=["2030-01-07T00:00:00Z"])] | None = Field(
        None, alias="from"
    )
    to: (
        Annotated[Instant, Field(examples=["2030-01-08T00:00:00Z"], description="After from.")]
        | None
    ) = None
    limit: Limit = 25
    cursor: str | None = None

    @field_validator("status")
    @classmethod
    def _known_statuses(cls, value: str | None) -> str | None:
        if value is None:
            return None
        unknown = [s for s in value.split(",") if s.strip() not in STATUS_NAMES]
        if unknown:
            raise ValueError(f"Unknown status {unknown[0]!r}; use {', '.join(STATUS_NAMES)}.")
        return value

    @model_validator(mode="after")
    def _window_is_ordered(self) -> BookingListQuery:
        if self.from_ and self.to and parse_instant(self.to) <= parse_instant(self.from_):
            raise rule_error("to", "Must be after from.")
        return self

    def statuses(self) -> list[str] | None:
        # Deduplicated: each one is a bound SQL parameter, and six are all there are.
        return (
            list(dict.fromkeys(s.strip() for s in self.status.split(","))) if self.status else None
        )


class EventListQuery(Query):
    limit: Limit = 25
    cursor: str | None = None
