"""The sync page: hub, last sync, pending changes, anomalies and what sync cancelled."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from app.core.times import format_instant, wall_ms
from app.core.vocabulary import ACTIVE_STATUSES, CANCELLED, DAY_MS
from app.web.api import db
from app.web.errors import ApiError, InvalidState
from app.web.models.bookings import BookingListQuery
from app.web.routes.services import bookings, customers
from app.web.ui.access import requires
from app.web.ui.blueprint import bp
from app.web.ui.lists import all_resources, every, or_none, shop_zone
from sync import service as sync_service
from sync import status as sync_status


@bp.get("/sync")
def sync_page() -> str:
    """Hub, last sync, pending changes, last error, anomalies, sync-conflict cancellations."""
    return _sync_page()


@bp.post("/sync")
@requires("booking:admin")
def sync_now() -> Response | tuple[str, int]:
    """Admin, as POST /sync/run: 302 back | 422 when this node has no hub."""
    worker = current_app.extensions.get("booking.sync_worker")
    if worker is None:
        problem = InvalidState(
            "This node has no hub configured; start it with --hub URL --hub-key KEY to sync."
        )
        return _sync_page(error=problem), problem.status
    worker.run_now()
    flash("Sync started; this page shows the result in a moment.")
    return redirect(url_for("ui.sync_page"))


def _sync_page(error: ApiError | None = None) -> str:
    since = format_instant(wall_ms() - DAY_MS)
    cancelled = every(bookings.list_page, BookingListQuery, {"status": CANCELLED, "from": since})
    lost = [b for b in cancelled if (b["cancel_reason"] or "").startswith("sync_conflict")]
    active = {"status": ",".join(ACTIVE_STATUSES), "from": since}
    upcoming = every(bookings.list_page, BookingListQuery, active)
    resource_rows = all_resources()
    return render_template(
        "sync.html",
        state=sync_status.describe(db(), current_app.config.get("HUB_URL")),
        anomalies=sync_service.anomalies(db()),
        lost=lost,
        double_booked=[b for b in upcoming if b["conflict_with"]],
        people={b["id"]: or_none(customers.get, b["customer_id"]) for b in lost},
        zones={r["id"]: r["timezone"] for r in resource_rows},
        shop_zone=shop_zone(resource_rows),
        has_worker=current_app.extensions.get("booking.sync_worker") is not None,
        error=error,
    )
