"""Request and response models for the counter's routes: closures and customer search.

API.md §8: shop-wide closures and the customers' type-ahead search. Kept apart from
validation.py and schemas.py, which hold the seed routes' models; the same conventions apply
(unknown body fields are 422).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from app.web.models.base import Body, Instant, Metadata, Query
from app.web.models.blockers import Recurrence
from app.web.models.customers import MAX_SEARCH_CHARS
from app.web.schemas import Blocker

MAX_SUGGESTIONS = 25


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


class Closure(BaseModel):
    """What a closure made: one blocker per resource, in resource order."""

    blockers: list[Blocker]


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
