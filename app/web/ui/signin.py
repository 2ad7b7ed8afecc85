"""Sign in (staff name and PIN, or an API key) and sign out: the pages open without a session.

"Keep me signed in on this computer" makes the cookie outlast the browser (a trusted counter
laptop): it then lives as long as the server keeps the session (access.SESSION_DAYS). Without
it, the session ends when the browser closes. Either way the server holds the session, so Sign
out, a revoked key or a removed staff member ends it everywhere.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from flask import flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from app import store
from app.core.times import wall_ms
from app.domain import staff
from app.store import signin_links
from app.web.api import db
from app.web.auth import ApiKey, authenticate
from app.web.errors import Forbidden, Unauthorized
from app.web.ui.access import (
    PAGE_SCOPE,
    STAFF_PREFIX,
    session_expired_before,
    session_hash,
    signed_in_key,
    staff_key,
)
from app.web.ui.blueprint import bp


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would send staff elsewhere after sign-in.

    Browsers read `//host`, `/\\host` and `/<tab>/host` as other sites, so none of those pass.
    """
    if target and re.fullmatch(r"/(?![/\\])[^\s\\]*", target):
        return target
    return url_for("ui.day")


def _page(errors: dict[str, list[str]], status: int = 200) -> tuple[str, int]:
    form = request.form if request.method == "POST" else {}
    values = {"staff_name": form.get("staff_name", ""), "remember": form.get("remember", "")}
    page = render_template(
        "signin.html",
        errors=errors,
        values=values,
        next=request.values.get("next", ""),
        has_staff=staff.everyone(db()) != [],
    )
    return page, status


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> str | Response | tuple[str, int]:
    """Sign in: 302 to the page asked for | 401 (or 403 for a sync-only key) by the field."""
    if request.method == "GET":
        if signed_in_key() is not None:
            return redirect(_safe_next(request.args.get("next")))
        return _page({})
    if "api_key" in request.form:
        return _signin_with_key()
    return _signin_as_staff()


def _signin_as_staff() -> Response | tuple[str, int]:
    name, secret = request.form.get("staff_name", ""), request.form.get("pin", "")
    if not name.strip() or not secret:
        return _page({"pin": ["Type your name and your PIN or password."]}, 401)
    try:
        member = staff.verify(db(), name, secret)
    except staff.SignInRefused as refusal:
        return _page({"pin": [refusal.message]}, 429 if refusal.locked_until else 401)
    _start_session(staff_key(member), remember=request.form.get("remember") == "1")
    return redirect(_safe_next(request.form.get("next")))


def _signin_with_key() -> Response | tuple[str, int]:
    try:
        key = authenticate(db(), f"Bearer {request.form.get('api_key', '').strip()}")
        if not key.grants(PAGE_SCOPE):
            raise Forbidden("This key is for hub sync only; sign in with a booking key.")
    except (Unauthorized, Forbidden) as error:
        message = error.message
        if isinstance(error, Unauthorized) and error.message == Unauthorized.message:
            message = "That key is not valid. Paste the whole key, starting with sk_."
        return _page({"api_key": [message]}, error.status)
    _start_session(key, remember=request.form.get("remember") == "1")
    return redirect(_safe_next(request.form.get("next")))


def _start_session(key: ApiKey, *, remember: bool = False) -> None:
    """A fresh server-side session (and CSRF token) for `key`."""
    session.clear()
    sid = secrets.token_urlsafe(32)
    id_hash = hashlib.sha256(sid.encode()).hexdigest()
    with store.transaction(db()):
        store.insert_ui_session(db(), id_hash, key.id, wall_ms(), session_expired_before())
    session["sid"] = sid
    # A permanent cookie (Flask keeps it 31 days) outlives the browser; the server ends the
    # session after SESSION_DAYS all the same.
    if remember:
        session.permanent = True
    flash(f"Signed in as {key.name}.")


@bp.get("/signin/link")
def signin_link() -> Response | tuple[str, int]:
    """A one-time link made by `booking open` on this laptop: 302 to the day page, signed in |
    401 on the sign-in page when it is unknown, used or out of time.

    Only a SHA-256 of the token is stored, and using it deletes it, so the link left in the
    browser's history signs no one in again. Its key is checked like a typed one; a link made
    for a staff member (key_id `stf_...`) signs them in as their role.
    """
    token = request.args.get("token", "")
    with store.transaction(db()):
        key_id = signin_links.take_signin_link(
            db(), hashlib.sha256(token.encode()).hexdigest(), wall_ms()
        )
    key = _link_key(key_id)
    if key is None:
        message = (
            "That sign-in link was used already or is out of time; run `booking open` again, "
            "or sign in with a key."
        )
        return _page({"api_key": [message]}, 401)
    _start_session(key)
    response = redirect(url_for("ui.day"))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _link_key(key_id: str | None) -> ApiKey | None:
    """The live key or staff member a sign-in link was made for, or None."""
    if key_id and key_id.startswith(STAFF_PREFIX):
        member = staff.find(db(), key_id)
        return staff_key(member) if member is not None else None
    record = store.get_api_key(db(), key_id) if key_id else None
    if record is None or record["revoked_at"] is not None:
        return None
    return ApiKey.from_record(record)


@bp.post("/signout")
def signout() -> Response:
    """End the session on the server, so no copy of the cookie signs in again; then forget it."""
    id_hash = session_hash()
    if id_hash is not None:
        with store.transaction(db()):
            store.delete_ui_session(db(), id_hash)
    session.clear()
    flash("Signed out.")
    return redirect(url_for("ui.signin"))
