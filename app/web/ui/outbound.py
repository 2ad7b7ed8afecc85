"""The Messages page (outbox, reminders, webhooks, feeds) and the Import page.

Import takes customers and bookings from CSV or JSON; exports download as either.
"""

from __future__ import annotations

import io

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.domain import feeds, transfer, webhooks
from app.domain.transfer import ImportRefused
from app.web import transfer as files
from app.web.api import db
from app.web.errors import ApiError, NotFound, ValidationFailed
from app.web.models.outbound import MessageListQuery, MessagingSettingsPatch
from app.web.models.parsing import validate
from app.web.routes.services import outbound as services
from app.web.ui.access import requires
from app.web.ui.blueprint import bp
from app.web.ui.lists import all_resources, every, shop_zone

SHOWN_MESSAGES = 300


def _sender() -> str:
    sends = "booking.outbound_worker" in current_app.extensions
    return services.sender_role(current_app.config.get("HUB_URL"), sends)


@bp.get("/messages")
def messages_page() -> str:
    """The outbox, newest first, with the shop's messaging settings."""
    return _messages_page()


@bp.post("/messages/settings")
@requires("booking:admin")
def save_messaging() -> Response | str | tuple[str, int]:
    """Admin: 302 back | 422 validation_error beside the field."""
    form = request.form
    data: dict[str, object] = {}
    if "channels_shown" in form:  # unticked boxes send nothing: the marker says they were shown
        data["channels"] = form.getlist("channels")
    if "reminder_minutes" in form:
        minutes = [part.strip() for part in form["reminder_minutes"].split(",")]
        data["reminder_minutes"] = [int(m) if m.isdigit() else m for m in minutes if m]
    if "shop_name" in form:
        data["shop_name"] = form["shop_name"].strip() or None
    try:
        services.update_settings(db(), validate(MessagingSettingsPatch, data), _sender())
    except ValidationFailed as error:
        return _messages_page(error=error), error.status
    flash("Messaging settings saved.")
    return redirect(url_for("ui.messages_page"))


@bp.post("/messages/feeds")
@requires("booking:admin")
def create_feed() -> Response | str | tuple[str, int]:
    """Admin: a new calendar feed; its secret address is shown once, on the next page."""
    resource_id = request.form.get("resource_id") or None
    base = current_app.config.get("PUBLIC_URL") or request.host_url
    try:
        made = services.create_feed(db(), resource_id, None, base)
    except ApiError as error:
        return _messages_page(error=error), error.status
    flash(f"Calendar feed made. Its address, shown only now: {made['url']}")
    return redirect(url_for("ui.messages_page"))


@bp.post("/messages/feeds/<feed_id>/revoke")
@requires("booking:admin")
def revoke_feed(feed_id: str) -> Response:
    """Admin: the feed's address stops working."""
    feeds.revoke(db(), feed_id)
    flash("Calendar feed revoked.")
    return redirect(url_for("ui.messages_page"))


def _messages_page(error: ApiError | None = None) -> str:
    state = request.args.get("state") or None
    params = {"state": state} if state in services.outbox.STATES else {}
    rows = every(services.list_messages, MessageListQuery, params, cap=10_000)
    resources = all_resources()
    return render_template(
        "messages.html",
        rows=list(reversed(rows))[:SHOWN_MESSAGES],
        total=len(rows),
        state=params.get("state"),
        states=services.outbox.STATES,
        settings=services.settings_json(db(), _sender()),
        counts=services.count_states(db()),
        hooks=[services.webhook(row) for row in webhooks.every(db())],
        feed_rows=[services.feed(row) for row in feeds.every(db())],
        resources=resources,
        shop_zone=shop_zone(resources),
        error=error,
    )


@bp.get("/import")
def import_page() -> str:
    """Import customers or bookings from a file; download exports."""
    return render_template("import.html", report=None, error=None, kind="customers")


@bp.post("/import")
@requires("booking:write")
def import_file() -> str | tuple[str, int]:
    """201-like page with the counts | 422 with every refused line | 400 for an unreadable file."""
    kind = request.form.get("kind")
    upload = request.files.get("file")
    if kind not in files.KINDS or upload is None or not upload.filename:
        error = ValidationFailed("Choose what to import and a file.")
        return render_template("import.html", report=None, error=error, kind="customers"), 422
    try:
        text = upload.read().decode("utf-8-sig")
        chosen = files.format_of(upload.filename, request.form.get("format") or None)
        report = files.import_file(db(), kind, text, chosen)
    except (files.FileRefused, UnicodeDecodeError) as problem:
        error = ValidationFailed(f"{upload.filename} cannot be read: {problem}")
        return render_template("import.html", report=None, error=error, kind=kind), 422
    except ImportRefused as refused:
        error = ValidationFailed(refused.message, details=refused.details)
        return render_template("import.html", report=None, error=error, kind=kind), 422
    return render_template(
        "import.html", report=report, error=None, kind=kind, name=upload.filename
    )


@bp.get("/export/<kind>.<file_format>")
def export_file(kind: str, file_format: str) -> Response:
    """Every customer or booking as a CSV or JSON download."""
    if kind not in files.KINDS or file_format not in files.FORMATS:
        raise NotFound("Exports are customers or bookings, as csv or json.")
    rows = (
        transfer.export_customers(db()) if kind == "customers" else transfer.export_bookings(db())
    )
    columns = transfer.CUSTOMER_COLUMNS if kind == "customers" else transfer.BOOKING_COLUMNS
    out = io.StringIO()
    files.write_rows(rows, columns, file_format, out)
    mimetype = "text/csv" if file_format == "csv" else "application/json"
    return Response(
        out.getvalue(),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{kind}.{file_format}"'},
    )
