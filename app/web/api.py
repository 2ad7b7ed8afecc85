"""The `endpoint` decorator: one declaration per route drives its checks and its OpenAPI entry.

    @bp.post("/customers")
    @endpoint(scope="booking:write", body=CustomerCreate, response=Customer, status=201,
              errors=(...))
    def create_customer(body: CustomerCreate): ...

The decorator authorizes (401 → 403 → 429 → 402), then parses the body (400/413/422) and the
query (422) with the very models that /openapi.json publishes, and passes them in as `body`
and `query`. So the documentation cannot drift from what is enforced.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from flask import Response, current_app, g, jsonify, request
from pydantic import BaseModel

from app import store
from app.store import Connection
from app.web import idempotency
from app.web.auth import authorize
from app.web.validation import json_object, parse_body, parse_query, validate


@dataclass(frozen=True)
class EndpointDoc:
    summary: str
    scope: str | None
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    is_list: bool
    errors: tuple[str, ...] = field(default_factory=tuple)
    meta: dict[str, Any] | None = None  # JSON Schema of a non-list `meta` object
    # "shingleai": ShingleAI's {"data": ...} success shape (see shingleai_ok), not ok()'s.
    envelope: Literal["booking", "shingleai"] = "booking"


def endpoint(
    *,
    scope: str | None,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    is_list: bool = False,
    errors: tuple[str, ...] = (),
    meta: dict[str, Any] | None = None,
    envelope: Literal["booking", "shingleai"] = "booking",
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Declare a route's scope, models and business errors; see the module docstring."""

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        summary = (view.__doc__ or view.__name__).strip().splitlines()[0]

        def parse_and_call(path: dict[str, Any], read: dict[str, Any] | None = None) -> Response:
            extra: dict[str, Any] = {}
            if body is not None:
                # A body read already for the 400 check is validated, not read again.
                extra["body"] = parse_body(body) if read is None else validate(body, read)
            if query is not None:
                extra["query"] = parse_query(query)
            return view(**path, **extra)

        @functools.wraps(view)
        def run(**path: Any) -> Response:
            if scope is None:
                return parse_and_call(path)
            key = authorize(scope)
            if request.method == "POST":
                # 400/413 before the Idempotency-Key's 422 (API.md §1 order)
                read = json_object() if body is not None else None
                return idempotency.run(key.id, lambda: parse_and_call(path, read))
            return parse_and_call(path)

        run.api_doc = EndpointDoc(  # type: ignore[attr-defined]
            summary, scope, body, query, response, status, is_list, tuple(errors), meta, envelope
        )
        return run

    return decorate


def actor() -> str | None:
    """Who is acting: the API key's name."""
    key = getattr(g, "api_key", None)
    return key.name if key is not None else None


def db() -> Connection:
    """This thread's connection to the app's database."""
    return store.connection(current_app.config["DB"])


def cursor_secret() -> str:
    return current_app.extensions["booking.cursor_secret"]


def ok(data: Any, *, status: int = 200, meta: dict[str, Any] | None = None) -> Response:
    """The success envelope: {"status": "ok", "data": ..., "meta"?: ...}."""
    payload: dict[str, Any] = {"status": "ok", "data": data}
    if meta is not None:
        payload["meta"] = meta
    response = jsonify(payload)
    response.status_code = status
    return response


def shingleai_ok(data: Any, *, status: int = 200, meta: dict[str, Any] | None = None) -> Response:
    """ShingleAI's success shape, for /v1 routes: {"data": ..., "meta"?: ...} (errors stay ours)."""
    payload: dict[str, Any] = {"data": data}
    if meta is not None:
        payload["meta"] = meta
    response = jsonify(payload)
    response.status_code = status
    return response


def add_limit_headers(response: Response) -> Response:
    """after_request: every authorized response carries the key's limit headers."""
    for name, value in getattr(g, "response_headers", {}).items():
        response.headers.setdefault(name, value)
    return response
