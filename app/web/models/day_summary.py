"""The day summary (API.md §8): the query naming the day and, optionally, one resource."""

from __future__ import annotations

import datetime
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from app.web.models.base import Id, Query


def _calendar_day(value: str) -> str:
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("day", "Use a calendar day such as 2030-01-07.") from None
    if not 1900 <= day.year <= 8999:
        raise PydanticCustomError("day", "Use a day from year 1900 to 8999.")
    return value


Day = Annotated[
    str,
    Field(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2030-01-07"]),
    AfterValidator(_calendar_day),
]


class DaySummaryQuery(Query):
    date: Day = Field(description="The day, in each resource's own time zone.")
    resource_id: Id | None = None

    def day(self) -> datetime.date:
        return datetime.date.fromisoformat(self.date)
