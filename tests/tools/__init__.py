"""Maintenance scripts: `make schema` rewrites tests/schema.sql with dump_schema."""
