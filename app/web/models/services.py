"""Services (API.md §8): what a shop sells; create, patch and list."""

from __future__ import annotations

from typing import Annotated

from babel.numbers import list_currencies
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from app.web.models.base import Body, Id, Limit, Metadata, Name, Query
from app.web.models.bookings import Minutes
from app.web.models.customers import Search

MAX_PRICE_MINOR = 10**12  # ten billion in a two-decimal currency: more than any one service


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
