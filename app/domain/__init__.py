"""Business rules. Nothing here imports Flask: services take a store connection and plain data
(dicts, dataclasses, instants in ms), return rows, and raise app.domain.errors (no status)."""
