"""Importing and exporting customers and bookings, matched by `external_id`.

An import is all or nothing: every row is tried inside one transaction, every refused row is
reported with its line, and if any row is refused the transaction rolls back, so a file either
lands whole or changes nothing. A row matches the record with its `external_id` (else, for a
customer, the record with its `id`, as in a file this service exported); a matched record
changes only where the file differs, so importing the same file twice changes nothing. Each
write is an ordinary one (its change syncs; its webhooks are decided), except that an imported
booking decides no confirmation: its customer already knows of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from app import store
from app.core.times import format_instant
from app.domain import bookings, customers
from app.domain.errors import DomainError, InvalidInput
from app.store import Connection

Progress = Callable[[int], None]
Row = tuple[int, dict[str, Any]]  # (line in the file, fields)
IMPORT_ACTOR = "import"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class RowProblem:
    line: int
    field: str | None
    message: str

    def as_detail(self) -> dict[str, str]:
        where = f"line {self.line}" + (f": {self.field}" if self.field else "")
        return {"field": where, "message": self.message}


class ImportRefused(InvalidInput):
    """Some rows are refused; nothing was imported. `problems` name each line."""

    problems: list[RowProblem] = []

    @classmethod
    def of(cls, problems: list[RowProblem]) -> ImportRefused:
        ordered = sorted(problems, key=lambda p: p.line)
        count = len({p.line for p in ordered})
        refused = cls(
            f"Nothing was imported: {count} row{'s' if count != 1 else ''} "
            f"{'have' if count != 1 else 'has'} errors.",
            details=[problem.as_detail() for problem in ordered],
        )
        refused.problems = ordered
        return refused


def _noop(_count: int) -> None:
    pass


def _run(
    db: Connection,
    rows: list[Row],
    apply_row: Callable[[Connection, dict[str, Any], ImportReport], None],
    progress: Progress,
    found: list[RowProblem],
) -> ImportReport:
    """Apply every row in one transaction; with any problem (`found` by the caller's checks
    of the file, or here) raise ImportRefused naming all of them, which rolls it all back."""
    report, problems = ImportReport(), list(found)
    seen: dict[str, int] = {}
    with store.transaction(db):
        for line, row in rows:
            key = row.get("external_id")
            if key is not None and key in seen:
                problems.append(
                    RowProblem(line, "external_id", f"Also on line {seen[key]}; give each once.")
                )
                continue
            if key is not None:
                seen[key] = line
            try:
                apply_row(db, row, report)
            except DomainError as refusal:
                detail = refusal.details[0] if refusal.details else {}
                message = refusal.message
                if detail.get("message") and message == type(refusal).message:
                    message = detail["message"]  # the generic sentence says less than the field's
                problems.append(RowProblem(line, detail.get("field"), message))
            progress(1)
        if problems:
            raise ImportRefused.of(problems)  # rolls the transaction back: nothing lands
    return report


# --- customers ----------------------------------------------------------------------------------


def import_customers(
    db: Connection, rows: list[Row], progress: Progress = _noop, found: list[RowProblem] = ()
) -> ImportReport:
    """Create or update customers from validated rows (API fields plus `id`, `email_opt_out`,
    `sms_opt_out`); `found` are the problems the file's checks already found. Raises
    ImportRefused naming every refused line; then nothing changed."""
    return _run(db, rows, _import_customer, progress, list(found))


def _import_customer(db: Connection, row: dict[str, Any], report: ImportReport) -> None:
    fields = {name: value for name, value in row.items() if name != "id"}
    existing = _customer_by_external_id(db, row.get("external_id"))
    if existing is None and row.get("id"):
        try:
            existing = store.get_customer(db, row["id"])
        except store.RowMissing:
            raise InvalidInput(
                details=[{"field": "id", "message": "No customer has this id."}]
            ) from None
    if existing is None:
        if not row.get("external_id"):
            raise InvalidInput(
                details=[
                    {
                        "field": "external_id",
                        "message": "Give each new customer an external_id, so that importing "
                        "the file again finds it instead of adding it twice.",
                    }
                ]
            )
        customers.create_in_transaction(db, {"tags": [], "metadata": {}, **fields})
        report.created += 1
        return
    after = customers.update_in_transaction(db, existing, fields)
    if after is existing:
        report.unchanged += 1
    else:
        report.updated += 1


def _customer_by_external_id(db: Connection, external_id: str | None) -> dict[str, Any] | None:
    if not external_id:
        return None
    row = db.execute(
        "SELECT id FROM customers WHERE external_id = ? AND deleted_at IS NULL ORDER BY id LIMIT 1",
        [external_id],
    ).fetchone()
    return store.get_customer(db, row[0]) if row else None


CUSTOMER_COLUMNS = (
    "id",
    "external_id",
    "name",
    "email",
    "phone",
    "tags",
    "metadata",
    "email_opt_out",
    "sms_opt_out",
    "created_at",
    "updated_at",
)


def export_customers(db: Connection, batch: int = 500) -> Iterator[dict[str, Any]]:
    """Every customer (not soft-deleted) in creation order, instants as UTC ISO text."""
    after = None
    while rows := store.list_customers(db, after_id=after, limit=batch):
        for row in rows:
            record = {name: row.get(name) for name in CUSTOMER_COLUMNS}
            record["email_opt_out"] = bool(record["email_opt_out"])
            record["sms_opt_out"] = bool(record["sms_opt_out"])
            record["created_at"] = format_instant(row["created_at"])
            record["updated_at"] = format_instant(row["updated_at"])
            yield record
        after = rows[-1]["id"]


# --- bookings -----------------------------------------------------------------------------------

BOOKING_COLUMNS = (
    "id",
    "external_id",
    "resource_id",
    "customer_id",
    "customer_external_id",
    "start_time",
    "end_time",
    "status",
    "title",
    "notes",
    "metadata",
)
IMPORTABLE_STATUSES = ("pending", "confirmed")


def import_bookings(
    db: Connection, rows: list[Row], progress: Progress = _noop, found: list[RowProblem] = ()
) -> ImportReport:
    """Create bookings from validated rows (instants in ms), or bring a matched one's title,
    notes, metadata and status up to the file. A matched booking at another time or place is
    refused: moving bookings is not an import's job. Raises ImportRefused."""
    return _run(db, rows, _import_booking, progress, list(found))


