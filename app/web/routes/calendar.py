"""The public calendar feed: GET /calendar/<token>.ics, no key (the token is the secret)."""

from __future__ import annotations

from flask import Blueprint, Response

from app.domain import feeds
from app.web.api import db, endpoint
from app.web.errors import NotFound

bp = Blueprint("calendar", __name__)


@bp.get("/calendar/<token>.ics")
@endpoint(scope=None, media_type="text/calendar")
def get_calendar_feed(token: str) -> Response:
    """A calendar feed (RFC 5545): no key, its secret address is the key.

    404 not_found for an unknown or revoked address. Calendar apps poll it; it may be kept for
    five minutes (Cache-Control: private, max-age=300).
    """
    found = feeds.by_token(db(), token)
    if found is None:
        raise NotFound("No calendar feed has this address; it may have been revoked.")
    body = feeds.calendar(db(), found)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Cache-Control": "private, max-age=300", "Content-Disposition": "inline"},
    )
