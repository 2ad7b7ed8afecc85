"""A sync key serves the node it was bound to and that node's restored or copied successors"""

from sqlite_utils import Database


def apply(db: Database) -> None:
    """A sync key serves the node it was bound to and that node's restored or copied successors
    (SYNC.md §3a). `lineage_hash` is the hash of the lineage token the first node showed; a
    successor shows the same token. `sync_key_moves` keeps the nodes a key moved away from, so
    that a second live copy still using the key is refused instead of merged into one writer.
    """
    db.execute("ALTER TABLE api_keys ADD COLUMN lineage_hash TEXT")
    db.execute(
        """CREATE TABLE sync_key_moves (
            key_id TEXT NOT NULL,
            node_id TEXT NOT NULL,
            moved_to TEXT NOT NULL,
            moved_at INTEGER NOT NULL,
            PRIMARY KEY (key_id, node_id)
        ) STRICT"""
    )
    # When the key's node last pushed new changes with it: a copy may take the key over only if
    # the original has gone quiet since the copy was made (a restore), not while it still syncs
    # with this key (two laptops sharing one).
    db.execute("ALTER TABLE api_keys ADD COLUMN pushed_at INTEGER")
