"""The shop's browser UI (API.md §7): server-rendered pages at `/` that work offline.

Pages are thin routes over the very request models and domain services the API uses, so a page
accepts nothing the API refuses: read the form, `validate` it with the API's model, call one
service, then redirect (or render). A refused action re-renders its form with the reason next
to the field, answers with the error's status, and has changed nothing.

Signing in takes an API key. The signed session cookie keeps only a random session id, held on
the server with the key's id (Sign out deletes it, so a copied cookie dies too): every request
re-reads the session and the key, so a revoked key is signed out at once, and the key's scopes
decide which buttons a page shows and which forms it accepts. A page request counts against the
key's rate limit and token balance exactly as an API request does. Every POST carries the
session's CSRF token. None of these routes uses `@endpoint`: they are pages, not part of
/openapi.json.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from pydantic import BaseModel
from sqlite_utils import Database
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from app import storage
from app.api import actor, cursor_secret, db
from app.auth import ApiKey, RateLimiter, authenticate
from app.domain.availability import open_intervals
from app.errors import (
    ApiError,
    BadRequest,
    Forbidden,
    InsufficientTokens,
    InvalidState,
    NotFound,
    Unauthorized,
    ValidationFailed,
    api_error_for,
)
from app.routes.services import blockers, bookings, customers, resources
from app.times import INSTANT_PATTERN, format_instant, parse_instant, wall_ms
from app.validation import (
    AvailabilityQuery,
    BlockerCreate,
    BlockerListQuery,
    BookingCreate,
    BookingListQuery,
    BookingPatch,
    BookingTransition,
    CustomerCreate,
    CustomerListQuery,
    CustomerPatch,
    EventListQuery,
    ResourceCreate,
    ResourceListQuery,
    validate,
)
from sync import service as sync_service
from sync import status as sync_status

log = logging.getLogger(__name__)
bp = Blueprint("ui", __name__, url_prefix="")

PUBLIC_PAGES = {"ui.signin"}
SESSION_DAYS = 30  # a sign-in older than this is over, even if the browser was never closed
# 'unsafe-inline' styles only: the day view places bookings with style="--top: ..." attributes.
PAGE_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
MINUTE = 60_000
PAGE_ROWS = 100  # the API's largest page; pages that show "all" of something walk the cursors
MAX_ROWS = 1000  # a shop has a few resources and blockers; this bounds a page's work anyway
STATUS_LABELS = {
    "pending": "Pending",
    "confirmed": "Confirmed",
    "checked_in": "Checked in",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "no_show": "No-show",
}
MOVE_LABELS = {
    "confirmed": "Confirm",
    "checked_in": "Check in",
    "completed": "Complete",
    "cancelled": "Cancel booking",
    "no_show": "Mark no-show",
}
DAY_NAMES = {
    "mon": "Mon",
    "tue": "Tue",
    "wed": "Wed",
    "thu": "Thu",
    "fri": "Fri",
    "sat": "Sat",
    "sun": "Sun",
}
WEEKDAY_NAMES = {
    "MO": "Mon",
    "TU": "Tue",
    "WE": "Wed",
    "TH": "Thu",
    "FR": "Fri",
    "SA": "Sat",
    "SU": "Sun",
}
FREQUENCY_NAMES = {
    "daily": "Every day",
    "weekly": "Every week",
    "monthly": "Every month",
    "yearly": "Every year",
}
_INSTANT_IN_TEXT = re.compile(INSTANT_PATTERN.strip("^$"))
PLACEHOLDER_START, PLACEHOLDER_END = "2000-01-01T00:00:00Z", "2000-01-01T01:00:00Z"


# --- signing in, scopes and CSRF --------------------------------------------------------------


@bp.before_request
def _authorize_page() -> Response | None:
    """CSRF on every POST; then a live, signed-in key, counted like an API request."""
    if request.method == "POST":
        _check_csrf()
    if request.endpoint in PUBLIC_PAGES:
        return None
    key = _signed_in_key()
    if key is None:
        wanted = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("ui.signin", next=wanted))
    g.api_key = key
    _count_request(key)
    return None


def _session_hash() -> str | None:
    """The stored form of the cookie's session id: a SHA-256, so the table holds no live id."""
    sid = session.get("sid")
    return hashlib.sha256(sid.encode()).hexdigest() if isinstance(sid, str) else None


def _session_expired_before() -> int:
    return wall_ms() - SESSION_DAYS * 86_400_000


def _signed_in_key() -> ApiKey | None:
    """The session's key, re-read now: a session signed out (from any copy of the cookie) or a
    key revoked since signing in is signed out."""
    id_hash = _session_hash()
    key_id = id_hash and storage.ui_session_key(db(), id_hash, _session_expired_before())
    record = storage.get_api_key(db(), key_id) if key_id else None
    if record is None or record["revoked_at"] is not None:
        session.pop("sid", None)
        return None
    return ApiKey(
        id=record["id"],
        name=record["name"],
        scopes=frozenset(record["scopes"]),
        rate_limit=record["rate_limit"],
        tokens_remaining=record["tokens_remaining"],
        node_id=record["node_id"],
    )


