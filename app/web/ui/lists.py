"""Whole lists for the pages, read through the domain's paged reads as an API client would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from app.store import Connection
from app.web.api import cursor_secret, db
from app.web.errors import NotFound
from app.web.models.parsing import validate
from app.web.models.resources import ResourceListQuery
from app.web.routes.services import resources

PAGE_ROWS = 100  # the API's largest page; pages that show "all" of something walk the cursors
MAX_ROWS = 1000  # a shop has a few resources and blockers; this bounds a page's work anyway

Rows = list[dict[str, Any]]


def every(
    list_page: Callable[[Connection, Any, str], tuple[Rows, dict[str, Any]]],
    model: type[BaseModel],
    params: dict[str, Any],
    cap: int = MAX_ROWS,
) -> Rows:
    """Every row of a domain list (up to `cap`), walking its cursors as an API client would."""
    rows: Rows = []
    cursor = None
    while True:
        query = validate(model, {**params, "limit": PAGE_ROWS, "cursor": cursor})
        page, meta = list_page(db(), query, cursor_secret())
        rows += page
        cursor = meta["next_cursor"]
        if not meta["has_more"] or len(rows) >= cap:
            return rows[:cap]


def all_resources() -> Rows:
    return every(resources.list_page, ResourceListQuery, {})


def shop_zone(resource_rows: Rows) -> str:
    """The day view's time zone: the first resource's (a shop's resources share one)."""
    return resource_rows[0]["timezone"] if resource_rows else "UTC"


def or_none(getter: Callable[[Connection, str], dict[str, Any]], record_id: str | None) -> Any:
    """A record, or None when it was deleted (bookings keep ids of deleted customers)."""
    if not record_id:
        return None
    try:
        return getter(db(), record_id)
    except NotFound:
        return None
