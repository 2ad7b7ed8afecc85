"""Closures for the whole shop (API.md §8): one blocker for every resource, in one transaction.

Each is an ordinary blocker of its resource (synced, listed and deleted like any other), shaped
in that resource's time zone, so an all-day closure covers each resource's own local days.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from app import store
from app.domain import blockers
from app.domain.errors import InvalidState
from app.store import Connection

# A shop has a handful of resources; this bounds one request's work all the same.
MAX_RESOURCES = 1000


def create(db: Connection, template: blockers.NewBlocker) -> tuple[list[dict[str, Any]], list[str]]:
    """A blocker like `template` (whose resource_id is ignored) on every resource; return them
    in resource order, and the ids of active bookings they now cover (staff call those).

    Raises InvalidState when the shop has no resource, InvalidInput for a rule dateutil cannot
    use; either way nothing is made.
    """
    resources = store.list_resources(db, after_id=None, limit=MAX_RESOURCES)
    if not resources:
        raise InvalidState("The shop has no resources to close yet; add one first.")
    # Check the rule once before taking the write lock, as blockers.create does: dateutil can
    # take long to refuse a pathological rule, and other writers must not wait on that.
    _shape(template, resources[0])
    made: list[dict[str, Any]] = []
    covered: list[str] = []
    with store.transaction(db):
        for resource in store.list_resources(db, after_id=None, limit=MAX_RESOURCES):
            blocker = _shape(template, resource)
            covered += blockers.covered_bookings(db, blocker, resource)
            store.insert_blocker(db, blocker)
            made.append(blocker)
    if not made:
        raise InvalidState("The shop has no resources to close yet; add one first.")
    return made, covered


def _shape(template: blockers.NewBlocker, resource: dict[str, Any]) -> dict[str, Any]:
    """The blocker rules' own shaping for this resource: all-day widening in its zone, and the
    rule's bounds (InvalidInput)."""
    new = replace(template, resource_id=resource["id"])
    return blockers.new_blocker(new, resource["timezone"])
