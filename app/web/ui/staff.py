"""The Staff page (admin): counter accounts with a name, a role and a PIN or password."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app.core.times import wall_ms
from app.domain import staff
from app.web.api import db
from app.web.errors import ApiError
from app.web.routes.services import counter_pages as refusals
from app.web.ui.access import requires
from app.web.ui.blueprint import bp
from app.web.ui.forms import answer, field_errors

STAFF_FIELDS = ("name", "role", "secret")


@bp.get("/staff")
@requires("booking:admin")
def staff_page() -> str | tuple[str, int]:
    """Every staff account; add, change, unlock and remove them (admin)."""
    return _staff_page()


@bp.post("/staff")
@requires("booking:admin")
def create_staff() -> Response | str | tuple[str, int]:
    """302 back | 422 validation_error by the fields, nothing made."""
    new = staff.NewMember(
        name=request.form.get("name", ""),
        role=request.form.get("role", ""),
        secret=request.form.get("secret", ""),
    )
    try:
        made = refusals.create_staff(db(), new)
    except ApiError as error:
        return _staff_page(error=error)
    flash(f"Added {made['name']}. They sign in with their name and PIN.")
    return redirect(url_for("ui.staff_page"))


@bp.post("/staff/<staff_id>")
@requires("booking:admin")
def change_staff(staff_id: str) -> Response | str | tuple[str, int]:
    """A new role, and a new PIN if one is typed: 302 back | 422 by the fields | 404."""
    secret = request.form.get("secret", "")
    try:
        changed = refusals.change_staff(
            db(), staff_id, role=request.form.get("role", ""), secret=secret or None
        )
    except ApiError as error:
        if error.status != 422:
            raise
        return _staff_page(error=error, editing=staff_id)
    flash(f"Saved {changed['name']}." + (" The new PIN works now." if secret else ""))
    return redirect(url_for("ui.staff_page"))


@bp.post("/staff/<staff_id>/unlock")
@requires("booking:admin")
def unlock_staff(staff_id: str) -> Response:
    """302 back | 404."""
    member = refusals.unlock_staff(db(), staff_id)
    flash(f"Unlocked {member['name']}.")
    return redirect(url_for("ui.staff_page"))


@bp.post("/staff/<staff_id>/delete")
@requires("booking:admin")
def delete_staff(staff_id: str) -> Response:
    """302 back | 404. Their sessions end at once."""
    member = refusals.remove_staff(db(), staff_id)
    flash(f"Removed {member['name']}; they are signed out everywhere.")
    return redirect(url_for("ui.staff_page"))


def _staff_page(error: ApiError | None = None, editing: str | None = None) -> str | tuple[str, int]:
    values = (
        request.form
        if error is not None and editing is None
        else MultiDict({"role": "booking:write"})
    )
    page = render_template(
        "staff.html",
        members=staff.everyone(db()),
        roles=staff.ROLES,
        now=wall_ms(),
        values=values,
        editing=editing,
        error=error,
        errors=field_errors(error, STAFF_FIELDS),
    )
    return answer(page, error)