@bp.after_request
def _page_headers(response: Response) -> Response:
    """Pages use only this app's assets, are never framed (clickjacking), and are not cached
    (the back button after Sign out must not show customers' details)."""
    response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _count_request(key: ApiKey) -> None:
    """The API's 429 and 402 rules, so a page is no way around a key's limits."""
    headers: dict[str, str] = {}
    g.response_headers = headers
    limiter: RateLimiter = current_app.extensions["booking.rate_limiter"]
    limiter.hit(key, headers)
    if key.tokens_remaining is not None:
        left = storage.spend_token(db(), key.id)
        if left is None:
            raise InsufficientTokens()
        headers["X-Tokens-Remaining"] = str(left)


def csrf_token() -> str:
    """This session's CSRF token (made on first use; every form sends it back)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def _check_csrf() -> None:
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise BadRequest(
            "This form has expired or did not come from this site, so nothing was changed. "
            "Go back, reload the page and try again."
        )


def can(scope: str) -> bool:
    """Whether the signed-in key holds `scope`; pages show only the buttons it allows."""
    key: ApiKey | None = g.get("api_key")
    return key is not None and key.grants(scope)


def _require(scope: str) -> None:
    if not can(scope):
        raise Forbidden(f"Your API key lacks the {scope} scope; ask an admin for one that has it.")


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
        if _signed_in_key() is not None:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("signin.html", errors={}, next=request.args.get("next", ""))
    try:
        key = authenticate(db(), f"Bearer {request.form.get('api_key', '').strip()}")
        if not key.grants("booking:read"):
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
    with storage.transaction(db()):
        storage.insert_ui_session(
            db(), hashlib.sha256(sid.encode()).hexdigest(), key.id, wall_ms(),
            _session_expired_before(),
        )  # fmt: skip
    session["sid"] = sid
    flash(f"Signed in as {key.name}.")
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/signout")
def signout() -> Response:
    """End the session on the server, so no copy of the cookie signs in again; then forget it."""
    id_hash = _session_hash()
    if id_hash is not None:
        with storage.transaction(db()):
            storage.delete_ui_session(db(), id_hash)
    session.clear()
    flash("Signed out.")
    return redirect(url_for("ui.signin"))


# --- page helpers -----------------------------------------------------------------------------


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "can": can,
        "csrf_token": csrf_token,
        "current_key": g.get("api_key"),
        "STATUS_LABELS": STATUS_LABELS,
        "MOVE_LABELS": MOVE_LABELS,
        "no_values": MultiDict(),
    }


def _zone(name: str | None) -> ZoneInfo:
    return ZoneInfo(name or "UTC")


def _to_local(value: str | int | None, zone: str | None) -> datetime | None:
    if value is None:
        return None
    millis = parse_instant(value) if isinstance(value, str) else value
    return datetime.fromtimestamp(millis / 1000, _zone(zone))


@bp.app_template_filter("clock")
def _clock(value: str | int | None, zone: str | None = None) -> str:
    """10:00 in the zone."""
    moment = _to_local(value, zone)
    return moment.strftime("%H:%M") if moment else ""


@bp.app_template_filter("when")
def _when(value: str | int | None, zone: str | None = None, with_clock: bool = True) -> str:
    """Mon 7 Jan 2030, 10:00 in the zone (without ", 10:00" when with_clock is false)."""
    moment = _to_local(value, zone)
    if moment is None:
        return "—"
    text = f"{moment:%a} {moment.day} {moment:%b %Y}"
    return f"{text}, {moment:%H:%M}" if with_clock else text


@bp.app_template_filter("day_of")
def _day_of(value: str | int | None, zone: str | None = None) -> str:
    """The local date (2030-01-07) of an instant, for links to its day."""
    moment = _to_local(value, zone)
    return moment.date().isoformat() if moment else ""


@bp.app_template_filter("last_day")
def _last_day(value: str, zone: str | None = None) -> str:
    """The last day an all-day interval covers: the day before its (midnight) end."""
    return _when(parse_instant(value) - 1, zone, with_clock=False)


@bp.app_template_filter("localize")
def _localize(message: str, zone: str | None = None) -> str:
    """A service's message with its UTC instants written as the shop's local time."""
    return _INSTANT_IN_TEXT.sub(lambda m: _when(m.group(0), zone), message)


def _instant(moment: datetime) -> str:
    return format_instant(int(moment.timestamp() * 1000))


def _day_bounds(day: date, zone: ZoneInfo) -> tuple[int, int]:
    """[local midnight, next local midnight) in ms: 23 or 25 hours on a clock-change day."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def _local_instant(day: str | None, clock: str | None, zone: ZoneInfo) -> str | None:
    """The UTC instant of a local date and HH:MM, or None when either cannot be read."""
    try:
        moment = datetime.combine(date.fromisoformat(day or ""), time.fromisoformat(clock or ""))
    except ValueError:
        return None
    return _instant(moment.replace(tzinfo=zone))


