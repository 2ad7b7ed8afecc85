"""CSRF for the pages: one random token per session, sent back by every form.

The session cookie is SameSite=Lax, which already keeps most cross-site POSTs out; the token
covers the rest (older browsers, a sibling subdomain) at the cost of a hidden field.
"""

from __future__ import annotations

import hmac
import secrets

from flask import request, session

from app.web.errors import BadRequest


def csrf_token() -> str:
    """This session's CSRF token (made on first use; every form sends it back)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """400 unless the form's token is this session's; compared in constant time."""
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise BadRequest(
            "This form has expired or did not come from this site, so nothing was changed. "
            "Go back, reload the page and try again."
        )
