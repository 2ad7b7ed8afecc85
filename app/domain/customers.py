"""Customers (API.md §3): create, read, patch, delete, and the filtered, paginated list."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from app import pagination, storage
from app.ids import new_id
from app.times import format_instant, wall_ms
from app.validation import CustomerCreate, CustomerListQuery, CustomerPatch

FIELDS = ("id", "name", "external_id", "phone", "email", "tags", "metadata")


def to_json(customer: dict[str, Any]) -> dict[str, Any]:
    return {
        **{name: customer[name] for name in FIELDS},
        "created_at": format_instant(customer["created_at"]),
        "updated_at": format_instant(customer["updated_at"]),
    }


def create(db: Database, payload: CustomerCreate) -> dict[str, Any]:
    """Insert a new customer (and its change row); return its JSON."""
    now = wall_ms()
    customer = {"id": new_id("cus"), **payload.model_dump(), "created_at": now, "updated_at": now}
    with storage.transaction(db):
        # Stamped as a column so /v1 shows it and it syncs with the customer (API.md §6).
        customer["organization_id"] = storage.organization_id(db)
        storage.insert_customer(db, customer)
    return to_json(customer)


def get(db: Database, customer_id: str) -> dict[str, Any]:
    """The customer's JSON; raises NotFound."""
    return to_json(storage.get_customer(db, customer_id))


def update(db: Database, customer_id: str, payload: CustomerPatch) -> dict[str, Any]:
    """Apply the fields the client sent; unchanged values write nothing. Raises NotFound."""
    sent = {name: getattr(payload, name) for name in payload.model_fields_set}
    with storage.transaction(db):
        customer = storage.get_customer(db, customer_id)
        changes = {name: value for name, value in sent.items() if customer[name] != value}
        if changes:
            changes["updated_at"] = max(wall_ms(), customer["updated_at"])
            storage.update_customer(db, customer_id, changes)
            customer.update(changes)
    return to_json(customer)


def delete(db: Database, customer_id: str) -> dict[str, Any]:
    """Remove the customer for good; bookings keep `customer_id` as a plain reference."""
    with storage.transaction(db):
        customer = storage.get_customer(db, customer_id)
        storage.delete_customer(db, customer_id)
    return to_json(customer)


def list_page(
    db: Database, query: CustomerListQuery, secret: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of customers in creation order, with `meta` for the next."""
    after_id = pagination.decode(secret, "customers", query.cursor)
    tags = [tag.strip() for tag in (query.tags or "").split(",") if tag.strip()]
    rows = storage.list_customers(
        db, after_id=after_id, limit=query.limit + 1, email=query.email, q=query.q, tags=tags
    )
    rows, meta = pagination.page(rows, query.limit, secret, "customers", lambda row: row["id"])
    return [to_json(row) for row in rows], meta
