"""The `endpoint` decorator: one declaration per route drives its checks and its OpenAPI entry.

    @bp.post("/customers")
    @endpoint(scope="booking:write", body=CustomerCreate, response=Customer, status=201,
              errors=(...))
    def create_customer(body: CustomerCreate): ...

The decorator authorizes (401 → 403 → 429 → 402), then parses the body (400/413/415/422) and
the query (422) with the very models that /openapi.json publishes, and passes them in as `body`
and `query`. So the documentation cannot drift from what is enforced. It also keeps the HTTP
conventions every route shares: `Location` on a 201, and, for a record's routes, its `ETag`
with If-None-Match on the GET (`etag=True`) and If-Match on writes (`record=` the GET view).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from flask import Response, current_app, g, jsonify, request
from pydantic import BaseModel

from app import store
from app.core import json_codec
from app.store import Connection
from app.web import conditional, idempotency
from app.web.auth import authorize
from app.web.headers import add_missing
from app.web.models.parsing import json_object, parse_body, parse_query, validate


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
    etag: bool = False  # a GET of one record: ETag, and 304 for a current If-None-Match
    if_match: bool = False  # a write to one record: If-Match, and 412 when it is stale
    operation_id: str = ""
    # A success that is not the JSON envelope (a calendar feed's text/calendar): its type.
    media_type: str = "application/json"


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
    etag: bool = False,
    record: Callable[..., Response] | None = None,
    media_type: str = "application/json",
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Declare a route's scope, models and business errors; see the module docstring.

    `record` is the GET route of the record a write changes: If-Match is checked against its
    ETag (the view passes `precondition()` down to the domain), and a 200 carries the new one.
    """

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        summary = (view.__doc__ or view.__name__).strip().splitlines()[0]
        read = getattr(record, "__wrapped__", None)  # the GET view without its checks
        locatable = has_own_url(response)

        def parse_and_call(path: dict[str, Any], sent: dict[str, Any] | None = None) -> Response:
            extra: dict[str, Any] = {}
            if body is not None:
                # A body read already for the 400 check is validated, not read again.
                extra["body"] = parse_body(body) if sent is None else validate(body, sent)
            if query is not None:
                extra["query"] = parse_query(query)
            if read is not None:
                g.precondition = conditional.precondition(lambda: read(**path))
            return view(**path, **extra)

        def conventions(response: Response, path: dict[str, Any]) -> Response:
            if response.status_code == 201 and locatable:
                response.headers["Location"] = _location_of(response)
            elif etag:
                return conditional.answer_read(response)
            elif read is not None and response.status_code == 200 and request.method != "DELETE":
                response.set_etag(conditional.etag_of(read(**path)))
            return response

        @functools.wraps(view)
        def run(**path: Any) -> Response:
            if scope is None:
                return conventions(parse_and_call(path), path)
            key = authorize(scope)
            if request.method == "POST":
                # 400/413/415 before the Idempotency-Key's 422 (API.md §1 order)
                sent = json_object() if body is not None else None
                answer = idempotency.run(key.id, lambda: parse_and_call(path, sent))
                return conventions(answer, path)
            return conventions(parse_and_call(path), path)

        run.api_doc = EndpointDoc(  # type: ignore[attr-defined]
            summary, scope, body, query, response, status, is_list, tuple(errors), meta,
            envelope, etag, record is not None, view.__name__, media_type,
        )  # fmt: skip
        return run

    return decorate


def has_own_url(response: type[BaseModel] | None) -> bool:
    """Whether a 201 of this response model made one record with an id, hence a Location. A
    closure makes a blocker per resource: no one URL names what it made, so it sends none
    (RFC 9110 §15.3.2 makes Location optional), and each blocker's id is in the body."""
    return response is not None and "id" in response.model_fields


def _location_of(created: Response) -> str:
    """Where the record a 201 made lives: this collection's path plus its id (a replayed 201
    too, which is why it is read from the body rather than from the view)."""
    record_id = json_codec.loads(created.get_data())["data"]["id"]
    return f"{request.path.rstrip('/')}/{record_id}"


def precondition() -> Callable[[], None] | None:
    """This write's If-Match check (app/web/conditional.py), for the domain to run inside its
    transaction; None when the request sent no If-Match."""
    return getattr(g, "precondition", None)


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
    add_missing(response, getattr(g, "response_headers", {}))
    return response


# Public documents that hold no shop data: a browser or proxy may keep them.
CACHEABLE_ENDPOINTS = frozenset({"static", "health.openapi_json"})


def no_store(response: Response) -> Response:
    """after_request: responses that may carry customer data are kept by no cache (RFC 9111
    §5.2.2.5): bookings, customers and pages name people. Static files, the OpenAPI document
    and the API reference are the exceptions."""
    if request.endpoint not in CACHEABLE_ENDPOINTS and request.blueprint != "docs":
        add_missing(response, {"Cache-Control": "no-store"})
    return response
