"""Response models: they document what the API returns in /openapi.json.

Responses are built by the domain's `to_json` functions; tests (and the schemathesis run) check
that real responses conform to these models.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Customer(Out):
    id: str
    name: str
    external_id: str | None
    phone: str | None
    email: str | None
    tags: list[str]
    metadata: dict[str, Any]
    created_at: str
    updated_at: str


class Resource(Out):
    id: str
    name: str
    timezone: str
    default_duration_minutes: int
    buffer_minutes: int
    business_hours: dict[str, list[list[str]]] | None
    metadata: dict[str, Any]
    created_at: str
    updated_at: str


class Health(Out):
    version: str
    node_id: str
    db: str
