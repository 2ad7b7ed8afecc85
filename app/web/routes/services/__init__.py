"""The web side of each domain service: a validated request model in, the API's JSON out.

Each function turns the model into the plain arguments the domain takes, decodes and signs the
list cursors (app/domain/pagination.py), and shapes the domain's rows with app/web/presenters.py.
The API's routes and the UI's pages both call these, so a page accepts nothing the API refuses.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def sent_fields(payload: BaseModel) -> dict[str, Any]:
    """The fields a PATCH body named, with their values: what the domain applies."""
    return {name: getattr(payload, name) for name in payload.model_fields_set}
