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


class BookingCreate(Body):
    resource_id: Annotated[str, Field(min_length=1, max_length=64)]
    customer_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    start_time: Instant
    end_time: Instant | None = None
    duration_minutes: Minutes | None = None
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

    status: str | None = Field(None, description="One status or a comma-separated list.")
    resource_id: str | None = None
    customer_id: str | None = None
    from_: Instant | None = Field(None, alias="from")
    to: Instant | None = None
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
