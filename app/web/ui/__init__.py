"""The shop's browser UI (API.md §7): server-rendered pages at `/` that work offline.

Pages are thin routes over the very request models and domain services the API uses, so a page
accepts nothing the API refuses: read the form, `validate` it with the API's model, call one
service, then redirect (or render). A refused action re-renders its form with the reason next
to the field, answers with the error's status, and has changed nothing. None of these routes
uses `@endpoint`: they are pages, not part of /openapi.json.

One blueprint, `ui`, with its routes split by area (day, bookings, customers, resources,
blockers, sync, sign-in): templates, tests and the worker pools name pages `ui.<page>`, and one
blueprint keeps those names. Importing an area module attaches its routes to `bp`:

    access.py    who may see a page: the signed-in key, admitted like an API request; @requires
    csrf.py      the session's CSRF token, checked on every POST
    signin.py    sign in and out (server-side sessions)
    filters.py   template filters and the names every template sees
    errors.py    errors as HTML pages
    health.py    the health page and the banner when a person is needed
    forms.py     form fields to the API's request models, and refusals back to fields
    lists.py     whole lists read through the domain's paged reads
    day_grid.py  the day view's layout: pure functions, no Flask
    week.py      the week views (one resource, or the whole shop); week_grid.py their layout
    staff.py     the Staff page: counter accounts (name, role, PIN)
    shop.py      the shop's settings (clock, first weekday, country), read once per request
    clocks.py    times of day on the shop's clock, shown and read back
"""

from __future__ import annotations

from app.web.ui import (  # noqa: F401  (importing a module registers its routes on bp)
    access,
    blockers,
    bookings,
    customers,
    day,
    errors,
    filters,
    health,
    outbound,
    resources,
    shop,
    shop_services,
    signin,
    staff,
    sync,
    week,
)
from app.web.ui.blueprint import bp

__all__ = ["bp"]
