"""Blockers (API.md §5) for the web: request models in, JSON out."""

from __future__ import annotations

from typing import Any

from app.core.times import parse_instant
from app.domain import Precondition, blockers, pagination
from app.store import Connection
from app.web import presenters
from app.web.errors import refusals_as_api_errors
from app.web.models.blockers import BlockerCreate, BlockerListQuery

Json = dict[str, Any]


def new_blocker(payload: BlockerCreate) -> blockers.NewBlocker:
    return blockers.NewBlocker(
        resource_id=payload.resource_id,
        start=parse_instant(payload.start_time),
        end=parse_instant(payload.end_time),
        title=payload.title,
        all_day=payload.all_day,
        recurrence=payload.recurrence_json(),
        metadata=payload.metadata,
    )


@refusals_as_api_errors
def create(db: Connection, payload: BlockerCreate) -> tuple[Json, list[str]]:
    """The new blocker's JSON and the ids of active bookings it covers."""
    blocker, covered = blockers.create(db, new_blocker(payload))
    return presenters.blocker(blocker), covered


@refusals_as_api_errors
def get(db: Connection, blocker_id: str) -> Json:
    return presenters.blocker(blockers.get(db, blocker_id))


@refusals_as_api_errors
def delete(db: Connection, blocker_id: str, precondition: Precondition = None) -> Json:
    return presenters.blocker(blockers.delete(db, blocker_id, precondition=precondition))


def list_page(db: Connection, query: BlockerListQuery, secret: str) -> tuple[list[Json], Json]:
    """Blockers in id order; with a window, only those occurring in it, with their occurrences."""
    after_id = pagination.decode(secret, "blockers", query.cursor)
    found = blockers.find(
        db,
        after_id=after_id,
        limit=query.limit + 1,
        resource_id=query.resource_id,
        start=parse_instant(query.from_) if query.from_ else None,
        end=parse_instant(query.to) if query.to else None,
    )
    rows, meta = pagination.page(found, query.limit, secret, "blockers", lambda pair: pair[0]["id"])
    return [presenters.blocker(blocker, hits) for blocker, hits in rows], meta
