"""Deciding messages: what a change to a booking or a customer tells customers and webhooks.

Called inside the transaction of the write that causes them (a booking made, moved,
cancelled, a customer changed; the hub's sync cancellation too), so a change and its messages
commit together or not at all, on whichever node makes the change, online or not. Each message
is a synced row (app.store.outbox) with an id of its own: it is decided once, where the change
is made, and sent once, by the one sending node (app.outbound.sender).

A message remembers the booking time it was decided for (`basis`). A move or a cancellation
marks the booking's pending messages superseded here, and the sender checks the basis against
the booking it holds before sending, so no message goes out for a time that no longer holds,
whichever node learns of the change first.
"""

from __future__ import annotations

from typing import Any

from app import store
from app.core.ids import new_id
from app.core.times import format_instant, wall_ms
from app.domain import messaging
from app.store import Connection, outbox
from app.store import webhooks as stored_webhooks

Booking = dict[str, Any]
CUSTOMER_CHANNELS = messaging.CHANNELS
ADDRESS_FIELD = {"email": "email", "sms": "phone"}  # where each channel finds its address
HOLDS_A_TIME = ("pending", "confirmed")  # bookings whose reminders still make sense
BOOKING_EVENTS = (
    "booking.created",
    "booking.updated",
    "booking.moved",
    "booking.deleted",
    "booking.confirmed",
    "booking.checked_in",
    "booking.completed",
    "booking.cancelled",
    "booking.no_show",
)
CUSTOMER_EVENTS = ("customer.created", "customer.updated", "customer.deleted")
EVENT_TYPES = BOOKING_EVENTS + CUSTOMER_EVENTS


def basis(booking: Booking) -> dict[str, Any]:
    """What a customer message was decided for: a message whose basis no longer matches the
    booking is not sent."""
    return {
        "start_time": booking["start_time"],
        "end_time": booking["end_time"],
        "resource_id": booking["resource_id"],
    }


def booking_json(booking: Booking) -> dict[str, Any]:
    """A booking as webhooks carry it: the API's fields, instants as UTC ISO text."""
    return {
        "id": booking["id"],
        "resource_id": booking["resource_id"],
        "customer_id": booking.get("customer_id"),
        "start_time": format_instant(booking["start_time"]),
        "end_time": format_instant(booking["end_time"]),
        "duration_minutes": (booking["end_time"] - booking["start_time"]) // 60_000,
        "title": booking.get("title"),
        "notes": booking.get("notes"),
        "metadata": booking.get("metadata") or {},
        "status": booking["status"],
        "cancel_reason": booking.get("cancel_reason"),
        "created_at": format_instant(booking["created_at"]),
        "updated_at": format_instant(booking["updated_at"]),
    }


def customer_json(customer: dict[str, Any]) -> dict[str, Any]:
    fields = ("id", "name", "external_id", "phone", "email", "tags", "metadata")
    return {
        **{name: customer.get(name) for name in fields},
        "created_at": format_instant(customer["created_at"]),
        "updated_at": format_instant(customer["updated_at"]),
    }


def booking_event_type(before: Booking | None, after: Booking | None) -> str:
    """The webhook event a booking change is: booking.created, .moved, .cancelled, ..."""
    if after is None:
        return "booking.deleted"
    if before is None:
        return "booking.created"
    if before["status"] != after["status"]:
        return f"booking.{after['status']}"
    if basis(before) != basis(after):
        return "booking.moved"
    return "booking.updated"


def booking_changed(
    db: Connection,
    before: Booking | None,
    after: Booking | None,
    *,
    quiet: bool = False,
    now: int | None = None,
) -> list[dict[str, Any]]:
    """Decide the messages a booking change causes, in the caller's transaction.

    `before` is the booking as it was (None: just created), `after` as it is now (None:
    deleted). A move is any change of start, end or resource; a later move API (issue #16)
    calls this like every other write. `quiet` (an import) decides no confirmation. Returns
    the messages decided.
    """
    assert db.in_transaction, "messages are decided in the change's own transaction"
    now = wall_ms() if now is None else now
    current = after or before
    assert current is not None
    event_type = booking_event_type(before, after)
    decided = _webhook_deliveries(db, event_type, current["id"], booking_json(current), now)
    if current.get("customer_id"):
        decided += _customer_messages(db, before, after, quiet=quiet, now=now)
    return decided


