"""The hub on PostgreSQL: throw-away server, schema, gap-free feed, copy from SQLite."""
