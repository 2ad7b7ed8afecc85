"""Request models: they validate every body and query, and they generate /openapi.json.

Every field error is reported at once, each naming its field. Unknown body fields are errors
(a typo must not be dropped silently); unknown query parameters are ignored.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import zoneinfo
from typing import Annotated, Any, Literal, NotRequired, TypeVar

from flask import request
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
    with_config,
)
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from app.core import json_codec
from app.core.times import INSTANT_PATTERN, in_range, is_instant, parse_instant
from app.domain.recurrence import MAX_OCCURRENCES_PER_DAY
from app.web.errors import BadRequest, ValidationFailed
from sync.protocol import SYNC_PROTOCOL

M = TypeVar("M", bound=BaseModel)

METADATA_MAX_BYTES = 16 * 1024
METADATA_MAX_DEPTH = 32
# Copied verbatim from the customers seed.
EMAIL_PATTERN = (
    r"^(?!\.)(?!.*\.\.)([A-Za-z0-9_'+\-\.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+"
    r"[A-Za-z]{2,}$"
)


class Body(BaseModel):
    """A request body: unknown fields are errors."""

    # strict: JSON's own types only, so "true" is not a boolean and "5" is not a number.
    model_config = ConfigDict(extra="forbid", strict=True, regex_engine="python-re")


class Query(BaseModel):
    """Query parameters: unknown ones are ignored."""

    model_config = ConfigDict(extra="ignore", regex_engine="python-re")


def _exact_instant(value: str) -> str:
    # isascii(): the pattern's \d would also accept other scripts' digits.
    if not (value.isascii() and is_instant(value)):
        raise PydanticCustomError(
            "instant", "Use a UTC ISO 8601 time such as 2030-01-07T10:00:00Z."
        )
    if not in_range(value):
        raise PydanticCustomError("instant_range", "Use a time from year 1900 to 8999.")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "Must not be blank.")
    return value


def _small_json(value: dict[str, Any]) -> dict[str, Any]:
    try:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    except ValueError:  # Python's json reads NaN and Infinity; stored, they would become null
        raise PydanticCustomError(
            "not_json", "Numbers must be finite: NaN and Infinity are not JSON."
        ) from None
    if len(text.encode()) > METADATA_MAX_BYTES:
        raise PydanticCustomError("too_large", "Must be at most 16 KiB as JSON.")
    # Shallower than a body may be, so that a sync push can still carry the record.
    if json_codec.depth(value) > METADATA_MAX_DEPTH:
        raise PydanticCustomError(
            "too_deep", f"Must nest at most {METADATA_MAX_DEPTH} levels of arrays and objects."
        )
    return value


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


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


Instant = Annotated[
    str,
    Field(pattern=INSTANT_PATTERN, examples=["2030-01-07T10:00:00Z"]),
    AfterValidator(_exact_instant),
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=256), AfterValidator(_not_blank)]
Metadata = Annotated[dict[str, Any], AfterValidator(_small_json)]
Email = Annotated[str, Field(pattern=EMAIL_PATTERN, max_length=320)]
MAX_TAGS, MAX_TAG_CHARS = 50, 64
Tag = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TAG_CHARS)]
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS), AfterValidator(_unique)]
Timezone = Annotated[
    str, Field(max_length=64, examples=["Europe/Berlin"]), AfterValidator(_timezone)
]
Limit = Annotated[int, Field(ge=1, le=100)]

# --- customers (API.md §3) ---------------------------------------------------------------------


class CustomerCreate(Body):
    name: Name
    external_id: Annotated[str, Field(max_length=256)] | None = None
    phone: Annotated[str, Field(max_length=64)] = None  # type: ignore[assignment]
    email: Email = None  # type: ignore[assignment]
    tags: Tags = []
    metadata: Metadata = {}


class CustomerPatch(Body):
    """Every field optional; only `external_id` may be null (to clear it)."""

    name: Name = None  # type: ignore[assignment]
    external_id: Annotated[str, Field(max_length=256)] | None = None
    phone: Annotated[str, Field(max_length=64)] = None  # type: ignore[assignment]
    email: Email = None  # type: ignore[assignment]
    tags: Tags = None  # type: ignore[assignment]
    metadata: Metadata = None  # type: ignore[assignment]


# Filters are bounded by what they can match: no longer than the longest searched field, and
# no more tags than a customer can hold. Unbounded, they reached SQLite's own limits (a LIKE
# pattern over 50,000 bytes, an expression tree over 1,000 deep) and answered 500.
MAX_SEARCH_CHARS = 320


def _tag_filter(value: str | None) -> str | None:
    tags = [tag.strip() for tag in (value or "").split(",") if tag.strip()]
    if len(set(tags)) > MAX_TAGS:
        raise PydanticCustomError("too_many", f"Give at most {MAX_TAGS} tags.")
    if any(len(tag) > MAX_TAG_CHARS for tag in tags):
        raise PydanticCustomError("too_long", f"Each tag is at most {MAX_TAG_CHARS} characters.")
    return value


Search = Annotated[str, Field(max_length=MAX_SEARCH_CHARS)]


class CustomerListQuery(Query):
    email: Search | None = None
    q: Search | None = None
    tags: Annotated[str | None, AfterValidator(_tag_filter)] = Field(
        None, description=f"Comma-separated; customers having all of them (at most {MAX_TAGS})."
    )
    limit: Limit = 25
    cursor: str | None = None


# --- resources (API.md §2) ---------------------------------------------------------------------

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
        description="Opening hours per weekday in the resource's time zone; absent days are "
        "closed, an absent object means always open.",
        examples=[{"mon": [["09:00", "17:00"]], "sat": [["10:00", "14:00"]]}],
    ),
]


class ResourceCreate(Body):
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


# --- parsing -----------------------------------------------------------------------------------


PATTERN_HINTS = {
    "email": "Must be an email address such as ada@example.com.",
}


def rule_error(field: str, message: str) -> PydanticCustomError:
    """A model-level rule's error that still names the field it is about."""
    return PydanticCustomError("field_rule", message, {"rule_field": field})


