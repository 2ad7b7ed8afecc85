"""`make bench`: the real server against bare Flask + waitress servers, sync through a hub, and
the hub on PostgreSQL beside SQLite (not collected)."""
