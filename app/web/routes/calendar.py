"""The public calendar feed: GET /calendar/<token>.ics, no key (the token is the secret)."""

from __future__ import annotations

from flask import Blueprint, Response

from app.domain import feeds
from app.web.api import db
from app.web.errors import NotFound

bp = Blueprint("calendar", __name__)


@bp.get("/calendar/<token>.ics")
def feed(token: str) -> Response:
    """200 text/calendar | 404 not_found for an unknown or revoked token."""
    found = feeds.by_token(db(), token)
    if found is None:
        raise NotFound("No calendar feed has this address; it may have been revoked.")
    body = feeds.calendar(db(), found)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Cache-Control": "private, max-age=300", "Content-Disposition": "inline"},
    )
