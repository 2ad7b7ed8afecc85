"""Records to rows and back: which columns hold JSON, and the INSERT/UPDATE/SELECT they share.

Canonical JSON: a record written here and its copy merged on another node must be
byte-identical, so every JSON column is written with app.core.json_codec.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from app.core import json_codec
from app.store.connection import Connection

dumps = json_codec.dumps

# The columns of each table that hold JSON text (decoded on read, encoded on write).
CUSTOMER_JSON_COLUMNS = ("tags", "metadata")
RESOURCE_JSON_COLUMNS = ("business_hours", "metadata")
BLOCKER_JSON_COLUMNS = ("recurrence", "metadata")
BOOKING_JSON_COLUMNS = ("metadata",)
EVENT_JSON_COLUMNS = ("data",)

Missing = Callable[[str], Exception]


def require_transaction(db: Connection) -> None:
    assert db.in_transaction, "storage writes must run inside store.transaction()"


def decode(row: dict[str, Any], json_columns: tuple[str, ...]) -> dict[str, Any]:
    """Parse the row's JSON columns in place; returns the row."""
    for column in json_columns:
        if row.get(column) is not None:
            row[column] = json.loads(row[column])
    return row


def encode(record: dict[str, Any], json_columns: tuple[str, ...]) -> dict[str, Any]:
    """A copy of the record with its JSON columns as canonical JSON text."""
    return {
        name: dumps(value) if name in json_columns and value is not None else value
        for name, value in record.items()
    }


# Statement texts by shape: a create path builds the same few again and again.
@lru_cache(maxsize=256)
def insert_sql(table: str, columns: tuple[str, ...]) -> str:
    marks = ", ".join(f":{name}" for name in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


@lru_cache(maxsize=256)
def update_sql(table: str, columns: tuple[str, ...]) -> str:
    """An UPDATE of `columns` (named parameters) for the row whose id is `:_id`."""
    assignments = ", ".join(f"{name} = :{name}" for name in columns if name != "_id")
    return f"UPDATE {table} SET {assignments} WHERE id = :_id"


def insert(
    db: Connection, table: str, record: dict[str, Any], json_columns: tuple[str, ...]
) -> None:
    row = encode(record, json_columns)
    db.execute(insert_sql(table, tuple(row)), row)


def update(
    db: Connection,
    table: str,
    record_id: str,
    changes: dict[str, Any],
    json_columns: tuple[str, ...],
) -> None:
    row = encode(changes, json_columns)
    row["_id"] = record_id
    db.execute(update_sql(table, tuple(row)), row)


def get(
    db: Connection, table: str, record_id: str, json_columns: tuple[str, ...], missing: Missing
) -> dict[str, Any]:
    """The row with this id, JSON decoded; raises `missing` (RowMissing by default) if none."""
    rows = db.query(f"SELECT * FROM {table} WHERE id = ?", [record_id])
    if not rows:
        raise missing(f"No {table[:-1]} has the id {record_id!r}.")
    return decode(rows[0], json_columns)


def like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def count_rows(db: Connection, table: str) -> int:
    assert table.isidentifier()
    return db.scalar(f"SELECT COUNT(*) FROM {table}")
