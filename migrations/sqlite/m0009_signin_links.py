"""One-time sign-in links made by `booking open` on the shop's own laptop."""

from sqlite_utils import Database


def apply(db: Database) -> None:
    """One-time sign-in links made by `booking open` on the shop's own laptop.

    Node-local (never synced): a SHA-256 of the link's random token, the key the browser signs
    in with, and when the link stops working. Using a link deletes it.
    """
    db.execute(
        """CREATE TABLE signin_links (
            token_hash TEXT PRIMARY KEY,
            key_id TEXT NOT NULL,
            expires_at INTEGER NOT NULL
        ) STRICT"""
    )
