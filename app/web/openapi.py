"""Build the OpenAPI 3.1 document from the app's routes and their `endpoint` declarations.

Request schemas are the pydantic models that validate requests; response schemas are
app.web.schemas. Every status a route can answer is listed, so generated clients and fuzzers
(schemathesis) see the whole contract.
"""

from __future__ import annotations

import re
from importlib.metadata import version
from typing import Any

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.web.api import EndpointDoc

STATUS_TEXT = {
    400: "The body is not a JSON object, nests over 64 deep, holds a lone surrogate or an "
    "integer over 4,300 digits (bad_request).",
    401: "Missing, unknown or revoked API key (unauthorized).",
    402: "The key has no tokens left (insufficient_tokens).",
    403: "The key lacks the scope (forbidden).",
    404: "No record with that id (not_found).",
    409: "Sync protocol conflict.",
    413: "The body is over 1 MiB (payload_too_large).",
    422: "Validation or business-rule error.",
    429: "Over the key's rate limit (rate_limited); see Retry-After.",
    503: "The database cannot be written now (storage_full, storage_unavailable, "
    "storage_busy), or the request ran past its deadline (request_too_expensive); see "
    "Retry-After.",
}
_ERROR = {"$ref": "#/components/schemas/Error"}
_PATH_PARAM = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")


def _error_schema() -> dict[str, Any]:
    detail = {
        "type": "object",
        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
        "required": ["field", "message"],
    }
    return {
        "type": "object",
        "required": ["status", "error"],
        "properties": {
            "status": {"const": "error"},
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "details": {"type": "array", "items": detail},
                },
            },
        },
    }


def _list_meta() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["limit", "next_cursor", "has_more"],
        "properties": {
            "limit": {"type": "integer"},
            "next_cursor": {"type": ["string", "null"]},
            "has_more": {"type": "boolean"},
        },
    }


def _shingleai_list_meta() -> dict[str, Any]:
    names = {"limit": "integer", "offset": "integer", "hasMore": "boolean", "total": "integer"}
    pagination = {
        "type": "object",
        "required": list(names),
        "properties": {name: {"type": kind} for name, kind in names.items()},
    }
    return {"type": "object", "required": ["pagination"], "properties": {"pagination": pagination}}


def _success(doc: EndpointDoc) -> dict[str, Any]:
    data: dict[str, Any] = {"type": "object"}
    if doc.response is not None:
        data = {"$ref": f"#/components/schemas/{doc.response.__name__}"}
    if doc.is_list:
        data = {"type": "array", "items": data}
    if doc.envelope == "shingleai":  # ShingleAI's shape: no "status", offset pagination
        shape: dict[str, Any] = {
            "type": "object",
            "required": ["data"],
            "properties": {"data": data},
        }
        if doc.is_list:
            shape["properties"]["meta"] = _shingleai_list_meta()
            shape["required"].append("meta")
        return shape
    schema: dict[str, Any] = {
        "type": "object",
        "required": ["status", "data"],
        "properties": {"status": {"const": "ok"}, "data": data},
    }
    meta = _list_meta() if doc.is_list else doc.meta
    if meta is not None:
        schema["properties"]["meta"] = meta
        schema["required"].append("meta")
    return schema


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema["properties"].items()
    ]


def _statuses(doc: EndpointDoc, has_path_id: bool) -> list[int]:
    statuses: list[int] = []
    if doc.scope is not None:
        statuses += [401, 402, 403, 429]
    if doc.body is not None:
        statuses += [400, 413, 422]
    if doc.query is not None or doc.errors or doc.body is not None:
        statuses.append(422)
    if has_path_id:
        statuses.append(404)
    statuses.append(503)  # any request may need a write (a token spent) or run out of time
    return sorted(set(statuses))


def _operation(rule_path: str, method: str, doc: EndpointDoc, path_params: list[str]) -> dict:
    operation: dict[str, Any] = {
        "summary": doc.summary,
        "operationId": f"{method}_{rule_path}".replace("/", "_").replace("{", "").replace("}", ""),
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in path_params
        ],
        "responses": {
            str(doc.status): {
                "description": "Success.",
                "content": {"application/json": {"schema": _success(doc)}},
            }
        },
    }
    if doc.scope is not None:
        operation["security"] = [{"bearer": [doc.scope]}]
        operation["description"] = f"Needs the `{doc.scope}` scope (or one that implies it)."
    if doc.query is not None:
        operation["parameters"] += _query_parameters(doc.query)
    if doc.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{doc.body.__name__}"}
                }
            },
        }
    for status in _statuses(doc, bool(path_params)):
        text = STATUS_TEXT[status]
        if status == 422 and doc.errors:
            text += " Codes: validation_error, " + ", ".join(doc.errors) + "."
        operation["responses"][str(status)] = {
            "description": text,
            "content": {"application/json": {"schema": _ERROR}},
        }
    return operation


def build(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document for every documented route of `app`."""
    paths: dict[str, dict[str, Any]] = {}
    models: set[type[BaseModel]] = set()
    for rule in app.url_map.iter_rules():
        doc: EndpointDoc | None = getattr(app.view_functions[rule.endpoint], "api_doc", None)
        if doc is None:
            continue
        path = _PATH_PARAM.sub(r"{\1}", rule.rule)
        path_params = _PATH_PARAM.findall(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(
                path, method.lower(), doc, path_params
            )
        models.update(m for m in (doc.body, doc.response) if m is not None)
    ordered = sorted(models, key=lambda m: m.__name__)
    _, defs = models_json_schema(
        [(model, "validation") for model in ordered], ref_template="#/components/schemas/{model}"
    )
    schemas = {**defs.get("$defs", {}), "Error": _error_schema()}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Local-first booking service",
            "version": version("booking-service"),
            "description": "The SaaSignal booking module and ShingleAI customers API, offline.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
