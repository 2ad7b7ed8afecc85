"""ShingleAI-compatible customers (API.md §6): the booking module's customers in ShingleAI's shape.

One store: a /v1 customer is a row of `customers`, so both APIs see the same records. The
mapping, native ↔ ShingleAI:

    id (cus_<ULID>)   ↔ id (the same 128 bits as a UUID)
    metadata          ↔ data
    name, email, phone  as they are
    business_id, contact_id, type, notes, status, customer_since, deleted_at, organization_id
                      ↔ their camelCase names; columns of their own, so they sync as fields

DELETE here is a soft delete: `deleted_at` is set by an ordinary `upsert` change, so it syncs
like any field, and the customer drops out of both APIs' lists.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlite_utils import Database
from ulid import ULID

from app import storage
from app.errors import NotFound
from app.ids import new_id
from app.times import format_instant, format_optional, parse_instant, wall_ms
from app.validation import ShingleCustomerCreate, ShingleCustomerListQuery, ShingleCustomerPatch

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
PREFIX = "cus_"


def public_id(customer_id: str) -> str:
    """The UUID a ShingleAI client sees for the customer `cus_<ULID>`."""
    return str(ULID.from_str(customer_id.removeprefix(PREFIX)).to_uuid())


def native_id(value: str) -> str:
    """The `cus_` id named by a path id in UUID or `cus_` form; raises NotFound otherwise."""
    if value.startswith(PREFIX):
        return value
    if _UUID.fullmatch(value):
        return PREFIX + str(ULID.from_uuid(uuid.UUID(value)))
    raise NotFound(f"No customer has the id {value!r}.")


def to_json(customer: dict[str, Any], organization_id: str) -> dict[str, Any]:
    """The ShingleAI JSON of a customer row, in the seed's field order.

    `organization_id` stands in for rows made before the column existed.
    """
    return {
        "id": public_id(customer["id"]),
        "createdAt": format_instant(customer["created_at"]),
        "updatedAt": format_instant(customer["updated_at"]),
        "deletedAt": format_optional(customer["deleted_at"]),
        "organizationId": customer["organization_id"] or organization_id,
        "businessId": customer["business_id"],
        "contactId": customer["contact_id"],
        "type": customer["type"],
        "name": customer["name"],
        "email": customer["email"],
        "phone": customer["phone"],
        "notes": customer["notes"],
        "status": customer["status"],
        "customerSince": format_optional(customer["customer_since"]),
        "data": customer["metadata"],
    }


def _columns(fields: dict[str, Any]) -> dict[str, Any]:
    """Model fields as column values: the models' field names are the column names."""
    if fields.get("customer_since") is not None:
        fields["customer_since"] = parse_instant(fields["customer_since"])
    return fields


def _get(db: Database, path_id: str) -> dict[str, Any]:
    try:
        return storage.get_customer(db, native_id(path_id))
    except NotFound:
        # Name the id the client sent: a ShingleAI client never saw the cus_ form.
        raise NotFound(f"No customer has the id {path_id!r}.") from None


def _live(db: Database, path_id: str) -> dict[str, Any]:
    customer = _get(db, path_id)
    if customer["deleted_at"] is not None:
        raise NotFound(f"The customer {path_id!r} has been deleted.")
    return customer


def create(db: Database, payload: ShingleCustomerCreate) -> dict[str, Any]:
    """Insert a customer (and its `upsert` change with every column); return its ShingleAI JSON."""
    now = wall_ms()
    customer: dict[str, Any] = {
        "id": new_id("cus"),
        "external_id": None,
        "tags": [],
        **_columns(payload.model_dump()),
        "deleted_at": None,
        "created_at": now,
        "updated_at": now,
    }
    with storage.transaction(db):
        customer["organization_id"] = storage.organization_id(db)
        storage.insert_customer(db, customer)
    return to_json(customer, customer["organization_id"])


def get(db: Database, path_id: str) -> dict[str, Any]:
    """The customer's ShingleAI JSON, soft-deleted or not. Raises NotFound."""
    return to_json(_get(db, path_id), storage.organization_id(db))


def update(db: Database, path_id: str, payload: ShingleCustomerPatch) -> dict[str, Any]:
    """Apply the fields the client sent; unchanged values write nothing.

    Raises NotFound, also for a soft-deleted customer (it is gone as far as /v1 is concerned).
    """
    sent = _columns(payload.model_dump(include=payload.model_fields_set))
    with storage.transaction(db):
        customer = _live(db, path_id)
        changes = {name: value for name, value in sent.items() if customer[name] != value}
        if changes:
            changes["updated_at"] = max(wall_ms(), customer["updated_at"])
            storage.update_customer(db, customer["id"], changes)
            customer.update(changes)
        organization_id = storage.organization_id(db)
    return to_json(customer, organization_id)


def delete(db: Database, path_id: str) -> dict[str, Any]:
    """Soft-delete: set `deleted_at` (an `upsert` change, so it syncs as a field).

    Raises NotFound for an unknown or already deleted customer.
    """
    with storage.transaction(db):
        customer = _live(db, path_id)
        now = max(wall_ms(), customer["updated_at"])
        changes = {"deleted_at": now, "updated_at": now}
        storage.update_customer(db, customer["id"], changes)
        customer.update(changes)
        organization_id = storage.organization_id(db)
    return to_json(customer, organization_id)


def list_page(
    db: Database, query: ShingleCustomerListQuery
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One offset page of customers that are not deleted, oldest first, with `meta.pagination`."""
    rows = storage.list_customers(db, after_id=None, limit=query.limit, offset=query.offset)
    total = storage.count_customers(db)
    organization_id = storage.organization_id(db)
    pagination = {
        "limit": query.limit,
        "offset": query.offset,
        "hasMore": query.offset + len(rows) < total,
        "total": total,
    }
    return [to_json(row, organization_id) for row in rows], {"pagination": pagination}