def _import_booking(db: Connection, row: dict[str, Any], report: ImportReport) -> None:
    customer_id = row.get("customer_id")
    if row.get("customer_external_id"):
        customer = _customer_by_external_id(db, row["customer_external_id"])
        if customer is None:
            raise InvalidInput(
                details=[{"field": "customer_external_id", "message": "No customer has it."}]
            )
        customer_id = customer["id"]
    status = row.get("status") or "pending"
    existing = _booking_by_external_id(db, row["external_id"])
    if existing is None:
        new = bookings.NewBooking(
            resource_id=row["resource_id"],
            start=row["start"],
            end=row["end"],
            customer_id=customer_id,
            title=row.get("title"),
            notes=row.get("notes"),
            metadata=row.get("metadata") or {},
        )
        booking = bookings.create_in_transaction(
            db, new, actor=IMPORT_ACTOR, external_id=row["external_id"], quiet=True
        )
        if status == "confirmed":
            bookings.transition_in_transaction(
                db, booking, "confirmed", cancel_reason=None, actor=IMPORT_ACTOR
            )
        report.created += 1
        return
    place = (existing["resource_id"], existing["start_time"], existing["end_time"])
    if place != (row["resource_id"], row["start"], row["end"]):
        raise InvalidInput(
            details=[
                {
                    "field": "start_time",
                    "message": f"Booking {existing['id']} has this external_id at another time "
                    "or resource; an import does not move bookings.",
                }
            ]
        )
    sent = {name: row.get(name) for name in ("title", "notes")}
    sent["metadata"] = row.get("metadata") or {}
    after = existing
    if any(existing[name] != value for name, value in sent.items()):
        after = bookings.update_in_transaction(db, existing, sent, actor=IMPORT_ACTOR)
    if status == "confirmed" and after["status"] == "pending":
        after = bookings.transition_in_transaction(
            db, after, "confirmed", cancel_reason=None, actor=IMPORT_ACTOR
        )
    if after is existing:
        report.unchanged += 1
    else:
        report.updated += 1


def _booking_by_external_id(db: Connection, external_id: str) -> dict[str, Any] | None:
    row = db.execute(
        "SELECT id FROM bookings WHERE external_id = ? ORDER BY id LIMIT 1", [external_id]
    ).fetchone()
    return store.get_booking(db, row[0]) if row else None


def export_bookings(db: Connection, batch: int = 500) -> Iterator[dict[str, Any]]:
    """Every booking by start time, with its customer's external_id for a re-import."""
    after = None
    external_ids: dict[str, str | None] = {}
    while rows := store.list_bookings(db, after=after, limit=batch):
        for row in rows:
            customer_id = row["customer_id"]
            if customer_id and customer_id not in external_ids:
                found = db.execute(
                    "SELECT external_id FROM customers WHERE id = ?", [customer_id]
                ).fetchone()
                external_ids[customer_id] = found[0] if found else None
            record = {name: row.get(name) for name in BOOKING_COLUMNS}
            record["customer_external_id"] = external_ids.get(customer_id or "")
            record["start_time"] = format_instant(row["start_time"])
            record["end_time"] = format_instant(row["end_time"])
            yield record
        after = (rows[-1]["start_time"], rows[-1]["id"])
