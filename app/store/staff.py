"""Staff accounts for the counter's sign-in: node-local, never synced (like API keys).

Only an argon2 hash of each PIN or password is kept; app/domain/staff.py makes and checks it.
"""

from __future__ import annotations

from typing import Any

from app.store.connection import Connection

COLUMNS = (
    "id", "name", "name_key", "role", "secret_hash", "failed_attempts", "locked_until",
    "created_at", "updated_at",
)  # fmt: skip


def _require_transaction(db: Connection) -> None:
    assert db.in_transaction, "staff writes must run inside store.transaction()"


def _one(db: Connection, where: str, value: str) -> dict[str, Any] | None:
    cursor = db.execute(f"SELECT {', '.join(COLUMNS)} FROM staff WHERE {where} = ?", [value])
    row = cursor.fetchone()
    return dict(zip(COLUMNS, row, strict=True)) if row else None


def get(db: Connection, staff_id: str) -> dict[str, Any] | None:
    return _one(db, "id", staff_id)


def by_name_key(db: Connection, name_key: str) -> dict[str, Any] | None:
    return _one(db, "name_key", name_key)


def list_all(db: Connection) -> list[dict[str, Any]]:
    cursor = db.execute(f"SELECT {', '.join(COLUMNS)} FROM staff ORDER BY name_key")
    return [dict(zip(COLUMNS, row, strict=True)) for row in cursor.fetchall()]


def insert(db: Connection, member: dict[str, Any]) -> None:
    _require_transaction(db)
    db.execute(
        f"INSERT INTO staff ({', '.join(COLUMNS)}) VALUES ({', '.join(':' + c for c in COLUMNS)})",
        {name: member.get(name) for name in COLUMNS},
    )


def update(db: Connection, staff_id: str, changes: dict[str, Any]) -> None:
    _require_transaction(db)
    assignments = ", ".join(f"{name} = :{name}" for name in changes if name in COLUMNS)
    db.execute(f"UPDATE staff SET {assignments} WHERE id = :_id", {**changes, "_id": staff_id})


def delete(db: Connection, staff_id: str) -> None:
    """Remove the account and every browser session it signed in."""
    _require_transaction(db)
    db.execute("DELETE FROM ui_sessions WHERE key_id = ?", [staff_id])
    db.execute("DELETE FROM staff WHERE id = ?", [staff_id])


def count(db: Connection) -> int:
    return db.execute("SELECT COUNT(*) FROM staff").fetchone()[0]
