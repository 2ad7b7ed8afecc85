"""Sign in with an API key, and sign out: the only pages open without a session."""

from __future__ import annotations

import hashlib
import re
import secrets

from flask import flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from app import store
from app.core.times import wall_ms
from app.web.api import db
from app.web.auth import authenticate
from app.web.errors import Forbidden, Unauthorized
from app.web.ui.access import PAGE_SCOPE, session_expired_before, session_hash, signed_in_key
from app.web.ui.blueprint import bp


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would send staff elsewhere after sign-in.

    Browsers read `//host`, `/\\host` and `/<tab>/host` as other sites, so none of those pass.
    """
    if target and re.fullmatch(r"/(?![/\\])[^\s\\]*", target):
        return target
    return url_for("ui.day")


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> str | Response | tuple[str, int]:
    """Sign in with an API key: 302 to the page asked for | 401 with the reason by the field."""
    if request.method == "GET":
        if signed_in_key() is not None:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("signin.html", errors={}, next=request.args.get("next", ""))
    try:
        key = authenticate(db(), f"Bearer {request.form.get('api_key', '').strip()}")
        if not key.grants(PAGE_SCOPE):
            raise Forbidden("This key is for hub sync only; sign in with a booking key.")
    except (Unauthorized, Forbidden) as error:
        message = error.message
        if isinstance(error, Unauthorized) and error.message == Unauthorized.message:
            message = "That key is not valid. Paste the whole key, starting with sk_."
        errors = {"api_key": [message]}
        page = render_template("signin.html", errors=errors, next=request.form.get("next", ""))
        return page, error.status
    session.clear()  # a fresh session (and CSRF token) for the signed-in user
    sid = secrets.token_urlsafe(32)
    id_hash = hashlib.sha256(sid.encode()).hexdigest()
    with store.transaction(db()):
        store.insert_ui_session(db(), id_hash, key.id, wall_ms(), session_expired_before())
    session["sid"] = sid
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
