"""The day view's figures: bookings by status and the completed total, from the day summary."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.web.api import db
from app.web.models.day_summary import DaySummaryQuery
from app.web.models.parsing import validate
from app.web.routes.services import shop_services


def day_figures(shown: date) -> dict[str, Any]:
    """The day summary of `shown` (each resource's own day)."""
    query = validate(DaySummaryQuery, {"date": shown.isoformat()})
    return shop_services.summary(db(), query)
