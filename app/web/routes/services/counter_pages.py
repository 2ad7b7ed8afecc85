"""The counter pages' own services (staff, shop settings, a customer's history): the domain's
refusals as the ApiErrors the pages show by their fields. There is no API for these."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from app.domain import customer_history, shop_settings, staff
from app.web.errors import refusals_as_api_errors

create_staff = refusals_as_api_errors(staff.create)
change_staff = refusals_as_api_errors(staff.change)
unlock_staff = refusals_as_api_errors(staff.unlock)
remove_staff = refusals_as_api_errors(staff.remove)
update_shop_settings = refusals_as_api_errors(shop_settings.update)


@refusals_as_api_errors
def customer_history_page(
    db: Database, customer_id: str, before_id: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    return customer_history.page(db, customer_id, before_id=before_id, limit=limit)
