"""Services of the counter's own pages: staff, shop settings, a customer's history and notes.

The domain's refusals become the ApiErrors the pages show by their fields. There is no API for
these.
"""

from __future__ import annotations

from typing import Any

from app.domain import customer_history, customers, shop_settings, staff
from app.store import Connection
from app.web.errors import refusals_as_api_errors
from app.web.models.parsing import validate
from app.web.models.shingleai import ShingleCustomerPatch

create_staff = refusals_as_api_errors(staff.create)
change_staff = refusals_as_api_errors(staff.change)
unlock_staff = refusals_as_api_errors(staff.unlock)
remove_staff = refusals_as_api_errors(staff.remove)
update_shop_settings = refusals_as_api_errors(shop_settings.update)


@refusals_as_api_errors
def customer_history_page(
    db: Connection, customer_id: str, before_id: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    return customer_history.page(db, customer_id, before_id=before_id, limit=limit)


@refusals_as_api_errors
def customer_notes(db: Connection, customer_id: str) -> str | None:
    """The customer's notes (the ShingleAI field, shared by both APIs' rows)."""
    return customers.get(db, customer_id)["notes"]


@refusals_as_api_errors
def save_customer_notes(db: Connection, customer_id: str, notes: str | None) -> None:
    """Notes as /v1/customers PATCH takes them (at most 2,000 characters; empty clears)."""
    validate(ShingleCustomerPatch, {"notes": notes})
    customers.update(db, customer_id, {"notes": notes})
