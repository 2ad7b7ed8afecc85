"""The hub on PostgreSQL: throw-away server, schema, gap-free feed, copy from SQLite, several hub
processes (races held open, a lost database, the sync-level race with real processes)."""
