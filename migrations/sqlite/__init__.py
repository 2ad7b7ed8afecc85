"""The SQLite migrations, one per file, applied in the order migrations/migrations.py lists."""
