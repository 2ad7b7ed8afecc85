"""Form fields to the API's request models, and a model's refusals back to the form's fields.

A form posts text; the API's models take typed JSON. These helpers turn one into the other
without deciding anything the model decides, so the model's own messages name the fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from app.core.times import format_instant, to_millis
from app.web.errors import ApiError, ValidationFailed
from app.web.models.parsing import validate
from app.web.ui.clocks import parse_clock, parse_date

# Stand-ins for times the form could not read, whose errors are already collected.
PLACEHOLDER_START, PLACEHOLDER_END = "2000-01-01T00:00:00Z", "2000-01-01T01:00:00Z"


def local_instant(day: str | None, clock: str | None, zone: ZoneInfo) -> str | None:
    """The UTC instant of a local date and a time typed in either clock, or None when either
    cannot be read."""
    on, at = parse_date(day), parse_clock(clock)
    if on is None or at is None:
        return None
    return format_instant(to_millis(datetime.combine(on, at, tzinfo=zone)))


def parse_day(text: str | None, zone: ZoneInfo) -> tuple[date, str | None]:
    """The day asked for, or today with the reason when it cannot be read."""
    today = datetime.now(zone).date()
    if not text:
        return today, None
    found = parse_date(text)
    if found is None:
        return today, "Use a date such as 2030-01-07; showing today instead."
    return found, None


def number(text: str | None) -> int | str | None:
    """A form's whole number as int; anything else as typed, so the model names the field."""
    text = (text or "").strip()
    if not text:
        return None
    return int(text) if re.fullmatch(r"-?\d{1,9}", text) else text


def text(form: Mapping[str, str], name: str) -> str | None:
    """A text field, or None when left empty (the API's "not given")."""
    value = form.get(name, "")
    return value if value.strip() else None


def validated(
    model: type[BaseModel],
    data: dict[str, Any],
    details: list[dict[str, str]],
    rename: Mapping[str, str] | None = None,
) -> Any:
    """`validate`, collecting its field errors into `details` (renamed to form fields)."""
    try:
        return validate(model, data)
    except ValidationFailed as error:
        for item in error.details:
            field = (rename or {}).get(item["field"], item["field"])
            details.append({**item, "field": field})
        return None


def field_errors(error: ApiError | None, fields: Iterable[str]) -> dict[str, list[str]]:
    """Each detail under the form field it names (the longest matching dotted prefix).

    A detail naming no field of the form stays in the summary at the top of the form.
    """
    if error is None:
        return {}
    names = sorted(fields, key=len, reverse=True)
    found: dict[str, list[str]] = {}
    for item in error.details:
        field = item.get("field", "")
        target = next((n for n in names if field == n or field.startswith(f"{n}.")), None)
        if target is not None:
            found.setdefault(target, []).append(item["message"])
    return found


def answer(page: str, error: ApiError | None) -> str | tuple[str, int]:
    """A page re-rendered for a refused form carries the refusal's status."""
    return (page, error.status) if error is not None else page
