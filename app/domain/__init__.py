"""The rules: customers, resources, bookings, blockers and availability, on plain data.

Nothing here imports Flask: services take a Database and plain data (dicts, dataclasses,
instants in ms), return rows, and raise app.domain.errors, which know no HTTP status.
"""