def _parse_day(text: str | None, zone: ZoneInfo) -> tuple[date, str | None]:
    today = datetime.now(zone).date()
    if not text:
        return today, None
    try:
        return date.fromisoformat(text), None
    except ValueError:
        return today, "Use a date such as 2030-01-07; showing today instead."


def _number(text: str | None) -> int | str | None:
    """A form's whole number as int; anything else as typed, so the model names the field."""
    text = (text or "").strip()
    if not text:
        return None
    return int(text) if re.fullmatch(r"-?\d{1,9}", text) else text


def _text(form: Mapping[str, str], name: str) -> str | None:
    """A text field, or None when left empty (the API's "not given")."""
    value = form.get(name, "")
    return value if value.strip() else None


def _validated(
    model: type[BaseModel],
    data: dict[str, Any],
    details: list[dict[str, str]],
    rename: Mapping[str, str] | None = None,
) -> Any:
    """`validate`, collecting its field errors into `details` (renamed to form fields)."""
    try:
        return validate(model, data)
    except ValidationFailed as error:
        for item in error.details:
            field = (rename or {}).get(item["field"], item["field"])
            details.append({**item, "field": field})
        return None


def _field_errors(error: ApiError | None, fields: Iterable[str]) -> dict[str, list[str]]:
    """Each detail under the form field it names (the longest matching dotted prefix).

    A detail naming no field of the form stays in the summary at the top of the form.
    """
    if error is None:
        return {}
    names = sorted(fields, key=len, reverse=True)
    found: dict[str, list[str]] = {}
    for item in error.details:
        field = item.get("field", "")
        target = next((n for n in names if field == n or field.startswith(f"{n}.")), None)
        if target is not None:
            found.setdefault(target, []).append(item["message"])
    return found


