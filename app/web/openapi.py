"""Build the OpenAPI 3.1 document from the app's routes and their `endpoint` declarations.

Request schemas are the pydantic models that validate requests (app/web/models/); response
schemas are app.web.schemas. Every status a route can answer is listed with the codes behind
it, every header it reads or sets is declared, and each create links to the record's routes,
so generated clients and fuzzers (schemathesis) see the whole contract.
"""

from __future__ import annotations

import re
from importlib.metadata import version
from typing import Any

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.web.api import EndpointDoc, has_own_url
from app.web.errors import status_of
from app.web.openapi_parts import (
    COLLECTION_TAGS,
    ERROR_SCHEMA,
    HEADERS,
    LIST_META,
    PARAMETERS,
    STATUS_TEXT,
    TAGS,
    SchemaGenerator,
    as_query_schema,
    shingleai_list_meta,
)

_ERROR = {"$ref": "#/components/schemas/Error"}
_PATH_PARAM = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")
_DESCRIPTION = """\
The SaaSignal booking module (`/modules/booking/…`), the ShingleAI customers API (`/v1/…`) and
the sync hub (`/sync/…`) of a local-first booking service. Every request but /healthz sends
`Authorization: Bearer <key>`. The guides (authentication, errors, pagination, idempotency,
concurrency, sync) are the `docs/` folder of the project; this reference is served at `/docs`.
"""
PATH_DESCRIPTIONS = {
    # Not `not: {const: search}`: a fuzzer's negative case would then send exactly that.
    "customer_id": "The customer's `cus_` id, or the UUID the /v1 API shows for it (never "
    "`search`: /customers/search is the type-ahead).",
    "token": "The feed's secret, from the `url` its create answered (the only place it is shown).",
}


TAG_TEXT = dict(TAGS.values())


def tag_of(blueprint: str, path: str = "") -> str:
    """The tag of an operation: its collection's (COLLECTION_TAGS), else its blueprint's in
    TAGS, else the blueprint's name for a blueprint TAGS lacks."""
    collection = path.removeprefix("/modules/booking").split("/")[1] if path else ""
    key = COLLECTION_TAGS.get(collection, blueprint)
    return TAGS.get(key, (blueprint.replace("_", " ").capitalize(), ""))[0]


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _success(doc: EndpointDoc) -> dict[str, Any]:
    if doc.media_type != "application/json":
        return {"type": "string"}
    data: dict[str, Any] = {"type": "object"}
    if doc.response is not None:
        data = _ref("schemas", doc.response.__name__)
    if doc.is_list:
        data = {"type": "array", "items": data}
    if doc.envelope == "shingleai":  # ShingleAI's shape: no "status", offset pagination
        shape: dict[str, Any] = {
            "type": "object",
            "required": ["data"],
            "properties": {"data": data},
        }
        if doc.is_list:
            shape["properties"]["meta"] = shingleai_list_meta()
            shape["required"].append("meta")
        return shape
    schema: dict[str, Any] = {
        "type": "object",
        "required": ["status", "data"],
        "properties": {"status": {"const": "ok"}, "data": data},
    }
    meta = LIST_META if doc.is_list else doc.meta
    if meta is not None:
        schema["properties"]["meta"] = meta
        schema["required"].append("meta")
    return schema


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(schema_generator=SchemaGenerator)
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": as_query_schema(prop)}
        for name, prop in schema["properties"].items()
    ]


def _codes(doc: EndpointDoc, method: str, has_path_id: bool) -> dict[int, list[str]]:
    """Each status the route can answer, with the error codes behind it (none for a 304)."""
    found: dict[int, list[str]] = {}

    def add(status: int, *codes: str) -> None:
        found.setdefault(status, [])
        found[status] += [code for code in codes if code not in found[status]]

    if doc.scope is not None:
        add(401, "unauthorized")
        add(402, "insufficient_tokens")
        add(403, "forbidden")
        add(429, "rate_limited")
        if method == "post":  # Idempotency-Key: its length, then a reuse with another body
            add(422, "validation_error", "idempotency_mismatch")
    if doc.body is not None:
        add(400, "bad_request")
        add(413, "payload_too_large")
        add(415, "unsupported_media_type")
        add(422, "validation_error")
    if doc.query is not None:
        add(422, "validation_error")
    if has_path_id:
        add(404, "not_found")
    for code in doc.errors:
        add(status_of(code), code)
    if doc.etag:
        add(304)
    if doc.if_match:
        add(412, "precondition_failed")
    add(500, "internal_error")
    # Any request may need a write (a token spent) or run out of time.
    add(503, "storage_full", "storage_unavailable", "request_too_expensive")
    return dict(sorted(found.items()))


def _headers(doc: EndpointDoc, method: str, status: int) -> dict[str, Any]:
    """The response headers of one status of a route; `required` only where always sent."""
    wanted: dict[str, bool] = {}
    success = status < 400
    if doc.scope is not None:
        wanted |= {"X-RateLimit-Limit": success, "X-RateLimit-Remaining": success}
        wanted["X-Tokens-Remaining"] = False
        if method == "post" and status != 304:
            wanted["Idempotent-Replayed"] = False
    if status == 201 and has_own_url(doc.response):
        wanted["Location"] = True
    if doc.etag and status in (200, 304):
        wanted["ETag"] = True
    if doc.if_match and status == 200 and method != "delete":
        wanted["ETag"] = True
    if status in (429, 503):
        wanted["Retry-After"] = True
    # A header that is always sent is spelled out: a $ref may not carry `required` beside it.
    return {
        name: {**HEADERS[name], "required": True} if required else _ref("headers", name)
        for name, required in wanted.items()
    }


