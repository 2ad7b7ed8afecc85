"""Browser sign-ins held on the server, so Sign out ends one even for a copied cookie."""

from sqlite_utils import Database


def apply(db: Database) -> None:
    """Browser sign-ins held on the server, so Sign out ends one even for a copied cookie.

    Node-local (never synced): the cookie carries a random session id, of which only a SHA-256
    is kept here, with the key it signed in with.
    """
    db.execute(
        """CREATE TABLE ui_sessions (
            id_hash TEXT PRIMARY KEY,
            key_id TEXT NOT NULL,
            created_at INTEGER NOT NULL
        ) STRICT"""
    )
