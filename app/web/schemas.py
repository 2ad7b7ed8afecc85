"""Response models: they document what the API returns in /openapi.json.

Responses are built by the domain's `to_json` functions; tests (and the schemathesis run) check
that real responses conform to these models.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Every instant the API returns: UTC ISO 8601 with Z (`…:00Z`, or `…:00.250Z`).
Time = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class Customer(Out):
    id: str
    name: str
    external_id: str | None
    phone: str | None
    email: str | None
    tags: list[str]
    metadata: dict[str, Any]
    created_at: Time
    updated_at: Time


class Resource(Out):
    id: str
    name: str
    timezone: str
    default_duration_minutes: int
    buffer_minutes: int
    business_hours: dict[str, list[list[str]]] | None
    metadata: dict[str, Any]
    created_at: Time
    updated_at: Time


class Health(Out):
    version: str
    node_id: str
    db: str


class Booking(Out):
    id: str
    resource_id: str
    customer_id: str | None
    start_time: Time
    end_time: Time
    duration_minutes: int
    title: str | None
    notes: str | None
    metadata: dict[str, Any]
    service_id: str | None = Field(description="The service booked, if any.")
    price_minor: int | None = Field(
        description="The service's price when booked, in the currency's minor units."
    )
    currency: str | None = Field(description="ISO 4217 code of price_minor.")
    status: Literal["pending", "confirmed", "checked_in", "completed", "cancelled", "no_show"]
    cancel_reason: str | None
    created_at: Time
    updated_at: Time
    conflict_with: list[str] = Field(
        description="Active bookings overlapping this one on its resource: only sync makes "
        "them (two nodes booked the slot offline), until the hub's cancellation arrives."
    )


class BookingEvent(Out):
    id: str
    booking_id: str
    type: Literal["created", "updated", "status_changed", "moved", "corrected"] = Field(
        description="`moved`: data.from and data.to hold the old and new resource_id, "
        "start_time and end_time. `corrected`: an undo of the status change data.undoes, "
        "from_status back to to_status."
    )
    from_status: str | None
    to_status: str | None
    actor: str | None
    data: dict[str, Any]
    occurred_at: Time
    node_id: str
    applied: bool = Field(description="False when the event was invalid at its place in order.")
    anomaly: str | None = Field(description="Why the event could not take effect.")


# `meta` of a booking made or moved (a JSON Schema: meta is not a model).
OUTSIDE_HOURS_META = {
    "type": "object",
    "required": ["outside_business_hours"],
    "properties": {
        "outside_business_hours": {
            "type": "boolean",
            "description": "True when the booking lies outside its resource's business hours: "
            "accepted, but worth a word with the customer.",
        }
    },
}


class BookingWithEvents(Booking):
    events: list[BookingEvent] = Field(description="The 20 most recent events, oldest first.")


class Service(Out):
    id: str
    name: str
    duration_minutes: int
    price_minor: int = Field(description="In the currency's minor units: 4500 EUR is €45.00.")
    currency: str = Field(description="ISO 4217 code.")
    buffer_minutes: int
    resource_ids: list[str] = Field(description="Empty: every resource performs it.")
    metadata: dict[str, Any]
    created_at: Time
    updated_at: Time


class Amount(Out):
    currency: str
    amount_minor: int


class DayFigures(Out):
    bookings: int = Field(description="Bookings starting that day, whatever their status.")
    counts: dict[str, int] = Field(description="Bookings by status; every status is listed.")
    completed_totals: list[Amount] = Field(description="Prices of completed bookings.")
    completed_without_price: int = Field(description="Completed bookings with no service.")


class ResourceDay(DayFigures):
    resource_id: str
    name: str
    timezone: str
    from_: Time = Field(alias="from", description="Local midnight starting the day (UTC).")
    to: Time = Field(description="Local midnight ending the day (UTC).")


class DaySummary(Out):
    date: Annotated[str, Field(json_schema_extra={"format": "date"})]
    resources: list[ResourceDay]
    shop: DayFigures


class Slot(Out):
    start_time: Time
    end_time: Time


class Blocker(Out):
    id: str
    resource_id: str
    title: str | None
    start_time: Time
    end_time: Time
    all_day: bool
    recurrence: dict[str, Any] | None
    metadata: dict[str, Any]
    created_at: Time
    updated_at: Time
    occurrences: list[Slot] | None = Field(
        None, description="Only in lists filtered by from/to: occurrences in the window (≤100)."
    )


# --- ShingleAI customers (API.md §6) -----------------------------------------------------------

_UUID = {"format": "uuid"}


class ShingleCustomer(Out):
    """A customer in the ShingleAI shape; the same record as a booking-module Customer."""

    id: str = Field(
        json_schema_extra=_UUID,
        description="A valid RFC 9562 UUID: version 7, or 8 for a customer made before UUIDv7 "
        "ids. The booking API takes it wherever it takes the customer's cus_ id.",
    )
    createdAt: Time
    updatedAt: Time
    deletedAt: Time | None = Field(description="Set by DELETE /v1/customers/{id} (soft delete).")
    organizationId: str = Field(json_schema_extra=_UUID)
    businessId: str | None = Field(json_schema_extra=_UUID)
    contactId: str | None = Field(json_schema_extra=_UUID)
    type: str | None
    name: str
    email: str | None
    phone: str | None
    notes: str | None
    status: str | None
    customerSince: Time | None
    data: dict[str, Any] = Field(description="The same store as the booking API's `metadata`.")


class SyncPushResult(Out):
    acked_through: int
    epoch: str
    high_water: int
    former_nodes: list[str] = []


class SyncPage(Out):
    changes: list[dict[str, Any]]
    next_cursor: str
    has_more: bool
    epoch: str
    high_water: int
    former_nodes: list[str] = []


class Anomaly(Out):
    kind: Literal["invalid_event", "double_booking", "clock_suspect"]
    id: str
    booking_id: str | None
    other_booking_id: str | None
    message: str
    hlc: str


class NodeIdentity(Out):
    forked_from: str = Field(description="The node id this database had before.")
    forked_at: Time = Field(description="When it took its present node id.")
    reason: str = Field(description="Why: restored from a backup, or a copy of another file.")
    former_node_ids: list[str] = Field(description="Every node id it had before, oldest first.")


class SyncStatus(Out):
    hub_url: str | None
    node_id: str
    pending: int = Field(description="This node's changes the hub has not acknowledged.")
    acked_through: int
    last_success: Time | None
    last_attempt: Time | None
    last_error: str | None
    next_attempt: Time | None = Field(description="Set while backing off after a failure.")
    cursor: str | None
    hub_epoch: str | None
    anomalies: int
    identity: NodeIdentity | None = Field(
        description="Set when this database was restored or copied and took a node id of its "
        "own (its sync key follows it); null for the original."
    )


class SyncRun(Out):
    queued: bool


class Closure(Out):
    """What a closure made: one blocker per resource, in resource order."""

    blockers: list[Blocker]


# --- messaging, webhooks and calendar feeds (issue #18) ---------------------------------------


class MessageBasis(Out):
    start_time: Time
    end_time: Time
    resource_id: str


class Message(Out):
    id: str
    kind: str
    channel: Literal["email", "sms", "webhook"]
    booking_id: str | None
    customer_id: str | None
    subscription_id: str | None
    basis: MessageBasis | None
    state: Literal["pending", "superseded", "skipped", "failed", "sent"]
    state_reason: str | None
    attempts: int
    last_error: str | None
    recipient: str | None
    due_at: Time
    next_attempt_at: Time | None
    created_at: Time
    decided_by: str
    sent_at: Time | None
    sent_by: str | None


class MessagingSettings(Out):
    channels: list[str]
    kinds: list[str]
    reminder_minutes: list[int]
    shop_name: str | None
    sender: str = Field(description="Which node sends this shop's messages, in words.")


class Template(Out):
    kind: str
    channel: str
    subject: str | None
    body: str
    custom: bool


class TemplateList(Out):
    templates: list[Template]
    fields: dict[str, str]


class CustomerMessaging(Out):
    customer_id: str
    email_opt_out: bool
    sms_opt_out: bool


class Webhook(Out):
    id: str
    url: str
    events: list[str]
    description: str | None
    enabled: bool
    disabled_reason: str | None
    disabled_at: Time | None
    created_at: Time
    updated_at: Time
    secret: str | None = Field(None, description="Only in the answer that creates it.")


class Feed(Out):
    id: str
    resource_id: str | None
    name: str | None
    revoked_at: Time | None
    created_at: Time
    url: str | None = Field(None, description="Only in the answer that creates it.")
