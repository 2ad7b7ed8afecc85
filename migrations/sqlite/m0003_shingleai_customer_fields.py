"""The ShingleAI customer fields (API.md §6) as nullable columns of the one customers table."""

from sqlite_utils import Database


def apply(db: Database) -> None:
    """The ShingleAI customer fields (API.md §6) as nullable columns of the one customers table.

    Columns, not a side table, so each one syncs as a field (per-field last-writer-wins).
    `data` is the existing `metadata` column; name, email and phone are shared as they are.
    Times are INTEGER milliseconds; `deleted_at` marks a soft delete from /v1.
    """
    columns = [
        ("business_id", "TEXT"),
        ("contact_id", "TEXT"),
        ("type", "TEXT"),
        ("notes", "TEXT"),
        ("status", "TEXT"),
        ("customer_since", "INTEGER"),
        ("deleted_at", "INTEGER"),
        ("organization_id", "TEXT"),
    ]
    for name, kind in columns:
        db.execute(f"ALTER TABLE customers ADD COLUMN {name} {kind}")