# Answers that read the same on every route with a key: one shared definition each, listing
# the codes behind it (none for a 304).
SHARED_CODES: dict[int, list[str]] = {
    304: [],
    400: ["bad_request"],
    401: ["unauthorized"],
    402: ["insufficient_tokens"],
    403: ["forbidden"],
    404: ["not_found"],
    412: ["precondition_failed"],
    413: ["payload_too_large"],
    415: ["unsupported_media_type"],
    429: ["rate_limited"],
    500: ["internal_error"],
    503: ["storage_full", "storage_unavailable", "request_too_expensive"],
}
# The headers of the shared answers: a keyed GET of one record's (ETag on its 304).
_KEYED_READ = EndpointDoc("", "booking:read", None, None, None, 200, False, etag=True)


def _answer(doc: EndpointDoc, method: str, status: int, codes: list[str]) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": STATUS_TEXT[status]}
    if codes:
        answer["description"] += " Codes: " + ", ".join(codes) + "."
        answer["content"] = {"application/json": {"schema": _ERROR}}
    answer["headers"] = _headers(doc, method, status)
    return answer


def shared_responses() -> dict[str, Any]:
    """components.responses: the answers of SHARED_CODES."""
    return {
        str(status): _answer(_KEYED_READ, "get", status, codes)
        for status, codes in SHARED_CODES.items()
    }


def _responses(doc: EndpointDoc, method: str, has_path_id: bool) -> dict[str, Any]:
    responses: dict[str, Any] = {
        str(doc.status): {
            "description": "Success.",
            "headers": _headers(doc, method, doc.status),
            "content": {doc.media_type: {"schema": _success(doc)}},
        }
    }
    for status, codes in _codes(doc, method, has_path_id).items():
        if doc.scope is not None and SHARED_CODES.get(status) == codes:
            responses[str(status)] = _ref("responses", str(status))
        else:
            responses[str(status)] = _answer(doc, method, status, codes)
    return responses


def _parameters(doc: EndpointDoc, method: str, path_params: list[str]) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1},
            **({"description": PATH_DESCRIPTIONS[name]} if name in PATH_DESCRIPTIONS else {}),
        }
        for name in path_params
    ]
    if doc.query is not None:
        parameters += _query_parameters(doc.query)
    if method == "post" and doc.scope is not None:
        parameters.append(_ref("parameters", "IdempotencyKey"))
    if doc.etag:
        parameters.append(_ref("parameters", "IfNoneMatch"))
    if doc.if_match:
        parameters.append(_ref("parameters", "IfMatch"))
    return parameters


def _description(doc: EndpointDoc) -> str:
    lines = []
    if doc.scope is not None:
        lines.append(f"Needs the `{doc.scope}` scope (or one that implies it).")
    if doc.etag:
        lines.append("Answers with the record's ETag; If-None-Match with it gives 304.")
    if doc.if_match:
        lines.append("If-Match with the record's ETag makes the write conditional (412).")
    return " ".join(lines) or "Needs no key."


def _operation(method: str, doc: EndpointDoc, path_params: list[str], tag: str) -> dict:
    operation: dict[str, Any] = {
        "tags": [tag],
        "summary": doc.summary,
        "description": _description(doc),
        "operationId": doc.operation_id,
        "parameters": _parameters(doc, method, path_params),
        "responses": _responses(doc, method, bool(path_params)),
    }
    if doc.scope is not None:
        operation["security"] = [{"bearer": [doc.scope]}]
    if doc.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref("schemas", doc.body.__name__)}},
        }
    return operation


def _add_links(paths: dict[str, dict[str, Any]]) -> None:
    """Each create links to the routes of the record it made (`{…_id}` = the new id), for
    clients and for schemathesis's stateful phase, which follows them."""
    for collection, item in paths.items():
        created = item.get("post", {}).get("responses", {}).get("201")
        if created is None:
            continue
        links: dict[str, Any] = {}
        for path, operations in paths.items():
            params = _PATH_PARAM.findall(path.replace("{", "<").replace("}", ">"))
            if not path.startswith(collection + "/{") or len(params) != 1:
                continue
            for operation in operations.values():
                links[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": {params[0]: "$response.body#/data/id"},
                }
        created["links"] = links


def build(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document for every documented route of `app`."""
    paths: dict[str, dict[str, Any]] = {}
    models: set[type[BaseModel]] = set()
    used_tags: set[str] = set()
    for rule in app.url_map.iter_rules():
        doc: EndpointDoc | None = getattr(app.view_functions[rule.endpoint], "api_doc", None)
        if doc is None:
            continue
        path = _PATH_PARAM.sub(r"{\1}", rule.rule)
        path_params = _PATH_PARAM.findall(rule.rule)
        tag = tag_of(rule.endpoint.partition(".")[0], path)
        used_tags.add(tag)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(
                method.lower(), doc, path_params, tag
            )
        models.update(m for m in (doc.body, doc.response) if m is not None)
    paths = dict(sorted(paths.items()))
    _add_links(paths)
    ordered = sorted(models, key=lambda m: m.__name__)
    _, defs = models_json_schema(
        [(model, "validation") for model in ordered],
        ref_template="#/components/schemas/{model}",
        schema_generator=SchemaGenerator,
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Local-first booking service",
            "version": version("booking-service"),
            "description": _DESCRIPTION,
        },
        "tags": [
            {"name": name, "description": TAG_TEXT.get(name, "")} for name in sorted(used_tags)
        ],
        "paths": paths,
        "components": {
            "schemas": {**defs.get("$defs", {}), "Error": ERROR_SCHEMA},
            "responses": shared_responses(),
            "headers": HEADERS,
            "parameters": PARAMETERS,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key made with `booking keys create`: sk_….",
                }
            },
        },
    }
