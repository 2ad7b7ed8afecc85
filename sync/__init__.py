"""Sync: change log, hybrid logical clock, push/pull client, hub endpoints and worker."""
