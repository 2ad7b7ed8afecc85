"""Reading a request into a model: the JSON body (400/413), then every field error at once (422)."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from app.core import json_codec
from app.web.errors import BadRequest, UnsupportedMediaType, ValidationFailed

M = TypeVar("M", bound=BaseModel)

# Set by the area modules: the sentence a field's pattern mismatch is answered with.
PATTERN_HINTS = {
    "email": "Must be an email address such as ada@example.com.",
}


def _details(error: ValidationError) -> list[dict[str, str]]:
    details = []
    for item in error.errors(include_url=False):
        location = [str(part) for part in item["loc"]]
        if item["type"] == "field_rule":
            location.append(item["ctx"]["rule_field"])
        field = ".".join(location) or "body"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = f"Unknown field {item['loc'][-1]!r}."
        elif item["type"] == "string_pattern_mismatch":
            message = PATTERN_HINTS.get(str(item["loc"][-1]), "Does not have the expected format.")
        details.append({"field": field, "message": message})
    return details


def validate(model: type[M], data: Any) -> M:
    """Validate `data` against `model`, or raise 422 naming every bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ValidationFailed(details=_details(error)) from None


def is_json_type(mimetype: str) -> bool:
    """application/json, or a JSON-based type such as application/merge-patch+json."""
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def json_object() -> dict[str, Any]:
    """The body as a JSON object: 415 when it is declared as something else, 413 when over the
    limit, 400 unless it is a JSON object.

    A body sent with no Content-Type at all is read as JSON: it claims nothing else.
    """
    if request.mimetype and not is_json_type(request.mimetype):
        raise UnsupportedMediaType()
    try:  # get_data raises the 413 before reading when Content-Length is over the limit
        body = json_codec.read_body(request.get_data())
    except json_codec.BodyRefused as error:
        raise BadRequest(str(error)) from None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    return body


def parse_body(model: type[M]) -> M:
    """The JSON object body as `model`: 400 unless it is a JSON object, 422 on bad fields."""
    return validate(model, json_object())


def parse_query(model: type[M]) -> M:
    return validate(model, request.args.to_dict())
