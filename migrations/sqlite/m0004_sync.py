"""Per-field clocks, tombstones, sync state, the hub's per-node marks, replicated anomalies."""

from sqlite_utils import Database


def apply(db: Database) -> None:
    """Per-field clocks, tombstones, sync state, the hub's per-node marks, replicated anomalies.

    `field_clocks` maps each column to the HLC of the change that last set it: remote upserts
    win a field only with a later stamp (SYNC.md §5, last writer wins per field).
    """
    statements = [
        "ALTER TABLE customers ADD COLUMN field_clocks TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE resources ADD COLUMN field_clocks TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE blockers ADD COLUMN field_clocks TEXT NOT NULL DEFAULT '{}'",
        # A delete wins over any concurrent or later update: nothing is resurrected.
        """CREATE TABLE tombstones (
            entity TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            hlc TEXT NOT NULL,
            PRIMARY KEY (entity, entity_id)
        ) STRICT, WITHOUT ROWID""",
        # Node-local, never synced: hub URL and epoch, acknowledged sequence, pull cursor,
        # last success and error, backoff.
        """CREATE TABLE sync_state (
            key TEXT PRIMARY KEY,
            value TEXT
        ) STRICT""",
        # Hub side: the highest origin_seq applied for each pushing node, and its sync key.
        """CREATE TABLE sync_peers (
            node_id TEXT PRIMARY KEY,
            acked_through INTEGER NOT NULL
        ) STRICT""",
        # Double bookings the hub could not resolve; they travel as changes like records do.
        """CREATE TABLE anomalies (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            booking_id TEXT,
            other_booking_id TEXT,
            message TEXT NOT NULL,
            hlc TEXT NOT NULL
        ) STRICT""",
        "CREATE INDEX booking_events_type ON booking_events (booking_id, type)",
    ]
    for statement in statements:
        db.execute(statement)
