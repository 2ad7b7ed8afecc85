"""The `booking` command groups beyond app/cli.py's core ones: serve, backups, the desktop."""