def customer_changed(db: Connection, event_type: str, customer: dict[str, Any]) -> None:
    """Decide the webhook deliveries of a customer change, in the caller's transaction."""
    _webhook_deliveries(db, event_type, customer["id"], customer_json(customer), wall_ms())


def _customer_messages(
    db: Connection, before: Booking | None, after: Booking | None, *, quiet: bool, now: int
) -> list[dict[str, Any]]:
    kinds: list[str] = []
    if before is None and after is not None and after["status"] in HOLDS_A_TIME:
        kinds = ([] if quiet else ["confirmation"]) + ["reminder"]
    elif after is None or after["status"] not in HOLDS_A_TIME:
        _supersede(db, (before or after)["id"], "The booking no longer holds this time.")  # type: ignore[index]
        if after is not None and before is not None and before["status"] != "cancelled":
            kinds = ["cancelled"] if after["status"] == "cancelled" else []
    elif before is not None and basis(before) != basis(after):
        _supersede(db, after["id"], "The booking moved.")
        kinds = ["moved", "reminder"]
    if not kinds:
        return []
    booking = after
    assert booking is not None
    shop = messaging.settings(db)
    customer = _customer(db, booking["customer_id"])
    if customer is None:
        return []
    decided = []
    for channel in shop["channels"]:
        if not customer.get(ADDRESS_FIELD[channel]):
            continue  # a walk-in with no address for it: nothing to decide, nothing to clutter
        for kind in kinds:
            if kind not in shop["kinds"]:
                continue
            for due in _due_times(kind, booking, shop["reminder_minutes"], now):
                decided.append(_decide(db, kind, channel, booking, customer, due, now))
    return decided


def _due_times(kind: str, booking: Booking, reminder_minutes: list[int], now: int) -> list[int]:
    """When a message of this kind is due: now, or each reminder's lead before the start that
    is still ahead (a booking made an hour ahead gets no day-before reminder)."""
    if kind != "reminder":
        return [now]
    times = (booking["start_time"] - minutes * 60_000 for minutes in reminder_minutes)
    return [due for due in times if due > now]


def _customer(db: Connection, customer_id: str) -> dict[str, Any] | None:
    try:
        return store.get_customer(db, customer_id)
    except store.RowMissing:
        return None


def _decide(
    db: Connection,
    kind: str,
    channel: str,
    booking: Booking,
    customer: dict[str, Any],
    due: int,
    now: int,
) -> dict[str, Any]:
    opted_out = bool(customer.get(f"{channel}_opt_out"))
    return outbox.record(
        db,
        {
            "id": new_id("msg"),
            "kind": kind,
            "channel": channel,
            "booking_id": booking["id"],
            "customer_id": customer["id"],
            "basis": basis(booking),
            "payload": {},
            "ordering_key": booking["id"],
            "due_at": due,
            "decided_by": store.node_id(db),
            "created_at": now,
            "attempts": 0,
            "state": "skipped" if opted_out else "pending",
            "state_reason": f"The customer opted out of {channel}." if opted_out else None,
        },
    )


def _supersede(db: Connection, booking_id: str, reason: str) -> None:
    for message in outbox.pending_for_booking(db, booking_id, CUSTOMER_CHANNELS):
        outbox.record(db, {**message, "state": "superseded", "state_reason": reason})


def _webhook_deliveries(
    db: Connection, event_type: str, key: str, data: dict[str, Any], now: int
) -> list[dict[str, Any]]:
    """One delivery per subscription that listens to `event_type`, disabled ones included:
    their deliveries wait, in order, until the subscription is enabled again."""
    decided = []
    for subscription in stored_webhooks.every(db):
        if not listens(subscription["events"], event_type):
            continue
        decided.append(
            outbox.record(
                db,
                {
                    "id": new_id("msg"),
                    "kind": event_type,
                    "channel": "webhook",
                    "booking_id": data["id"] if event_type.startswith("booking.") else None,
                    "customer_id": data["id"] if event_type.startswith("customer.") else None,
                    "subscription_id": subscription["id"],
                    "basis": {},
                    "payload": {"type": event_type, "data": data},
                    "ordering_key": key,
                    "due_at": now,
                    "decided_by": store.node_id(db),
                    "created_at": now,
                    "attempts": 0,
                    "state": "pending",
                },
            )
        )
    return decided


def listens(events: list[str], event_type: str) -> bool:
    """Whether a subscription to `events` hears `event_type` ("booking.*" and "*" included)."""
    family = event_type.split(".", 1)[0] + ".*"
    return "*" in events or family in events or event_type in events
