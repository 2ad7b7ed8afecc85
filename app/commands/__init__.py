"""Command groups of `booking` beyond the core ones in app/cli.py (the composition root)."""
