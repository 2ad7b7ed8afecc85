"""ShingleAI-compatible customers (API.md §6): the module's customers in ShingleAI's shape.

One store: a /v1 customer is a row of `customers`, so both APIs see the same records. The
mapping, native ↔ ShingleAI:

    id (cus_<ULID>)   ↔ id (a valid RFC 9562 UUID; app/core/customer_ids.py)
    metadata          ↔ data
    name, email, phone  as they are
    business_id, contact_id, type, notes, status, customer_since, deleted_at, organization_id
                      ↔ their camelCase names; columns of their own, so they sync as fields

DELETE here is a soft delete: `deleted_at` is set by an ordinary `upsert` change, so it syncs
like any field, and the customer drops out of both APIs' lists.
"""

from __future__ import annotations

from typing import Any

from app import store
from app.core.ids import new_id
from app.core.times import wall_ms
from app.domain import Precondition, messages
from app.domain import check as _check
from app.domain.customers import PREFIX, public_id, resolve_id
from app.domain.errors import NotFound
from app.store import Connection

__all__ = ["public_id", "native_id"]


def native_id(db: Connection, value: str) -> str:
    """The `cus_` id named by a path id in UUID or `cus_` form; raises NotFound otherwise."""
    if value.startswith(PREFIX):
        return value
    resolved = resolve_id(db, value)
    if resolved is None:
        raise NotFound(f"No customer has the id {value!r}.")
    return resolved


def _with_organization(customer: dict[str, Any], organization_id: str) -> dict[str, Any]:
    """The row with `organization_id` filled for rows made before the column existed."""
    return {**customer, "organization_id": customer["organization_id"] or organization_id}


def _get(db: Connection, path_id: str) -> dict[str, Any]:
    try:
        return store.get_customer(db, native_id(db, path_id))
    except store.RowMissing:
        # Name the id the client sent: a ShingleAI client never saw the cus_ form.
        raise NotFound(f"No customer has the id {path_id!r}.") from None


def _live(db: Connection, path_id: str) -> dict[str, Any]:
    customer = _get(db, path_id)
    if customer["deleted_at"] is not None:
        raise NotFound(f"The customer {path_id!r} has been deleted.")
    return customer


def create(db: Connection, fields: dict[str, Any]) -> dict[str, Any]:
    """Insert a customer (and its `upsert` change with every column); return its row.

    `fields` are column values (instants in ms), named as the columns are.
    """
    now = wall_ms()
    customer: dict[str, Any] = {
        "id": new_id("cus"),
        "external_id": None,
        "tags": [],
        **fields,
        "deleted_at": None,
        "created_at": now,
        "updated_at": now,
    }
    with store.transaction(db):
        customer["organization_id"] = store.organization_id(db)
        store.insert_customer(db, customer)
        messages.customer_changed(db, "customer.created", customer)
    return customer


def get(db: Connection, path_id: str) -> dict[str, Any]:
    """The customer's row, soft-deleted or not. Raises NotFound."""
    return _with_organization(_get(db, path_id), store.organization_id(db))


def update(
    db: Connection, path_id: str, sent: dict[str, Any], *, precondition: Precondition = None
) -> dict[str, Any]:
    """Apply the columns sent; unchanged values write nothing.

    Raises NotFound, also for a soft-deleted customer (it is gone as far as /v1 is concerned).
    """
    with store.transaction(db):
        _check(precondition)
        customer = _live(db, path_id)
        changes = {name: value for name, value in sent.items() if customer[name] != value}
        if changes:
            changes["updated_at"] = max(wall_ms(), customer["updated_at"])
            store.update_customer(db, customer["id"], changes)
            customer.update(changes)
            messages.customer_changed(db, "customer.updated", customer)
        organization_id = store.organization_id(db)
    return _with_organization(customer, organization_id)


def delete(db: Connection, path_id: str, *, precondition: Precondition = None) -> dict[str, Any]:
    """Soft-delete: set `deleted_at` (an `upsert` change, so it syncs as a field).

    Raises NotFound for an unknown or already deleted customer.
    """
    with store.transaction(db):
        _check(precondition)
        customer = _live(db, path_id)
        now = max(wall_ms(), customer["updated_at"])
        changes = {"deleted_at": now, "updated_at": now}
        store.update_customer(db, customer["id"], changes)
        customer.update(changes)
        messages.customer_changed(db, "customer.deleted", customer)
        organization_id = store.organization_id(db)
    return _with_organization(customer, organization_id)


def find(db: Connection, *, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """One offset page of customers that are not deleted, oldest first, and how many there are."""
    rows = store.list_customers(db, after_id=None, limit=limit, offset=offset)
    total = store.count_customers(db)
    organization_id = store.organization_id(db)
    return [_with_organization(row, organization_id) for row in rows], total
