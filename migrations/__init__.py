"""Schema changes, append-only (sqlite-utils Migrations), run by sync.identity.init_database."""
