"""Customers (API.md §3): create, patch and list; the type-ahead search (§8)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from app.web.models.base import Body, Limit, Metadata, Name, Query

# Copied verbatim from the customers seed.
EMAIL_PATTERN = (
    r"^(?!\.)(?!.*\.\.)([A-Za-z0-9_'+\-\.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+"
    r"[A-Za-z]{2,}$"
)


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


Email = Annotated[str, Field(pattern=EMAIL_PATTERN, max_length=320)]
MAX_TAGS, MAX_TAG_CHARS = 50, 64
Tag = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TAG_CHARS)]
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS), AfterValidator(_unique)]


class CustomerCreate(Body):
    """A customer. `metadata` is at most 16 KiB as JSON; duplicate tags collapse."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Ada Lovelace", "email": "ada@example.com", "tags": ["vip"]}]
        }
    )

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
        None,
        description=f"Comma-separated; customers having all of them (at most {MAX_TAGS} tags "
        f"of {MAX_TAG_CHARS} characters).",
    )
    limit: Limit = 25
    cursor: str | None = None


MAX_SUGGESTIONS = 25


class CustomerSearchQuery(Query):
    q: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_SEARCH_CHARS,
            description=(
                "A few letters of a name (any word of it), the start of an email, "
                "or a phone number written any common way (read in the shop's country)."
            ),
        ),
    ]
    limit: Annotated[int, Field(ge=1, le=MAX_SUGGESTIONS)] = 10
