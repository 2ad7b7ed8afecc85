"""Whether a due message still goes out, judged by the sending node on what it holds now.

A message remembers the booking time it was decided for. The sender sends it only if that time
still holds: a booking moved or cancelled anywhere, once the sender has heard of it, stops every
message decided for the old time, whichever node decided it and whether or not that node knew
of the move. A customer who opted out, or has no address for the channel, gets nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app import store
from app.core.times import format_instant
from app.domain import messaging
from app.domain.messages import ADDRESS_FIELD, HOLDS_A_TIME, basis
from app.store import Connection, outbox
from app.store import webhooks as stored_webhooks


@dataclass(frozen=True)
class Judgement:
    """Send it (`state` None) to `recipient` with this content, or close it as `state`."""

    state: str | None = None
    reason: str | None = None
    recipient: str | None = None
    subject: str | None = None
    body: str = ""
    webhook: dict[str, Any] = field(default_factory=dict)  # url, secret, envelope


def _close(state: str, reason: str) -> Judgement:
    return Judgement(state=state, reason=reason)


def judge(db: Connection, message: dict[str, Any], now: int) -> Judgement:
    """Whether `message` goes out now, and what it says."""
    if message["channel"] == "webhook":
        return _judge_webhook(db, message)
    return _judge_customer_message(db, message, now)


def _judge_customer_message(db: Connection, message: dict[str, Any], now: int) -> Judgement:
    try:
        booking = store.get_booking(db, message["booking_id"])
    except store.RowMissing:
        return _close("superseded", "The booking was deleted.")
    if message["kind"] == "cancelled":
        if booking["status"] != "cancelled":
            return _close("superseded", f"The booking is {booking['status']}, not cancelled.")
    else:
        if booking["status"] not in HOLDS_A_TIME:
            return _close("superseded", f"The booking is {booking['status']}.")
        if basis(booking) != message["basis"]:
            return _close("superseded", "The booking moved; this was for its old time.")
        if now >= booking["start_time"]:
            return _close("skipped", "The booking had started before this could go out.")
    kind = message["kind"]
    alike = outbox.already_sent_alike(
        db, message, same_due=kind == "reminder", same_basis=kind in ("reminder", "moved")
    )
    if alike:
        return _close("skipped", f"The customer was already sent this {kind}.")
    try:
        customer = store.get_customer(db, message["customer_id"])
    except store.RowMissing:
        return _close("skipped", "The customer was deleted.")
    channel = message["channel"]
    if customer.get(f"{channel}_opt_out"):
        return _close("skipped", f"The customer opted out of {channel}.")
    address = customer.get(ADDRESS_FIELD[channel])
    if not address:
        return _close("skipped", f"The customer has no {ADDRESS_FIELD[channel]} on file.")
    wording = messaging.word(db, message["kind"], channel, _context(db, booking, customer))
    return Judgement(recipient=address, subject=wording.subject, body=wording.body)


def _context(db: Connection, booking: dict[str, Any], customer: dict[str, Any]) -> dict[str, Any]:
    try:
        resource = store.get_resource(db, booking["resource_id"])
    except store.RowMissing:
        resource = None
    shop = messaging.settings(db)["shop_name"] or ""
    return messaging.context(booking, customer, resource, shop)


def _judge_webhook(db: Connection, message: dict[str, Any]) -> Judgement:
    subscription = stored_webhooks.get(db, message["subscription_id"])
    if subscription is None:
        return _close("skipped", "The webhook subscription was deleted.")
    envelope = {
        "id": message["id"],
        "type": message["payload"]["type"],
        "created_at": format_instant(message["created_at"]),
        "sequence": message["order_hlc"],
        "data": message["payload"]["data"],
    }
    return Judgement(
        recipient=subscription["url"],
        webhook={
            "url": subscription["url"],
            "secret": subscription["secret"],
            "envelope": envelope,
        },
    )
