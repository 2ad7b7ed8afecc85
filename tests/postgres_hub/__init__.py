"""The hub on PostgreSQL: the throw-away server, the schema, the gap-free feed, the copy from SQLite."""
