"""Sign in with an API key, and sign out: the only pages open without a session."""

from __future__ import annotations

import hashlib
import re
import secrets

from flask import flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from app import store
from app.core.times import wall_ms
from app.store import signin_links
from app.web.api import db
from app.web.auth import ApiKey, authenticate
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
    _start_session(key)
    return redirect(_safe_next(request.form.get("next")))


def _start_session(key: ApiKey) -> None:
    session.clear()  # a fresh session (and CSRF token) for the signed-in user
    sid = secrets.token_urlsafe(32)
    id_hash = hashlib.sha256(sid.encode()).hexdigest()
    with store.transaction(db()):
        store.insert_ui_session(db(), id_hash, key.id, wall_ms(), session_expired_before())
    session["sid"] = sid
    flash(f"Signed in as {key.name}.")


@bp.get("/signin/link")
def signin_link() -> Response | tuple[str, int]:
    """A one-time link made by `booking open` on this laptop: 302 to the day page, signed in |
    401 on the sign-in page when it is unknown, used or out of time.

    Only a SHA-256 of the token is stored, and using it deletes it, so the link left in the
    browser's history signs no one in again. Its key is checked like a typed one.
    """
    token = request.args.get("token", "")
    with store.transaction(db()):
        key_id = signin_links.take_signin_link(
            db(), hashlib.sha256(token.encode()).hexdigest(), wall_ms()
        )
    record = store.get_api_key(db(), key_id) if key_id else None
    if record is None or record["revoked_at"] is not None:
        message = (
            "That sign-in link was used already or is out of time; run `booking open` again, "
            "or sign in with a key."
        )
        page = render_template("signin.html", errors={"api_key": [message]}, next="")
        return page, 401
    _start_session(ApiKey.from_record(record))
    response = redirect(url_for("ui.day"))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


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
