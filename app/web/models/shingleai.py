"""ShingleAI-compatible customers (API.md §6): create, patch and list in their camelCase shape."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from app.web.models.base import Body, Instant, Limit, Metadata, Name, Query
from app.web.models.parsing import PATTERN_HINTS

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


# ShingleAI's own example request, verbatim: it must work as sent.
SEED_EXAMPLE = {
    "businessId": UUID_EXAMPLE,
    "type": "<string>",
    "contactId": UUID_EXAMPLE,
    "name": "<string>",
    "email": "<string>",
    "phone": "<string>",
    "notes": "<string>",
    "status": "<string>",
    "customerSince": "2023-11-07T05:31:56Z",
    "data": {},
}


class ShingleCustomerCreate(Body):
    """A ShingleAI customer; every field but `name` may be left out or null (`data`: not null)."""

    model_config = ConfigDict(json_schema_extra={"examples": [SEED_EXAMPLE]})

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
