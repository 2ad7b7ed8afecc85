"""Customers (API.md §3): create, read, patch, delete, and the filtered list.

Takes and returns plain rows (instants in ms); the web layer shapes them as JSON.
"""

from __future__ import annotations

import re
from typing import Any

from app import store
from app.core import customer_ids
from app.core.ids import new_id
from app.core.times import wall_ms
from app.domain import Precondition, messages
from app.domain import check as _check
from app.store import Connection

Customer = dict[str, Any]
PREFIX = customer_ids.PREFIX
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
public_id = customer_ids.to_uuid  # the UUID the /v1 API shows for a `cus_` id


def resolve_id(db: Connection, value: str) -> str | None:
    """The `cus_` id a client's customer id names: `value` itself, unless it is a UUID (the
    /v1 form), then the customer it names; of two possible readings, the one that exists.
    None for a string that is neither form."""
    if not _UUID.fullmatch(value):
        return None if not value.startswith(PREFIX) else value
    found = customer_ids.candidates(value)
    for candidate in found:
        try:
            store.get_customer(db, candidate)
        except store.RowMissing:
            continue
        return candidate
    return found[0]


def own_id(db: Connection, value: str) -> str:
    """The `cus_` id for `value` in either form; `value` unchanged when it is neither (so that
    the lookup that follows answers not found, or unknown customer, as for any other id)."""
    return resolve_id(db, value) or value


def create(db: Connection, fields: dict[str, Any]) -> Customer:
    """Insert a new customer from its fields (and its change row); return the row."""
    with store.transaction(db):
        return create_in_transaction(db, fields)


def create_in_transaction(db: Connection, fields: dict[str, Any]) -> Customer:
    """create() inside the caller's transaction (an import makes many customers in one)."""
    now = wall_ms()
    customer = {"id": new_id("cus"), **fields, "created_at": now, "updated_at": now}
    # Stamped as a column so /v1 shows it and it syncs with the customer (API.md §6).
    customer["organization_id"] = store.organization_id(db)
    store.insert_customer(db, customer)
    messages.customer_changed(db, "customer.created", customer)
    return customer


def get(db: Connection, customer_id: str) -> Customer:
    """The customer's row; raises store.RowMissing."""
    return store.get_customer(db, own_id(db, customer_id))


def update(
    db: Connection, customer_id: str, sent: dict[str, Any], *, precondition: Precondition = None
) -> Customer:
    """Apply the fields sent; unchanged values write nothing. Raises store.RowMissing."""
    customer_id = own_id(db, customer_id)
    with store.transaction(db):
        _check(precondition)
        return update_in_transaction(db, store.get_customer(db, customer_id), sent)


def update_in_transaction(db: Connection, customer: Customer, sent: dict[str, Any]) -> Customer:
    """update() of a customer already read, inside the caller's transaction."""
    changes = {name: value for name, value in sent.items() if customer[name] != value}
    if changes:
        changes["updated_at"] = max(wall_ms(), customer["updated_at"])
        store.update_customer(db, customer["id"], changes)
        customer = {**customer, **changes}
        messages.customer_changed(db, "customer.updated", customer)
    return customer


def delete(db: Connection, customer_id: str, *, precondition: Precondition = None) -> Customer:
    """Remove the customer for good; bookings keep `customer_id` as a plain reference."""
    customer_id = own_id(db, customer_id)
    with store.transaction(db):
        _check(precondition)
        customer = store.get_customer(db, customer_id)
        store.delete_customer(db, customer_id)
        messages.customer_changed(db, "customer.deleted", customer)
    return customer


def find(
    db: Connection,
    *,
    after_id: str | None,
    limit: int,
    email: str | None = None,
    q: str | None = None,
    tags: list[str] | None = None,
) -> list[Customer]:
    """Up to `limit` customers in creation order after `after_id`, filtered."""
    return store.list_customers(
        db, after_id=after_id, limit=limit, email=email, q=q, tags=tags or []
    )
