"""Blockers (API.md §5): create (once or recurring) and list; shop-wide closures (§8)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from app.core.times import parse_instant
from app.domain.recurrence import MAX_OCCURRENCES_PER_DAY
from app.web.models.base import Body, Instant, Limit, Metadata, Query, rule_error

Weekday = Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
# Bounds that keep every blocker's expansion cheap (README § Bookings, blockers and availability).
MAX_BLOCKER_DAYS = 366  # one-off: a year's closure, not a 4,000-year one
MAX_OCCURRENCE_DAYS = 31  # each occurrence of a repeating blocker
DAY_MS = 86_400_000


def _one_of_two_forms(schema: dict[str, Any]) -> None:
    """Say in JSON Schema what _one_form checks: exactly one of the two forms (oneOf), and in
    the structured one `freq` required and not both `count` and `until`."""
    fields = schema.pop("properties")
    for key in ("required", "additionalProperties"):
        schema.pop(key, None)
    rule = fields.pop("rrule")
    freq = fields["freq"]
    fields["freq"] = {**next(p for p in freq["anyOf"] if p.get("type") != "null"), **freq}
    del fields["freq"]["anyOf"], fields["freq"]["default"]
    structured = {
        "type": "object",
        "title": "RecurrenceFields",
        "properties": {**fields, "rrule": {"type": "null"}},
        "required": ["freq"],
        "additionalProperties": False,
        "not": {
            "required": ["count", "until"],
            "properties": {"count": {"type": "integer"}, "until": {"type": "string"}},
        },
    }
    rrule_only = {
        "type": "object",
        "title": "RecurrenceRule",
        "properties": {"rrule": next(p for p in rule["anyOf"] if p.get("type") == "string")},
        "required": ["rrule"],
        "additionalProperties": False,
    }
    schema["oneOf"] = [structured, rrule_only]


class Recurrence(Body):
    """Either the structured form (`freq` required; `count` or `until`, not both) or an
    `rrule` alone. Each occurrence lasts as long as the first."""

    model_config = ConfigDict(json_schema_extra=_one_of_two_forms)

    freq: Literal["daily", "weekly", "monthly", "yearly"] | None = None
    interval: Annotated[int, Field(ge=1, le=365)] | None = None
    count: Annotated[int, Field(ge=1, le=1000)] | None = None
    until: Instant | None = None
    by_weekday: Annotated[list[Weekday], Field(min_length=1, max_length=7)] | None = None
    rrule: (
        Annotated[
            str,
            Field(
                min_length=1,
                max_length=1000,
                examples=["FREQ=WEEKLY;BYDAY=MO,WE"],
                description=(
                    "An RFC 5545 RRULE, alone; start_time is its DTSTART. FREQ is DAILY, "
                    "WEEKLY, MONTHLY or YEARLY, INTERVAL 1..365, COUNT 1..1000, and the rule "
                    f"occurs at most {MAX_OCCURRENCES_PER_DAY} times a day (BYHOUR x BYMINUTE x "
                    "BYSECOND)."
                ),
            ),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _one_form(self) -> Recurrence:
        others = self.model_fields_set - {"rrule"}
        if self.rrule is not None:
            if others:
                raise rule_error("rrule", "Give either rrule alone or the structured fields.")
            return self
        if self.freq is None:
            raise rule_error("freq", "Give freq (daily, weekly, monthly or yearly), or an rrule.")
        if self.count is not None and self.until is not None:
            raise rule_error("count", "Give count or until, not both.")
        return self


class BlockerCreate(Body):
    """Time the resource cannot be booked, once or repeating. Bookings already in the way are
    not refused: the answer lists them in `meta.conflicting_booking_ids`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "resource_id": "res_01JGF8ZQ7X0000000000000000",
                    "title": "Lunch",
                    "start_time": "2030-01-07T12:00:00Z",
                    "end_time": "2030-01-07T13:00:00Z",
                    "recurrence": {"freq": "weekly", "by_weekday": ["MO", "WE"], "count": 10},
                }
            ]
        }
    )

    resource_id: Annotated[
        str, Field(min_length=1, max_length=64, examples=["res_01JGF8ZQ7X0000000000000000"])
    ]
    title: Annotated[str, Field(max_length=500)] | None = None
    start_time: Annotated[Instant, Field(examples=["2030-01-07T12:00:00Z"])]
    end_time: Annotated[
        Instant,
        Field(
            examples=["2030-01-07T13:00:00Z"],
            description=(
                f"After start_time, and at most {MAX_BLOCKER_DAYS} days after it; at most "
                f"{MAX_OCCURRENCE_DAYS} days with a recurrence (each occurrence lasts as long as "
                "the first). Checked before all_day widens the interval to whole days."
            ),
        ),
    ]
    all_day: bool = False
    recurrence: Recurrence | None = None
    metadata: Metadata = {}

    @model_validator(mode="after")
    def _ends_after_start(self) -> BlockerCreate:
        length = parse_instant(self.end_time) - parse_instant(self.start_time)
        if length <= 0:
            raise rule_error("end_time", "Must be after start_time.")
        if self.recurrence is not None and length > MAX_OCCURRENCE_DAYS * DAY_MS:
            raise rule_error(
                "end_time",
                f"A repeating blocker's occurrence lasts at most {MAX_OCCURRENCE_DAYS} days; "
                "end_time is the first occurrence's end, not the last one's.",
            )
        if length > MAX_BLOCKER_DAYS * DAY_MS:
            raise rule_error(
                "end_time",
                f"A blocker lasts at most {MAX_BLOCKER_DAYS} days; add another for a longer "
                "closure.",
            )
        return self

    def recurrence_json(self) -> dict[str, Any] | None:
        if self.recurrence is None:
            return None
        return self.recurrence.model_dump(exclude_none=True)


class BlockerListQuery(Query):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    resource_id: str | None = None
    from_: Annotated[Instant, Field(examples=["2030-01-07T00:00:00Z"])] | None = Field(
        None, alias="from"
    )
    to: (
        Annotated[Instant, Field(examples=["2030-01-08T00:00:00Z"], description="After from.")]
        | None
    ) = None
    limit: Limit = 25
    cursor: str | None = None

    @model_validator(mode="after")
    def _window_is_ordered(self) -> BlockerListQuery:
        if self.from_ and self.to and parse_instant(self.to) <= parse_instant(self.from_):
            raise rule_error("to", "Must be after from.")
        return self


class ClosureCreate(Body):
    """A blocker for every resource of the shop: a blocker's body without `resource_id`.

    Each blocker is checked as POST /blockers checks one (end after start, bounds of a
    repeating blocker), with the same field names.
    """

    title: Annotated[str, Field(max_length=500)] | None = None
    start_time: Instant
    end_time: Instant
    all_day: bool = False
    recurrence: Recurrence | None = None
    metadata: Metadata = {}
