"""Drop the change log's entity index: no query reads the log by entity."""

from sqlite_utils import Database


def apply(db: Database) -> None:
    # No query reads the change log by entity: push and pull go by (origin_node, origin_seq)
    # and by seq. The index only cost every local write and every merged change a b-tree insert
    # and about 1.5 pages in the WAL.
    db.execute("DROP INDEX change_log_entity")
