"""The shared pieces of /openapi.json: tags, headers, the error envelope, status meanings.

Also the JSON Schema generator the request and response models go through.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

TAGS = {
    "health": ("Health", "Liveness; needs no key."),
    "customers": ("Customers", "The booking module's customers (API.md §3)."),
    "resources": ("Resources", "What is booked: a chair, a room, a person; free slots."),
    "bookings": ("Bookings", "Bookings, their statuses and their event history."),
    "blockers": ("Blockers", "Time a resource cannot be booked, once or repeating."),
    "v1_customers": ("ShingleAI customers", "The same customers in ShingleAI's /v1 shape."),
    "sync": ("Sync", "The hub protocol between shop laptops and the hub, and sync status."),
    "services": ("Services", "What the shop sells: a length, a price, a buffer, who performs it."),
    "day_summary": ("Day summary", "A day's bookings by status and its completed takings."),
    "messaging": ("Messaging", "Messages to customers: the outbox, settings, templates, opt-outs."),
    "webhooks": (
        "Webhooks",
        "Signed POSTs to an integrator's URL when bookings or customers change.",
    ),
    "calendar": (
        "Calendar feeds",
        "Secret iCalendar addresses of a resource's or the shop's bookings.",
    ),
}
# A blueprint may serve routes of several resources (shop_services, outbound, counter): the
# collection under /modules/booking/ picks the tag, so an operation sits with its resource.
COLLECTION_TAGS = {
    "closures": "blockers",
    "services": "services",
    "day-summary": "day_summary",
    "messages": "messaging",
    "messaging": "messaging",
    "message-templates": "messaging",
    "webhooks": "webhooks",
    "calendar-feeds": "calendar",
    "calendar": "calendar",
    "customers": "customers",
    "bookings": "bookings",
}

STATUS_TEXT = {
    304: "Not modified: If-None-Match names the record's current ETag. No body.",
    400: "The body is not a JSON object, nests over 64 deep, holds a lone surrogate or an "
    "integer over 4,300 digits (bad_request).",
    401: "Missing, unknown or revoked API key (unauthorized).",
    402: "The key has no tokens left (insufficient_tokens); nothing was changed.",
    403: "The key lacks the scope (forbidden).",
    404: "No record with that id (not_found).",
    409: "The sync hub refuses the push as sent.",
    412: "If-Match does not name the record's current ETag (precondition_failed): it changed "
    "since it was read. Nothing was changed; read it again and retry.",
    413: "The body is over 1 MiB (payload_too_large).",
    415: "The body's Content-Type is not JSON (unsupported_media_type).",
    422: "Validation or business-rule error; `details` names each field.",
    429: "Over the key's rate limit (rate_limited); retry after Retry-After seconds.",
    500: "A bug on the server (internal_error); it is logged, and nothing is described.",
    503: "The database cannot be written now (storage_full, storage_unavailable, storage_busy), "
    "or the request ran past its deadline (request_too_expensive); retry after Retry-After "
    "seconds.",
}

HEADERS: dict[str, dict[str, Any]] = {
    "X-RateLimit-Limit": {
        "description": "Requests the key may make in its window (e.g. 600 a minute).",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left in the key's current window.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-Tokens-Remaining": {
        "description": "Tokens left on a key with a token balance (each request costs 1).",
        "schema": {"type": "integer", "minimum": 0},
    },
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "Location": {
        "description": "The path of the record just made.",
        "schema": {"type": "string", "format": "uri-reference"},
    },
    "ETag": {
        "description": "The record's version: send it back as If-None-Match (read) or "
        "If-Match (write). A compressed body's tag ends in its coding (`…:gzip`); either form "
        "names the same version.",
        "schema": {"type": "string"},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the "
        "same Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}

PARAMETERS: dict[str, dict[str, Any]] = {
    "IdempotencyKey": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "Any unique text (a UUID, say). The same key with the same body within "
        "24 hours replays the first answer without doing the work again; with another body it "
        "is 422 idempotency_mismatch. Keys are per API key.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    },
    "IfNoneMatch": {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "An ETag from an earlier read: 304 with no body while it is current.",
        "schema": {"type": "string"},
    },
    "IfMatch": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": "The ETag of the version this write is based on: 412 "
        "precondition_failed, and nothing changed, if the record has changed since. `*` "
        "matches any current version.",
        "schema": {"type": "string"},
    },
}

_DETAIL = {
    "type": "object",
    "required": ["field", "message"],
    "properties": {
        "field": {"type": "string", "description": "The field, query parameter or header."},
        "message": {"type": "string"},
    },
}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error: a stable code, a sentence a person can act on, and per-field "
    "details. Some codes add fields (sequence_gap: `expected`; protocol_mismatch: "
    "`expected_protocol`).",
    "required": ["status", "error"],
    "properties": {
        "status": {"const": "error"},
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "examples": ["slot_conflict"]},
                "message": {"type": "string"},
                "details": {"type": "array", "items": _DETAIL},
            },
        },
    },
}

LIST_META: dict[str, Any] = {
    "type": "object",
    "required": ["limit", "next_cursor", "has_more"],
    "properties": {
        "limit": {"type": "integer"},
        "next_cursor": {
            "type": ["string", "null"],
            "description": "Pass as `cursor` for the next page; null on the last one.",
        },
        "has_more": {"type": "boolean"},
    },
}


def shingleai_list_meta() -> dict[str, Any]:
    names = {"limit": "integer", "offset": "integer", "hasMore": "boolean", "total": "integer"}
    pagination = {
        "type": "object",
        "required": list(names),
        "properties": {name: {"type": kind} for name, kind in names.items()},
    }
    return {"type": "object", "required": ["pagination"], "properties": {"pagination": pagination}}


def _allows_null(schema: JsonSchemaValue) -> bool:
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(_allows_null(part) for part in schema.get("anyOf", []) + schema.get("oneOf", []))


class SchemaGenerator(GenerateJsonSchema):
    """pydantic's JSON Schema, minus `"default": null` on fields that may not be null.

    A PATCH field such as `phone: str = None` means "not sent": its schema is a string, and a
    default of null would be a value the schema itself refuses (strict validators reject the
    whole document, and clients that fill in defaults would send the null).
    """

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        json_schema = super().default_schema(schema)
        if json_schema.get("default", ...) is None and not _allows_null(json_schema):
            del json_schema["default"]
        return json_schema


def as_query_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema: a parameter is present or absent, never null, so
    `anyOf: [X, null]` with `default: null` becomes X (keeping the description and examples)."""
    parts = schema.get("anyOf")
    if not parts:
        return schema
    kept = [part for part in parts if part.get("type") != "null"]
    if len(kept) != 1:
        return schema
    flat = {k: v for k, v in schema.items() if k not in ("anyOf", "default", "title")}
    return {**kept[0], **flat}
