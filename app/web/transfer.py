"""Files in and out: CSV and JSON rows, checked with the API's own request models.

A CSV file has a header row; `tags` is `;`-separated, `metadata` is JSON text, opt-outs are
true/false, empty cells are absent values. A JSON file is an array of objects shaped like the
API's. Every row is checked before anything is written, so a file's problems are all reported
at once, each with its line (CSV: the line in the file, the header being line 1; JSON: the
item's number, from 1). The CLI and the import page both use this module (import_file).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from app.core.times import parse_instant
from app.domain import transfer
from app.domain.transfer import RowProblem
from app.web.models.bookings import BookingCreate
from app.web.models.customers import CustomerCreate

FORMATS = ("csv", "json")
KINDS = ("customers", "bookings")
TRUE, FALSE = ("true", "yes", "1", "y"), ("false", "no", "0", "n", "")
MAX_ROWS = 100_000


class FileRefused(ValueError):
    """The file as a whole cannot be read (not CSV or JSON, no header, too many rows)."""


def format_of(name: str, given: str | None) -> str:
    chosen = given or name.rsplit(".", 1)[-1].lower()
    if chosen not in FORMATS:
        raise FileRefused("Say --format csv or --format json (or name the file .csv or .json).")
    return chosen


def read_rows(text: str, file_format: str) -> list[tuple[int, dict[str, Any]]]:
    """(line, raw fields) for each row of the file."""
    if file_format == "json":
        try:
            items = json.loads(text)
        except ValueError as error:
            raise FileRefused(f"The file is not JSON: {error}.") from None
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise FileRefused("A JSON file must be an array of objects.")
        rows = list(enumerate(items, start=1))
    else:
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames:
            raise FileRefused("The CSV file has no header row.")
        rows = [(reader.line_num, _csv_row(row)) for row in reader]
    if len(rows) > MAX_ROWS:
        raise FileRefused(f"A file may hold at most {MAX_ROWS} rows; split it.")
    return rows


def _csv_row(row: dict[str | None, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in row.items():
        if name is None:  # more cells than the header names
            found["_extra"] = value
            continue
        text = (value or "").strip()
        found[name.strip()] = text if text else None
    for name in ("tags",):
        if found.get(name) is not None:
            found[name] = [tag.strip() for tag in found[name].split(";") if tag.strip()]
    if found.get("metadata") is not None:
        found["metadata"] = _json_cell(found["metadata"])
    return found


def _json_cell(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text  # the model refuses it, naming the field


Checked = tuple[list[transfer.Row], list[RowProblem]]


def customer_rows(raw: list[tuple[int, dict[str, Any]]]) -> Checked:
    """The rows that pass the API's checks of a new customer, and the problems of the rest."""
    checked, problems = [], []
    for line, row in raw:
        row = {k: v for k, v in row.items() if k not in ("created_at", "updated_at")}
        extra: dict[str, Any] = {"id": row.pop("id", None)}
        for name in ("email_opt_out", "sms_opt_out"):
            if name in row:
                extra[name], problem = _flag(row.pop(name))
                if problem:
                    problems.append(RowProblem(line, name, problem))
        fields = _validated(CustomerCreate, _present(row), line, problems)
        if fields is not None:
            sent = {name: fields[name] for name in row if name in fields}
            checked.append((line, {**sent, **_present(extra)}))
    return checked, problems


def booking_rows(raw: list[tuple[int, dict[str, Any]]]) -> Checked:
    """The rows that pass the API's checks of a new booking (plus external_id,
    customer_external_id and a pending or confirmed status), and the problems of the rest."""
    checked, problems = [], []
    for line, row in raw:
        row = {k: v for k, v in row.items() if k != "id" and v is not None}
        own = {
            name: row.pop(name, None) for name in ("external_id", "customer_external_id", "status")
        }
        if not own["external_id"]:
            problems.append(RowProblem(line, "external_id", "Required, to match on a re-import."))
        if own["status"] not in (None, *transfer.IMPORTABLE_STATUSES):
            problems.append(
                RowProblem(line, "status", "Only pending or confirmed bookings import.")
            )
        if isinstance(row.get("duration_minutes"), str) and row["duration_minutes"].isdigit():
            row["duration_minutes"] = int(row["duration_minutes"])
        fields = _validated(BookingCreate, row, line, problems)
        if fields is None or not own["external_id"]:
            continue
        start = parse_instant(fields["start_time"])
        if fields["end_time"]:
            end = parse_instant(fields["end_time"])
        elif fields["duration_minutes"]:
            end = start + fields["duration_minutes"] * 60_000
        else:
            problems.append(RowProblem(line, "end_time", "Give end_time or duration_minutes."))
            continue
        checked.append((line, {**fields, **own, "start": start, "end": end}))
    return checked, problems


def _present(row: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value for name, value in row.items() if value is not None or name == "external_id"
    }


def _flag(value: Any) -> tuple[bool, str | None]:
    if isinstance(value, bool):
        return value, None
    text = str(value or "").strip().lower()
    if text in TRUE or text in FALSE:
        return text in TRUE, None
    return False, "Use true or false."


def _validated(
    model: type[BaseModel], row: dict[str, Any], line: int, problems: list[RowProblem]
) -> dict[str, Any] | None:
    if row.pop("_extra", None) is not None:
        problems.append(RowProblem(line, None, "More cells than the header names."))
    try:
        return model.model_validate(row).model_dump()
    except ValidationError as error:
        for item in error.errors():
            where = ".".join(str(part) for part in item["loc"]) or None
            problems.append(RowProblem(line, where, item["msg"]))
        return None


def write_rows(
    rows: Iterable[dict[str, Any]], columns: tuple[str, ...], file_format: str, out: Any
) -> int:
    """Write rows as CSV (header first) or a JSON array; returns how many."""
    count = 0
    if file_format == "json":
        out.write("[")
        for count, row in enumerate(rows, start=1):
            out.write(("\n" if count == 1 else ",\n") + json.dumps(row, ensure_ascii=False))
        out.write("\n]\n" if count else "]\n")
        return count
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: _cell(value) for name, value in row.items()})
        count += 1
    return count


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def import_file(db: Any, kind: str, text: str, file_format: str, progress: Any = None) -> Any:
    """Read, check and import a whole file; raises FileRefused or ImportRefused (nothing
    imported), else answers the ImportReport. `progress(total)` gives the row callback."""
    raw = read_rows(text, file_format)
    rows, problems = (customer_rows if kind == "customers" else booking_rows)(raw)
    apply = transfer.import_customers if kind == "customers" else transfer.import_bookings
    step = progress(len(rows)) if progress else (lambda _count: None)
    return apply(db, rows, step, problems)
