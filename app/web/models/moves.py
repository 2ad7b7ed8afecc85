"""Moving a booking and undoing a status set by mistake (API.md §8): their request bodies."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from app.core.times import parse_instant
from app.web.models.base import Body, Id, Instant, rule_error
from app.web.models.bookings import Minutes

Actor = Annotated[str, Field(max_length=256)]


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
