"""The hub on PostgreSQL: throw-away server, schema, feed, copy, several hub processes."""
