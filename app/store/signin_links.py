"""SQL for one-time sign-in links (`booking open`): stored as a hash, deleted when used."""

from __future__ import annotations

from app.store.connection import Connection


def insert_signin_link(db: Connection, token_hash: str, key_id: str, expires_at: int) -> None:
    """In the caller's transaction; links past their time are swept out at the same time."""
    db.execute("DELETE FROM signin_links WHERE expires_at <= ?", [expires_at - 86_400_000])
    db.execute(
        "INSERT INTO signin_links (token_hash, key_id, expires_at) VALUES (?, ?, ?)",
        [token_hash, key_id, expires_at],
    )


def take_signin_link(db: Connection, token_hash: str, now_ms: int) -> str | None:
    """The link's key id if it is unused and in time, deleting it either way (one use only).
    In the caller's transaction."""
    row = db.execute(
        "DELETE FROM signin_links WHERE token_hash = ? RETURNING key_id, expires_at",
        [token_hash],
    ).fetchone()
    if row is None or row[1] <= now_ms:
        return None
    return str(row[0])
