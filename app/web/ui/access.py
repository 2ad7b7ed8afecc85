"""Who may see a page: the signed-in session's key, admitted exactly as an API request is.

Signing in takes a staff member's name and PIN (app/domain/staff.py), or an API key. A staff
member acts as a key of their role's scope, named after them (so the booking history says who
did what), with the default rate limit and no token balance.

The signed session cookie keeps only a random session id, held on the server with the key's id
(Sign out deletes it, so a copied cookie dies too): every request re-reads the session and the
key, so a revoked key is signed out at once. Every page then goes through `auth.admit`, the
API's own 403 → 429 → 402 gate, so it counts against the key's rate limit and token balance as
an API request does; `@requires(scope)` guards the pages and forms that need more than reading,
and the key's scopes decide which buttons a page shows.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from app import store
from app.core.times import wall_ms
from app.core.vocabulary import DAY_MS
from app.domain import staff
from app.settings import setting
from app.web.api import db
from app.web.auth import ApiKey, admit
from app.web.errors import Forbidden
from app.web.headers import add_missing
from app.web.ui.blueprint import bp
from app.web.ui.csrf import check_csrf

PUBLIC_PAGES = {"ui.signin", "ui.signin_link"}
SESSION_DAYS = 30  # a sign-in older than this is over, even if the browser was never closed
# Every page shows the shop's bookings and customers; sign-in refuses keys without this scope.
PAGE_SCOPE = "booking:read"
STAFF_PREFIX = "stf_"  # a session's key_id names a staff member instead of an API key
# 'unsafe-inline' styles only: the day view places bookings with style="--top: ..." attributes.
PAGE_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)

P = ParamSpec("P")
R = TypeVar("R")


@bp.before_request
def _authorize_page() -> Response | None:
    """CSRF on every POST; then a live, signed-in key, admitted like an API request."""
    if request.method == "POST":
        check_csrf()
    if request.endpoint in PUBLIC_PAGES:
        return None
    key = signed_in_key()
    if key is None:
        wanted = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("ui.signin", next=wanted))
    g.api_key = key  # before admit, so a 429 or 402 page still shows who is signed in
    admit(key, PAGE_SCOPE)
    return None


@bp.after_request
def _page_headers(response: Response) -> Response:
    """Pages use only this app's assets, are never framed (clickjacking), and are not cached
    (the back button after Sign out must not show customers' details)."""
    add_missing(
        response,
        {
            "Content-Security-Policy": PAGE_POLICY,
            "X-Frame-Options": "DENY",
            "Cache-Control": "no-store",
        },
    )
    return response


def session_hash() -> str | None:
    """The stored form of the cookie's session id: a SHA-256, so the table holds no live id."""
    sid = session.get("sid")
    return hashlib.sha256(sid.encode()).hexdigest() if isinstance(sid, str) else None


def session_expired_before() -> int:
    return wall_ms() - SESSION_DAYS * DAY_MS


def signed_in_key() -> ApiKey | None:
    """The session's key, re-read now: a session signed out (from any copy of the cookie) or a
    key revoked since signing in is signed out."""
    id_hash = session_hash()
    key_id = id_hash and store.ui_session_key(db(), id_hash, session_expired_before())
    if key_id and key_id.startswith(STAFF_PREFIX):
        member = staff.find(db(), key_id)
        if member is None:  # removed since: signed out at once, like a revoked key
            session.pop("sid", None)
            return None
        return staff_key(member)
    record = store.get_api_key(db(), key_id) if key_id else None
    if record is None or record["revoked_at"] is not None:
        session.pop("sid", None)
        return None
    return ApiKey.from_record(record)


def staff_key(member: dict) -> ApiKey:
    """The key a signed-in staff member acts as: their role's scope, under their name."""
    return ApiKey(
        id=member["id"],
        name=member["name"],
        scopes=frozenset({member["role"]}),
        rate_limit=setting("DEFAULT_RATE_LIMIT"),
        tokens_remaining=None,
        node_id=None,
    )


def can(scope: str) -> bool:
    """Whether the signed-in key holds `scope`; pages show only the buttons it allows."""
    key: ApiKey | None = g.get("api_key")
    return key is not None and key.grants(scope)


def requires(scope: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A page or form for keys holding `scope` only: others get a 403 page, and no change."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            if not can(scope):
                raise Forbidden(
                    f"Your API key lacks the {scope} scope; ask an admin for one that has it."
                )
            return view(*args, **kwargs)

        return guarded

    return decorate