def _all(
    list_page: Callable[[Database, Any, str], tuple[list[dict[str, Any]], dict[str, Any]]],
    model: type[BaseModel],
    params: dict[str, Any],
    cap: int = MAX_ROWS,
) -> list[dict[str, Any]]:
    """Every row of a domain list (up to `cap`), walking its cursors as an API client would."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = validate(model, {**params, "limit": PAGE_ROWS, "cursor": cursor})
        page, meta = list_page(db(), query, cursor_secret())
        rows += page
        cursor = meta["next_cursor"]
        if not meta["has_more"] or len(rows) >= cap:
            return rows[:cap]


def _all_resources() -> list[dict[str, Any]]:
    return _all(resources.list_page, ResourceListQuery, {})


def _all_customers() -> list[dict[str, Any]]:
    rows = _all(customers.list_page, CustomerListQuery, {})
    return sorted(rows, key=lambda c: c["name"].casefold())


def _shop_zone(resource_rows: list[dict[str, Any]]) -> str:
    """The day view's time zone: the first resource's (a shop's resources share one)."""
    return resource_rows[0]["timezone"] if resource_rows else "UTC"


def _or_none(getter: Callable[[Database, str], dict[str, Any]], record_id: str | None) -> Any:
    """A record, or None when it was deleted (bookings keep ids of deleted customers)."""
    if not record_id:
        return None
    try:
        return getter(db(), record_id)
    except NotFound:
        return None


# --- errors as pages --------------------------------------------------------------------------


def _error_page(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    titles = {400: "Form refused", 401: "Sign in again", 402: "No tokens left", 403: "Not allowed"}
    titles |= {404: "Not found", 405: "Not allowed here", 413: "Too large", 429: "Too many"}
    titles |= {503: "Cannot save now"}
    html = render_template(
        "error.html", status=status, title=titles.get(status, "Something went wrong"),
        message=message,
    )  # fmt: skip
    return Response(html, status=status, headers=dict(headers or {}), mimetype="text/html")


@bp.errorhandler(ApiError)
def _api_error_page(error: ApiError) -> Response:
    return _error_page(error.status, error.message, error.headers)


@bp.errorhandler(HTTPException)
def _http_error_page(error: HTTPException) -> Response:
    return _error_page(error.code or 500, error.description or "That did not work.")


@bp.errorhandler(Exception)
def _unexpected_page(error: Exception) -> Response:
    return _api_error_page(api_error_for(error))  # a full disk is a 503 page, a bug a 500


# --- the day view -----------------------------------------------------------------------------


@bp.get("/")
def home() -> Response:
    return redirect(url_for("ui.day"))


@bp.get("/day")
def day() -> str:
    """One column per resource: the day's bookings by status and blocker occurrences."""
    resource_rows = _all_resources()
    zone = _shop_zone(resource_rows)
    shown, date_error = _parse_day(request.args.get("date"), _zone(zone))
    view = _day_columns(resource_rows, shown, zone)
    return render_template(
        "day.html", view=view, day=shown, zone=zone, date_error=date_error,
        today=datetime.now(_zone(zone)).date(), timedelta=timedelta,
    )  # fmt: skip


def _day_columns(resource_rows: list[dict[str, Any]], shown: date, zone: str) -> dict[str, Any]:
    """Positions in minutes from the grid's first hour, lanes for overlapping bookings."""
    start, end = _day_bounds(shown, _zone(zone))
    window = {"from": format_instant(start), "to": format_instant(end)}
    day_bookings = _all(bookings.list_page, BookingListQuery, window)
    day_blockers = _all(blockers.list_page, BlockerListQuery, window)
    names = {
        row["customer_id"]: _or_none(customers.get, row["customer_id"])
        for row in day_bookings
        if row["customer_id"]
    }

    def span(first: str | int, last: str | int) -> tuple[int, int]:
        a = parse_instant(first) if isinstance(first, str) else first
        b = parse_instant(last) if isinstance(last, str) else last
        return (max(a, start) - start) // MINUTE, (min(b, end) - start) // MINUTE

    columns = []
    for resource in resource_rows:
        opening = [
            span(s.start, s.end)
            for s in open_intervals(resource["business_hours"], resource["timezone"], start, end)
        ]
        blocked = [
            {**dict(zip(("top", "end"), span(o["start_time"], o["end_time"]), strict=True)),
             "title": b["title"] or "Blocked", "all_day": b["all_day"], **o}
            for b in day_blockers if b["resource_id"] == resource["id"]
            for o in b["occurrences"]
        ]  # fmt: skip
        items = [
            {**dict(zip(("top", "end"), span(b["start_time"], b["end_time"]), strict=True)),
             "booking": b, "customer": names.get(b["customer_id"])}
            for b in day_bookings if b["resource_id"] == resource["id"]
        ]  # fmt: skip
        _assign_lanes(items)
        columns.append(
            {"resource": resource, "opening": opening, "blocked": blocked, "entries": items}
        )

    day_minutes = (end - start) // MINUTE
    # The grid spans 08:00-18:00, widened to opening hours, timed blockers and bookings
    # (not to always-open resources or all-day blockers, which would show all 24 hours).
    edges = [s for c in columns if c["resource"]["business_hours"] for s in c["opening"]]
    edges += [(b["top"], b["end"]) for c in columns for b in c["blocked"] if not b["all_day"]]
    edges += [(i["top"], i["end"]) for c in columns for i in c["entries"]]
    first = min([8 * 60, *(a for a, _ in edges)]) // 60 * 60
    last = min(day_minutes, -(-max([18 * 60, *(b for _, b in edges)]) // 60) * 60)
    for column in columns:
        if column["resource"]["business_hours"] is None:
            column["closed"] = []
        else:
            column["closed"] = _gaps(column["opening"], first, last)
    hours = []
    for hour in range(25):
        mark = datetime.combine(shown, time(0), tzinfo=_zone(zone)) + timedelta(hours=hour)
        offset = (int(mark.timestamp() * 1000) - start) // MINUTE
        if first <= offset < last:
            hours.append({"top": offset, "label": mark.astimezone(_zone(zone)).strftime("%H:%M")})
    return {"columns": columns, "first": first, "last": last, "hours": hours}


def _assign_lanes(items: list[dict[str, Any]]) -> None:
    """Side by side when bookings overlap (a sync double booking, or cancelled ones)."""
    items.sort(key=lambda item: (item["top"], item["end"]))
    lane_ends: list[int] = []
    for item in items:
        free = next((i for i, end in enumerate(lane_ends) if end <= item["top"]), None)
        if free is None:
            free = len(lane_ends)
            lane_ends.append(0)
        lane_ends[free] = max(item["end"], item["top"] + 15)  # short ones still need room
        item["lane"] = free
    for item in items:
        item["lanes"] = len(lane_ends)


def _gaps(spans: list[tuple[int, int]], first: int, last: int) -> list[tuple[int, int]]:
    """The parts of [first, last) that no span covers: closed time, shaded in the view."""
    gaps, cursor = [], first
    for a, b in sorted(spans):
        if a > cursor:
            gaps.append((cursor, min(a, last)))
        cursor = max(cursor, b)
    if cursor < last:
        gaps.append((cursor, last))
    return [(a, b) for a, b in gaps if b > a]


# --- new booking ------------------------------------------------------------------------------

NEW_BOOKING_FIELDS = (
    "resource_id", "date", "duration_minutes", "start_time", "customer_id",
    "new_customer_name", "new_customer_phone", "title", "notes",
)  # fmt: skip


@bp.get("/bookings/new")
def new_booking() -> str | tuple[str, int]:
    """Pick a resource, day and length; the free slots are the availability endpoint's."""
    _require("booking:write")
    return _new_booking_page(request.args)


@bp.post("/bookings/new")
def create_booking() -> Response | tuple[str, int]:
    """302 to the new booking | 422 validation_error, unknown_*, slot_conflict: form again."""
    _require("booking:write")
    try:
        made = _book(request.form)
    except ApiError as error:
        if error.status != 422:
            raise
        return _new_booking_page(request.form, error=error)
    flash("Booking made. Confirm it when the customer agrees.")
    return redirect(url_for("ui.booking", booking_id=made["id"]))


def _book(form: Mapping[str, str]) -> dict[str, Any]:
    """Validate the booking (and inline customer) together, then create them.

    A new customer is made only once the slot is known to be free, so a taken slot leaves
    nothing behind; should another desk take the slot in between, the customer stays and the
    form keeps them selected.
    """
    details: list[dict[str, str]] = []
    resource = _or_none(resources.get, form.get("resource_id"))
    zone = _zone(resource["timezone"] if resource else None)
    start = form.get("start_time") or "other"
    if start == "other":
        start = _local_instant(form.get("date"), form.get("other_time"), zone)
        if start is None:
            message = "Choose a free slot, or type a start time under Another time."
            details.append({"field": "start_time", "message": message})
    choice = form.get("customer_id", "")
    if choice == "" and _text(form, "new_customer_name"):
        choice = "new"  # a typed name means a new customer even if the list was not touched
    booking_data = {
        "resource_id": form.get("resource_id", ""),
        "start_time": start or PLACEHOLDER_START,  # its error is already in `details`
        "duration_minutes": _number(form.get("duration_minutes")),
        "title": _text(form, "title"),
        "notes": _text(form, "notes"),
        **({"customer_id": choice} if choice not in ("", "new") else {}),
    }
    new_customer = None
    if choice == "new":
        customer_data = {"name": form.get("new_customer_name", "")}
        if _text(form, "new_customer_phone"):
            customer_data["phone"] = form["new_customer_phone"].strip()
        rename = {"name": "new_customer_name", "phone": "new_customer_phone"}
        new_customer = _validated(CustomerCreate, customer_data, details, rename)
    payload = _validated(BookingCreate, booking_data, details)
    if details:
        raise ValidationFailed(details=details)
    if new_customer is not None:
        _refuse_taken_slot(payload)
        made = customers.create(db(), new_customer)
        g.made_customer_id = made["id"]
        payload = payload.model_copy(update={"customer_id": made["id"]})
    return bookings.create(db(), payload, actor=actor())


def _refuse_taken_slot(payload: BookingCreate) -> None:
    """The SlotConflict bookings.create would raise, checked before a customer is made for it."""
    resource = _or_none(resources.get, payload.resource_id)
    if resource is None:
        return  # bookings.create names the unknown resource
    start, end = bookings.resolve_interval(payload, resource)
    bookings.ensure_free(db(), resource, start, end)


def _new_booking_page(
    values: Mapping[str, str], error: ApiError | None = None
) -> str | tuple[str, int]:
    resource_rows = _all_resources()
    if not resource_rows:
        return render_template("booking_new.html", resource=None, values=values, errors={})
    wanted = values.get("resource_id")
    resource = next((r for r in resource_rows if r["id"] == wanted), resource_rows[0])
    zone = resource["timezone"]
    shown, date_error = _parse_day(values.get("date"), _zone(zone))
    duration = _number(values.get("duration_minutes")) or resource["default_duration_minutes"]
    errors = _field_errors(error, NEW_BOOKING_FIELDS)
    if date_error:
        errors.setdefault("date", []).append(date_error)
    slots: list[dict[str, str]] = []
    start, end = _day_bounds(shown, _zone(zone))
    query = {"from": format_instant(start), "to": format_instant(end)}
    try:
        availability = validate(AvailabilityQuery, {**query, "duration_minutes": duration})
        slots = resources.availability(db(), resource["id"], availability)
    except ValidationFailed as problem:
        errors.setdefault("duration_minutes", []).extend(d["message"] for d in problem.details)
    now = wall_ms()
    slots = [slot for slot in slots if parse_instant(slot["start_time"]) >= now]
    chosen_customer = g.get("made_customer_id") or values.get("customer_id", "")
    page = render_template(
        "booking_new.html", resource=resource, resources=resource_rows, zone=zone, day=shown,
        duration=duration, slots=slots, customers=_all_customers(), values=values,
        chosen_customer=chosen_customer, error=error, errors=errors,
    )  # fmt: skip
    return (page, error.status) if error is not None else page


# --- booking detail ---------------------------------------------------------------------------

BOOKING_FIELDS = ("status", "cancel_reason", "title", "notes")


@bp.get("/bookings/<booking_id>")
def booking(booking_id: str) -> str | tuple[str, int]:
    """Fields, the events timeline, and the moves valid from its status."""
    return _booking_page(booking_id)


@bp.post("/bookings/<booking_id>/transition")
def transition_booking(booking_id: str) -> Response | str | tuple[str, int]:
    """302 back | 422 invalid_transition or validation_error, shown by the buttons."""
    _require("booking:write")
    data = {"status": request.form.get("status", "")}
    if _text(request.form, "cancel_reason"):
        data["cancel_reason"] = request.form["cancel_reason"].strip()
    try:
        payload = validate(BookingTransition, data)
        moved = bookings.transition(db(), booking_id, payload, actor=actor())
    except ApiError as error:
        if error.status != 422:
            raise
        return _booking_page(booking_id, error=error)
    flash(f"Booking is now {STATUS_LABELS[moved['status']].lower()}.")
    return redirect(url_for("ui.booking", booking_id=booking_id))


@bp.post("/bookings/<booking_id>/edit")
def edit_booking(booking_id: str) -> Response | str | tuple[str, int]:
    """302 back | 422 invalid_state or validation_error by the fields."""
    _require("booking:write")
    data = {"title": _text(request.form, "title"), "notes": _text(request.form, "notes")}
    try:
        bookings.update(db(), booking_id, validate(BookingPatch, data), actor=actor())
    except ApiError as error:
        if error.status != 422:
            raise
        return _booking_page(booking_id, error=error)
    flash("Booking saved.")
    return redirect(url_for("ui.booking", booking_id=booking_id))


@bp.post("/bookings/<booking_id>/delete")
def delete_booking(booking_id: str) -> Response | str | tuple[str, int]:
    """Admin: 302 to its day | 422 invalid_state (only pending or cancelled ones go)."""
    _require("booking:admin")
    try:
        gone = bookings.delete(db(), booking_id)
    except InvalidState as error:
        return _booking_page(booking_id, error=error)
    flash("Booking deleted.")
    resource = _or_none(resources.get, gone["resource_id"])
    day_shown = _day_of(gone["start_time"], resource["timezone"] if resource else None)
    return redirect(url_for("ui.day", date=day_shown))


def _booking_page(booking_id: str, error: ApiError | None = None) -> str | tuple[str, int]:
    record = bookings.get(db(), booking_id)
    events = _all(
        lambda database, query, secret: bookings.events_page(database, booking_id, query, secret),
        EventListQuery,
        {},
    )
    resource = _or_none(resources.get, record["resource_id"])
    zone = resource["timezone"] if resource else "UTC"
    page = render_template(
        "booking.html", booking=record, events=events, resource=resource, zone=zone,
        customer=_or_none(customers.get, record["customer_id"]),
        moves=bookings.ALLOWED_MOVES[record["status"]],
        editable=record["status"] in bookings.EDITABLE,
        deletable=record["status"] in bookings.DELETABLE,
        error=error, errors=_field_errors(error, BOOKING_FIELDS),
        values=request.form if error is not None else MultiDict(),
    )  # fmt: skip
    return (page, error.status) if error is not None else page


# --- customers --------------------------------------------------------------------------------

CUSTOMER_FIELDS = ("name", "phone", "email", "tags", "external_id")


@bp.get("/customers")
def customers_page() -> str | tuple[str, int]:
    """Search by q and tags; create (write scope)."""
    return _customers_page()


@bp.post("/customers")
def create_customer() -> Response | str | tuple[str, int]:
    """302 to the customer | 422 validation_error by the fields."""
    _require("booking:write")
    try:
        made = customers.create(db(), validate(CustomerCreate, _customer_data(request.form)))
    except ValidationFailed as error:
        return _customers_page(error=error)
    flash(f"Added {made['name']}.")
    return redirect(url_for("ui.customer", customer_id=made["id"]))


@bp.get("/customers/<customer_id>")
def customer(customer_id: str) -> str | tuple[str, int]:
    """One customer: edit form, their bookings, delete (admin)."""
    return _customer_page(customer_id)


@bp.post("/customers/<customer_id>")
def update_customer(customer_id: str) -> Response | str | tuple[str, int]:
    """302 back | 422 validation_error by the fields."""
    _require("booking:write")
    data = _customer_data(request.form, patch=True)
    try:
        customers.update(db(), customer_id, validate(CustomerPatch, data))
    except ValidationFailed as error:
        return _customer_page(customer_id, error=error)
    flash("Customer saved.")
    return redirect(url_for("ui.customer", customer_id=customer_id))


@bp.post("/customers/<customer_id>/delete")
def delete_customer(customer_id: str) -> Response:
    """Admin: remove for good; their bookings keep the id as history."""
    _require("booking:admin")
    gone = customers.delete(db(), customer_id)
    flash(f"Deleted {gone['name']}.")
    return redirect(url_for("ui.customers_page"))


def _customer_data(form: Mapping[str, str], *, patch: bool = False) -> dict[str, Any]:
    """The form as the API's body. On edit an emptied phone is "" and an emptied external id
    is null (cleared), as in the API; an email can be changed but not removed."""
    data: dict[str, Any] = {"name": form.get("name", "")}
    for name in ("phone", "email", "external_id"):
        value = (form.get(name) or "").strip()
        if value:
            data[name] = value
        elif patch and name == "phone":
            data[name] = ""
        elif patch and name == "external_id":
            data[name] = None
    data["tags"] = [tag.strip() for tag in form.get("tags", "").split(",") if tag.strip()]
    return data


def _customers_page(error: ApiError | None = None) -> str | tuple[str, int]:
    search = {name: request.args.get(name) or None for name in ("q", "tags", "cursor")}
    try:
        query = validate(CustomerListQuery, {**search, "limit": 25})
        rows, meta = customers.list_page(db(), query, cursor_secret())
        search_error = None
    except ValidationFailed as problem:
        rows, meta, search_error = [], {"next_cursor": None}, problem
    page = render_template(
        "customers.html", rows=rows, meta=meta, search=request.args,
        search_errors=_field_errors(search_error, ("q", "tags", "cursor")),
        values=request.form if error is not None else MultiDict(),
        error=error, errors=_field_errors(error, CUSTOMER_FIELDS),
    )  # fmt: skip
    return (page, error.status) if error is not None else page


def _customer_page(customer_id: str, error: ApiError | None = None) -> str | tuple[str, int]:
    record = customers.get(db(), customer_id)
    since = format_instant(wall_ms() - 30 * 86_400_000)
    their_bookings = _all(
        bookings.list_page, BookingListQuery, {"customer_id": customer_id, "from": since}, cap=50
    )
    values = request.form if error is not None else MultiDict(_customer_values(record))
    page = render_template(
        "customer.html", customer=record, bookings=their_bookings, values=values,
        zones={r["id"]: r["timezone"] for r in _all_resources()},
        error=error, errors=_field_errors(error, CUSTOMER_FIELDS),
    )  # fmt: skip
    return (page, error.status) if error is not None else page


def _customer_values(record: dict[str, Any]) -> dict[str, str]:
    values = {name: record[name] or "" for name in ("name", "phone", "email", "external_id")}
    return {**values, "tags": ", ".join(record["tags"])}


# --- resources --------------------------------------------------------------------------------

RESOURCE_FIELDS = (
    "name", "timezone", "default_duration_minutes", "buffer_minutes", "business_hours",
)  # fmt: skip


@bp.get("/resources")
def resources_page() -> str | tuple[str, int]:
    """Every resource; create (write scope), delete (admin)."""
    return _resources_page()


@bp.post("/resources")
def create_resource() -> Response | str | tuple[str, int]:
    """302 back | 422 validation_error by the fields."""
    _require("booking:write")
    form = request.form
    data: dict[str, Any] = {"name": form.get("name", "")}
    if _text(form, "timezone"):
        data["timezone"] = form["timezone"].strip()
    for name in ("default_duration_minutes", "buffer_minutes"):
        if _number(form.get(name)) is not None:
            data[name] = _number(form.get(name))
    days = form.getlist("business_days")
    if days:
        hours = [form.get("opens", ""), form.get("closes", "")]
        data["business_hours"] = {day: [hours] for day in days}
    try:
        made = resources.create(db(), validate(ResourceCreate, data))
    except ValidationFailed as error:
        return _resources_page(error=error)
    flash(f"Added {made['name']}.")
    return redirect(url_for("ui.resources_page"))


@bp.post("/resources/<resource_id>/delete")
def delete_resource(resource_id: str) -> Response | str | tuple[str, int]:
    """Admin: 302 back | 422 invalid_state while it has upcoming bookings."""
    _require("booking:admin")
    try:
        gone = resources.delete(db(), resource_id)
    except InvalidState as error:
        return _resources_page(error=error)
    flash(f"Deleted {gone['name']}.")
    return redirect(url_for("ui.resources_page"))


def _resources_page(error: ApiError | None = None) -> str | tuple[str, int]:
    rows = _all_resources()
    defaults = {"timezone": _shop_zone(rows), "default_duration_minutes": "60"}
    defaults |= {"buffer_minutes": "0", "opens": "09:00", "closes": "17:00"}
    page = render_template(
        "resources.html", rows=rows, day_names=DAY_NAMES,
        values=request.form if error is not None else MultiDict(defaults),
        error=error, errors=_field_errors(error, RESOURCE_FIELDS),
    )  # fmt: skip
    return (page, error.status) if error is not None else page


# --- blockers ---------------------------------------------------------------------------------

BLOCKER_FIELDS = (
    "resource_id", "title", "start_time", "end_time", "all_day", "recurrence",
    "recurrence.freq", "recurrence.interval", "recurrence.by_weekday", "recurrence.count",
    "recurrence.until", "recurrence.rrule",
)  # fmt: skip


@bp.get("/blockers")
def blockers_page() -> str | tuple[str, int]:
    """Every blocker; create one (once, all day, or repeating), delete (write scope)."""
    return _blockers_page()


@bp.post("/blockers")
def create_blocker() -> Response | str | tuple[str, int]:
    """302 back, naming bookings it now covers | 422 validation_error by the fields."""
    _require("booking:write")
    try:
        made, covered = blockers.create(db(), _blocker_payload(request.form))
    except ApiError as error:
        if error.status != 422:
            raise
        return _blockers_page(error=error)
    message = f"Added {made['title'] or 'the blocker'}."
    if covered:
        message += f" It covers {len(covered)} booking(s) already made: call those customers."
        session["covered_bookings"] = covered
    flash(message)
    return redirect(url_for("ui.blockers_page"))


@bp.post("/blockers/<blocker_id>/delete")
def delete_blocker(blocker_id: str) -> Response:
    """Write scope, as in the API."""
    _require("booking:write")
    gone = blockers.delete(db(), blocker_id)
    flash(f"Deleted {gone['title'] or 'the blocker'}.")
    return redirect(url_for("ui.blockers_page"))


def _blocker_payload(form: MultiDict[str, str]) -> BlockerCreate:
    """Local dates and times in the resource's zone become the API's UTC instants.

    All day: the end date is the last closed day, so the blocker ends at the next midnight.
    """
    details: list[dict[str, str]] = []
    resource = _or_none(resources.get, form.get("resource_id"))
    zone = _zone(resource["timezone"] if resource else None)
    all_day = form.get("all_day") == "1"
    start_day, end_day = form.get("start_date", ""), form.get("end_date") or form.get("start_date")
    if all_day:
        start = _local_instant(start_day, "00:00", zone)
        try:  # the local midnight after the last day (not always 24 h after its start)
            after = (date.fromisoformat(end_day or "") + timedelta(days=1)).isoformat()
        except ValueError:
            after = None
        end = _local_instant(after, "00:00", zone)
    else:
        start = _local_instant(start_day, form.get("start_clock"), zone)
        end = _local_instant(end_day, form.get("end_clock"), zone)
    for field, value in (("start_time", start), ("end_time", end)):
        if value is None:
            details.append({"field": field, "message": "Enter a date and a time."})
    data: dict[str, Any] = {
        "resource_id": form.get("resource_id", ""),
        "title": _text(form, "title"),
        # Placeholders for unreadable times, whose errors are already in `details`.
        "start_time": start or PLACEHOLDER_START,
        "end_time": end or PLACEHOLDER_END,
        "all_day": all_day,
    }
    recurrence = _recurrence_data(form, zone, details)
    if recurrence is not None:
        data["recurrence"] = recurrence
    payload = _validated(BlockerCreate, data, details)
    if details:
        raise ValidationFailed(details=details)
    return payload


def _recurrence_data(
    form: MultiDict[str, str], zone: ZoneInfo, details: list[dict[str, str]]
) -> dict[str, Any] | None:
    """The structured recurrence, or None for a one-off; `until` is a local last date."""
    freq = form.get("recurrence.freq", "")
    weekdays = form.getlist("recurrence.by_weekday")
    count = _number(form.get("recurrence.count"))
    until_day = form.get("recurrence.until", "")
    interval = _number(form.get("recurrence.interval"))
    if not freq and not weekdays and count is None and not until_day and interval in (None, 1):
        return None
    data: dict[str, Any] = {}
    if freq:
        data["freq"] = freq
    if interval is not None:
        data["interval"] = interval
    if weekdays:
        data["by_weekday"] = weekdays
    if count is not None:
        data["count"] = count
    if until_day:
        until = _local_instant(until_day, "23:59", zone)
        if until is None:
            details.append({"field": "recurrence.until", "message": "Enter a date."})
        else:
            data["until"] = until
    return data


def _blockers_page(error: ApiError | None = None) -> str | tuple[str, int]:
    resource_rows = _all_resources()
    rows = _all(blockers.list_page, BlockerListQuery, {})
    names = {r["id"]: r for r in resource_rows}
    today = datetime.now(_zone(_shop_zone(resource_rows))).date().isoformat()
    defaults = {"start_date": today, "start_clock": "12:00", "end_clock": "13:00"}
    defaults |= {"recurrence.interval": "1"}
    page = render_template(
        "blockers.html", rows=rows, resources=resource_rows, resource_by_id=names,
        resource_options=[(r["id"], r["name"]) for r in resource_rows],
        weekday_names=WEEKDAY_NAMES, frequency_names=FREQUENCY_NAMES,
        covered=session.pop("covered_bookings", []),
        values=request.form if error is not None else MultiDict(defaults),
        error=error, errors=_field_errors(error, BLOCKER_FIELDS),
    )  # fmt: skip
    return (page, error.status) if error is not None else page


# --- sync -------------------------------------------------------------------------------------


@bp.get("/sync")
def sync_page() -> str:
    """Hub, last sync, pending changes, last error, anomalies, sync-conflict cancellations."""
    return _sync_page()


@bp.post("/sync")
def sync_now() -> Response | tuple[str, int]:
    """Admin, as POST /sync/run: 302 back | 422 when this node has no hub."""
    _require("booking:admin")
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
    since = format_instant(wall_ms() - 86_400_000)
    cancelled = _all(bookings.list_page, BookingListQuery, {"status": "cancelled", "from": since})
    lost = [b for b in cancelled if (b["cancel_reason"] or "").startswith("sync_conflict")]
    active = {"status": ",".join(bookings.ACTIVE), "from": since}
    upcoming = _all(bookings.list_page, BookingListQuery, active)
    resource_rows = _all_resources()
    return render_template(
        "sync.html", state=sync_status.describe(db(), current_app.config.get("HUB_URL")),
        anomalies=sync_service.anomalies(db()), lost=lost,
        double_booked=[b for b in upcoming if b["conflict_with"]],
        people={b["id"]: _or_none(customers.get, b["customer_id"]) for b in lost},
        zones={r["id"]: r["timezone"] for r in resource_rows},
        shop_zone=_shop_zone(resource_rows),
        has_worker=current_app.extensions.get("booking.sync_worker") is not None, error=error,
    )  # fmt: skip
