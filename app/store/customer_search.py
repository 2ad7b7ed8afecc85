"""The type-ahead's queries: customers by phone digits, name or email start, and word starts.

Each reads an index migration m0011 made from synced fields only, so every replica answers
alike and no write pays for the search: the phone spellings to look for are worked out at query
time (app/domain/customer_search.py).
"""

from __future__ import annotations

from app.store.connection import Connection
from migrations.sqlite.m0011_counter import PHONE_DIGITS_SQL

# Past the last character a name can hold: [prefix, prefix + this) is every name it starts.
_AFTER_ALL = "\U0010ffff"
_LIVE = "deleted_at IS NULL"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def by_phone_prefixes(db: Connection, prefixes: list[str], limit: int) -> list[str]:
    """Ids of live customers whose phone digits start with any of `prefixes` (index ranges)."""
    found: list[str] = []
    for prefix in dict.fromkeys(prefixes):
        rows = db.execute(
            f"SELECT id FROM customers WHERE {PHONE_DIGITS_SQL} >= ? "
            # "+deleted_at": the planner must walk the phone index, not the name index's
            # leading deleted_at column.
            f"AND {PHONE_DIGITS_SQL} < ? AND +{_LIVE} ORDER BY {PHONE_DIGITS_SQL}, id LIMIT ?",
            [prefix, prefix + _AFTER_ALL, limit],
        ).fetchall()
        found += [row[0] for row in rows if row[0] not in found]
    return found[:limit]


def by_name_prefix(db: Connection, prefix: str, limit: int) -> list[str]:
    """Ids of live customers whose name starts with `prefix` (ASCII case ignored), by name."""
    rows = db.execute(
        f"SELECT id FROM customers WHERE {_LIVE} AND name >= ? COLLATE NOCASE "
        "AND name < ? COLLATE NOCASE ORDER BY name COLLATE NOCASE, id LIMIT ?",
        [prefix, prefix + _AFTER_ALL, limit],
    ).fetchall()
    return [row[0] for row in rows]


def by_email_prefix(db: Connection, prefix: str, limit: int) -> list[str]:
    """Ids of live customers whose email starts with `prefix` (any case), along its index."""
    low = prefix.lower()
    rows = db.execute(
        f"SELECT id FROM customers WHERE lower(email) >= ? AND lower(email) < ? AND +{_LIVE} "
        "ORDER BY lower(email), id LIMIT ?",
        [low, low + _AFTER_ALL, limit],
    ).fetchall()
    return [row[0] for row in rows]


def by_word_starts(db: Connection, words: list[str], limit: int) -> list[str]:
    """Ids of live customers, by name, where every word starts a word of the name.

    This one reads the covering name index from end to end (about 0.2 µs a customer on an idle
    machine): what a name's start cannot find, such as a surname, costs milliseconds at 50,000
    customers (README § Performance).
    """
    name_words = " AND ".join("(' ' || replace(name, '-', ' ')) LIKE ? ESCAPE '\\'" for _ in words)
    rows = db.execute(
        "SELECT id FROM customers INDEXED BY customers_name_search "
        f"WHERE {_LIVE} AND {name_words} ORDER BY name COLLATE NOCASE, id LIMIT ?",
        [*(f"% {_escape_like(word)}%" for word in words), limit],
    ).fetchall()
    return [row[0] for row in rows]
