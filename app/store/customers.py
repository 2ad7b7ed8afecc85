"""Customers: the booking API's and ShingleAI's (/v1), one table, synced field by field."""

from __future__ import annotations

from typing import Any

from app.store.connection import Connection
from app.store.errors import RowMissing
from app.store.lww import delete_local, upsert_local
from app.store.rows import CUSTOMER_JSON_COLUMNS, Missing, decode, get, like


def insert_customer(db: Connection, customer: dict[str, Any]) -> None:
    """Insert a customer and its `upsert` change (all fields). Call inside a transaction."""
    upsert_local(db, "customer", customer["id"], customer, new=True)


def get_customer(db: Connection, customer_id: str, missing: Missing = RowMissing) -> dict:
    """The customer, soft-deleted or not; raises `missing` (RowMissing) for an unknown id."""
    return get(db, "customers", customer_id, CUSTOMER_JSON_COLUMNS, missing)


def update_customer(db: Connection, customer_id: str, changes: dict[str, Any]) -> None:
    """Write the changed fields and an `upsert` change carrying only them."""
    upsert_local(db, "customer", customer_id, changes)


def delete_customer(db: Connection, customer_id: str) -> None:
    """Remove a customer for good and record the tombstone."""
    delete_local(db, "customer", customer_id)


def count_customers(db: Connection) -> int:
    """How many customers are not soft-deleted."""
    return db.scalar("SELECT COUNT(*) FROM customers WHERE deleted_at IS NULL")


def list_customers(
    db: Connection,
    *,
    after_id: str | None,
    limit: int,
    offset: int = 0,
    email: str | None = None,
    q: str | None = None,
    tags: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Customers in id (creation) order after `after_id`, skipping `offset`; up to `limit` rows.

    Soft-deleted customers (ShingleAI DELETE) are left out of every list.
    """
    where, params = ["deleted_at IS NULL"], []
    if after_id is not None:
        where.append("id > ?")
        params.append(after_id)
    if email is not None:
        where.append("lower(email) = lower(?)")
        params.append(email)
    if q:
        searched = ("name", "email", "phone", "external_id")
        where.append("(" + " OR ".join(db.dialect.contains_text(c) for c in searched) + ")")
        params.extend([like(q)] * len(searched))
    for tag in tags or []:
        where.append(db.dialect.json_array_contains("customers.tags"))
        params.append(tag)
    sql = f"SELECT * FROM customers WHERE {' AND '.join(where)} ORDER BY id LIMIT ? OFFSET ?"
    rows = db.query(sql, [*params, limit, offset])
    return [decode(row, CUSTOMER_JSON_COLUMNS) for row in rows]
