"""The shop's settings on the pages: read once per request, and the Settings page (admin).

Every page reads them through `current_shop()`: the clock (24- or 12-hour) for every time shown
and typed, the first weekday for the week view and every list of weekdays, and the country for
reading phone numbers.
"""

from __future__ import annotations

import sqlite3

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app import store
from app.domain import shop_settings
from app.domain.shop_settings import ShopSettings
from app.web.api import db
from app.web.errors import ApiError
from app.web.routes.services import counter_pages
from app.web.ui.access import requires
from app.web.ui.blueprint import bp
from app.web.ui.forms import answer, field_errors

SETTINGS_FIELDS = ("country", "clock", "first_weekday")
CLOCK_NAMES = {"24h": "24-hour (14:30)", "12h": "12-hour (2:30 PM)"}


def current_shop() -> ShopSettings:
    """This request's shop settings (read on first use)."""
    if "shop" not in g:
        try:
            g.shop = shop_settings.read(db())
        except (sqlite3.Error, store.StorageProblem):  # the error page of a database that
            g.shop = ShopSettings()  # cannot be read (a damaged file, a lost server) still renders
    return g.shop


@bp.get("/settings")
@requires("booking:admin")
def settings_page() -> str | tuple[str, int]:
    """The shop's country, clock and first weekday (admin)."""
    return _settings_page()


@bp.post("/settings")
@requires("booking:admin")
def save_settings() -> Response | str | tuple[str, int]:
    """302 back | 422 validation_error by the fields, nothing stored."""
    form = request.form
    try:
        counter_pages.update_shop_settings(
            db(),
            country=form.get("country", ""),
            clock=form.get("clock", ""),
            first_weekday=form.get("first_weekday", ""),
        )
    except ApiError as error:
        return _settings_page(error=error)
    flash("Settings saved; every page uses them now.")
    return redirect(url_for("ui.settings_page"))


def _settings_page(error: ApiError | None = None) -> str | tuple[str, int]:
    shop = current_shop()
    current = {"country": shop.country, "clock": shop.clock, "first_weekday": shop.first_weekday}
    page = render_template(
        "settings.html",
        countries=[("", "Not set")] + [(c, c) for c in shop_settings.countries()],
        clocks=list(CLOCK_NAMES.items()),
        values=request.form if error is not None else MultiDict(current),
        error=error,
        errors=field_errors(error, SETTINGS_FIELDS),
    )
    return answer(page, error)