def _details(error: ValidationError) -> list[dict[str, str]]:
    details = []
    for item in error.errors(include_url=False):
        location = [str(part) for part in item["loc"]]
        if item["type"] == "field_rule":
            location.append(item["ctx"]["rule_field"])
        field = ".".join(location) or "body"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = f"Unknown field {item['loc'][-1]!r}."
        elif item["type"] == "string_pattern_mismatch":
            message = PATTERN_HINTS.get(str(item["loc"][-1]), "Does not have the expected format.")
        details.append({"field": field, "message": message})
    return details


def validate(model: type[M], data: Any) -> M:
    """Validate `data` against `model`, or raise 422 naming every bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ValidationFailed(details=_details(error)) from None


def json_object() -> dict[str, Any]:
    """The body as a JSON object: 413 when over the limit, 400 unless it is a JSON object.

    The Content-Type is not looked at: a JSON object sent as text/plain is read as JSON.
    """
    try:  # get_data raises the 413 before reading when Content-Length is over the limit
        body = json_codec.read_body(request.get_data())
    except json_codec.BodyRefused as error:
        raise BadRequest(str(error)) from None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    return body


def parse_body(model: type[M]) -> M:
    """The JSON object body as `model`: 400 unless it is a JSON object, 422 on bad fields."""
    return validate(model, json_object())


def parse_query(model: type[M]) -> M:
    return validate(model, request.args.to_dict())


# --- bookings (API.md §4) ----------------------------------------------------------------------

STATUS_NAMES = ("pending", "confirmed", "checked_in", "completed", "cancelled", "no_show")
TargetStatus = Literal["confirmed", "checked_in", "completed", "cancelled", "no_show"]
Minutes = Annotated[int, Field(ge=1, le=1440)]
MAX_BOOKING_MINUTES = 1440


class BookingCreate(Body):
    resource_id: Annotated[str, Field(min_length=1, max_length=64)]
    customer_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    service_id: Annotated[
        str,
        Field(
            min_length=1,
            max_length=64,
            description="A service the resource performs: it sets the default length (when "
            "neither end_time nor duration_minutes is sent), the price and the buffer.",
        ),
    ] | None = None  # fmt: skip
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


# --- availability (API.md §2) ------------------------------------------------------------------

MAX_WINDOW_DAYS = 31


class AvailabilityQuery(Query):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    from_: Instant = Field(alias="from")
    to: Instant
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


# --- blockers (API.md §5) ----------------------------------------------------------------------

Weekday = Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
# Bounds that keep every blocker's expansion cheap (README § Bookings, blockers and availability).
MAX_BLOCKER_DAYS = 366  # one-off: a year's closure, not a 4,000-year one
MAX_OCCURRENCE_DAYS = 31  # each occurrence of a repeating blocker
DAY_MS = 86_400_000


class Recurrence(Body):
    """Either the structured form (freq, interval, count or until, by_weekday) or {"rrule"}."""

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
    resource_id: Annotated[str, Field(min_length=1, max_length=64)]
    title: Annotated[str, Field(max_length=500)] | None = None
    start_time: Instant
    end_time: Annotated[
        Instant,
        Field(
            description=(
                f"After start_time, and at most {MAX_BLOCKER_DAYS} days after it; at most "
                f"{MAX_OCCURRENCE_DAYS} days with a recurrence (each occurrence lasts as long as "
                "the first). Checked before all_day widens the interval to whole days."
            )
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
    from_: Instant | None = Field(None, alias="from")
    to: Instant | None = None
    limit: Limit = 25
    cursor: str | None = None

    @model_validator(mode="after")
    def _window_is_ordered(self) -> BlockerListQuery:
        if self.from_ and self.to and parse_instant(self.to) <= parse_instant(self.from_):
            raise rule_error("to", "Must be after from.")
        return self


# --- ShingleAI customers (API.md §6) -----------------------------------------------------------

# The canonical 8-4-4-4-12 form only: Body models are strict, so pydantic's UUID type would
# refuse JSON strings, and uuid.UUID() would also take braces, URNs and bare hex.
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
UUID_EXAMPLE = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
UUID_HINT = f"Must be a UUID such as {UUID_EXAMPLE}."
SINCE_HINT = "Use a UTC ISO 8601 time such as 2023-11-07T05:31:56Z."
PATTERN_HINTS.update(businessId=UUID_HINT, contactId=UUID_HINT, customerSince=SINCE_HINT)


def _uuid(value: str) -> str:
    # Python's `$` also matches before a final newline, which the pattern alone would let in.
    if "\n" in value:
        raise PydanticCustomError("uuid", UUID_HINT)
    return value.lower()  # so a UUID reads back the same however a client spelled it


Uuid = Annotated[
    str,
    Field(pattern=UUID_PATTERN, examples=[UUID_EXAMPLE], json_schema_extra={"format": "uuid"}),
    AfterValidator(_uuid),
]
Since = Instant  # is_instant() uses fullmatch, so "…Z\n" is already refused
ShortText = Annotated[str, Field(max_length=64)]
Notes = Annotated[str, Field(max_length=2000)]
Phone = Annotated[str, Field(max_length=64)]
# ShingleAI documents email as a plain string, and its own example sends "<string>", which must
# work verbatim; so /v1 bounds the length but does not apply the booking seed's EMAIL_PATTERN.
ShingleEmail = Annotated[str, Field(max_length=320)]


class ShingleCustomerCreate(Body):
    """A ShingleAI customer; every field but `name` may be left out or null (`data`: not null)."""

    business_id: Uuid | None = Field(None, alias="businessId")
    type: ShortText | None = None
    contact_id: Uuid | None = Field(None, alias="contactId")
    name: Name
    email: ShingleEmail | None = None
    phone: Phone | None = None
    notes: Notes | None = None
    status: ShortText | None = None
    customer_since: Since | None = Field(None, alias="customerSince")
    metadata: Metadata = Field({}, alias="data", description="The same store as `metadata`.")


class ShingleCustomerPatch(Body):
    """Every field optional; null clears a field, except `name` and `data` (never null)."""

    business_id: Uuid | None = Field(None, alias="businessId")
    type: ShortText | None = None
    contact_id: Uuid | None = Field(None, alias="contactId")
    name: Name = None  # type: ignore[assignment]
    email: ShingleEmail | None = None
    phone: Phone | None = None
    notes: Notes | None = None
    status: ShortText | None = None
    customer_since: Since | None = Field(None, alias="customerSince")
    metadata: Metadata = Field(None, alias="data")  # type: ignore[assignment]


class ShingleCustomerListQuery(Query):
    limit: Limit = 20
    # Bounded so that SQLite can bind it; no shop has a billion customers.
    offset: Annotated[int, Field(ge=0, le=1_000_000_000)] = 0


# --- sync (SYNC.md §3, §4) ---------------------------------------------------------------------

MAX_PUSH_CHANGES = 500
HLC_PATTERN = r"^\d{16}-\d{5}-[0-9A-Za-z]{1,64}$"


# A TypedDict, not a model: the hub merges plain dicts, and validating into them directly
# costs half of building 500 models and dumping them again.
@with_config(ConfigDict(extra="forbid", strict=True, regex_engine="python-re"))
class WireChange(TypedDict):
    change_id: Annotated[str, Field(max_length=160)]
    origin_node: Annotated[str, Field(min_length=1, max_length=64)]
    origin_seq: Annotated[int, Field(ge=1)]
    hlc: Annotated[str, Field(pattern=HLC_PATTERN)]
    entity: Annotated[str, Field(min_length=1, max_length=32)]
    entity_id: Annotated[str, Field(min_length=1, max_length=160)]
    op: Annotated[str, Field(min_length=1, max_length=16)]
    payload: dict[str, Any]
    # Absent means false; a TypedDict has no defaults, so the schema states it.
    clock_suspect: NotRequired[Annotated[bool, Field(json_schema_extra={"default": False})]]


class LineageEntry(Body):
    node_id: Annotated[str, Field(min_length=1, max_length=64)]
    through: Annotated[int, Field(ge=0, description="The last change of that node it shares.")]
    at: Annotated[int, Field(ge=0, description="When it left that node, in ms since 1970.")] = 0


class SyncPush(Body):
    protocol: Annotated[int, Field(description="Major protocol version; this hub speaks 1.")]
    node_id: Annotated[str, Field(min_length=1, max_length=64)]
    changes: Annotated[list[WireChange], Field(max_length=MAX_PUSH_CHANGES)]
    lineage: Annotated[
        list[LineageEntry],
        Field(
            max_length=1000,
            description="The node ids this database had before it was restored or copied, "
            "oldest first (SYNC.md §3a). A sync key bound to one of them serves this node.",
        ),
    ] = []
    lineage_token: Annotated[
        str | None,
        Field(
            min_length=16,
            max_length=128,
            description="A secret made with the database and copied with it: it shows the "
            "hub that this node descends from the node its sync key was bound to.",
        ),  # fmt: skip
    ] = None

    @model_validator(mode="before")
    @classmethod
    def _known_protocol(cls, data: Any) -> Any:
        # Checked before the shape: a newer protocol may shape its body differently, and the
        # node must learn that it is the protocol (409), not a field (422). ApiErrors are not
        # ValueErrors, so pydantic lets this one through to the error handler.
        from app.web.errors import ProtocolMismatch

        if isinstance(data, dict) and data.get("protocol") != SYNC_PROTOCOL:
            raise ProtocolMismatch(
                f"This hub speaks sync protocol {SYNC_PROTOCOL}; upgrade the older side.",
                extra={"expected_protocol": SYNC_PROTOCOL},
            )
        return data


class SyncPullQuery(Query):
    cursor: str | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 500
    node_id: Annotated[str, Field(max_length=64)] | None = None
    # Leave out the puller's own changes (it holds them); older hubs ignore this.
    skip_own: bool = False
