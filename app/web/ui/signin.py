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
from app.web.api import db
from app.web.auth import ApiKey, authenticate
from app.web.errors import Forbidden, Unauthorized
from app.web.ui.access import (
    PAGE_SCOPE,
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
    return _start_session(staff_key(member))


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
    return _start_session(key)


def _start_session(key: ApiKey) -> Response:
    """A fresh server-side session (and CSRF token) for `key`, then the page asked for."""
    remember = request.form.get("remember") == "1"
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
    return redirect(_safe_next(request.form.get("next")))


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
