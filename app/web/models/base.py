"""What every request model shares: Body and Query bases, instants, names, metadata, limits.

Also the rule errors that name their field.

Every field error is reported at once, each naming its field. Unknown body fields are errors
(a typo must not be dropped silently); unknown query parameters are ignored.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from app.core import json_codec
from app.core.times import INSTANT_PATTERN, in_range, is_instant

METADATA_MAX_BYTES = 16 * 1024
METADATA_MAX_DEPTH = 32


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


# The schema's pattern is the seed's with the accepted years (1900 to 8999) in front and ASCII
# digits spelled out: JSON Schema can say both, so a client or fuzzer that follows the schema
# sends only instants the server takes. Validation keeps the seed's own pattern, then checks
# the year with its own message.
SCHEMA_INSTANT_PATTERN = "^(?=(?:19|[2-8][0-9])[0-9]{2}-)" + INSTANT_PATTERN[1:].replace(
    r"\d", "[0-9]"
)
INSTANT_SCHEMA = {"format": "date-time", "pattern": SCHEMA_INSTANT_PATTERN}
Instant = Annotated[
    str,
    Field(
        pattern=INSTANT_PATTERN,
        json_schema_extra=INSTANT_SCHEMA,
        description="UTC, ISO 8601 with Z, years 1900 to 8999.",
    ),
    AfterValidator(_exact_instant),
]
# A name must hold something besides spaces: `\S` anywhere (JSON Schema patterns search).
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=256),
    Field(json_schema_extra={"pattern": r"\S"}),
    AfterValidator(_not_blank),
]
Metadata = Annotated[dict[str, Any], AfterValidator(_small_json)]
Limit = Annotated[int, Field(ge=1, le=100)]
Id = Annotated[str, Field(min_length=1, max_length=64)]  # a record's id, as a field


def rule_error(field: str, message: str) -> PydanticCustomError:
    """A model-level rule's error that still names the field it is about."""
    return PydanticCustomError("field_rule", message, {"rule_field": field})
