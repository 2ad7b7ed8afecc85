"""Services (API.md §8): what a shop sells, with its length, price, buffer and resources.

A booking may name one: the service sets the booking's default length, and the booking keeps
the service's price and buffer as they were when it was made.

Prices are integer minor units of an ISO 4217 currency (4500 EUR is €45.00). Takes and returns
plain rows; synced per field like resources (app/store/services.py).
"""

from __future__ import annotations

from typing import Any

from app import store
from app.core.ids import new_id
from app.core.times import wall_ms
from app.domain import Precondition
from app.domain import check as _check
from app.domain.errors import ServiceNotOffered, UnknownService
from app.store import Connection
from app.store import services as service_store

Service = dict[str, Any]


def create(db: Connection, fields: dict[str, Any]) -> Service:
    now = wall_ms()
    service = {"id": new_id("svc"), **fields, "created_at": now, "updated_at": now}
    with store.transaction(db):
        service_store.insert_service(db, service)
    return service


def get(db: Connection, service_id: str) -> Service:
    """Raises store.RowMissing."""
    return service_store.get_service(db, service_id)


def update(
    db: Connection, service_id: str, sent: dict[str, Any], *, precondition: Precondition = None
) -> Service:
    """Apply the fields sent; unchanged values write nothing. Raises store.RowMissing."""
    with store.transaction(db):
        _check(precondition)
        service = service_store.get_service(db, service_id)
        changes = {name: value for name, value in sent.items() if service[name] != value}
        if changes:
            changes["updated_at"] = max(wall_ms(), service["updated_at"])
            service_store.update_service(db, service_id, changes)
            service.update(changes)
    return service


def delete(db: Connection, service_id: str, *, precondition: Precondition = None) -> Service:
    """Remove the service for good; bookings made for it keep its id, price and buffer."""
    with store.transaction(db):
        _check(precondition)
        service = service_store.get_service(db, service_id)
        service_store.delete_service(db, service_id)
    return service


def find(
    db: Connection,
    *,
    after_id: str | None,
    limit: int,
    q: str | None = None,
    resource_id: str | None = None,
) -> list[Service]:
    """Up to `limit` services in creation order after `after_id`, filtered."""
    return service_store.list_services(
        db, after_id=after_id, limit=limit, q=q, resource_id=resource_id
    )


def performs(service: Service, resource_id: str) -> bool:
    """A service naming no resources is performed by every one."""
    return not service["resource_ids"] or resource_id in service["resource_ids"]


def offered(db: Connection, service_id: str | None, resource: dict[str, Any]) -> Service | None:
    """The service a booking names on `resource` (None if it names none).

    Raises UnknownService, or ServiceNotOffered when the resource does not perform it.
    """
    if service_id is None:
        return None
    service = service_store.get_service(db, service_id, missing=UnknownService)
    if not performs(service, resource["id"]):
        raise ServiceNotOffered(
            f"{resource['name']} does not perform {service['name']}; book it on a resource "
            "that does, or change the service's resources.",
            details=[{"field": "service_id", "message": f"Not performed by {resource['id']}."}],
        )
    return service


def taken_by_booking(service: Service | None) -> dict[str, Any]:
    """What a booking keeps of its service, so later edits of the service leave it alone."""
    if service is None:
        return {}
    return {
        "service_id": service["id"],
        "price_minor": service["price_minor"],
        "currency": service["currency"],
        "buffer_minutes": service["buffer_minutes"],
    }
