"""Print the schema a fresh, fully migrated database has (`make schema` writes tests/schema.sql)."""

import tempfile
from pathlib import Path

from app import store
from sync import identity


def schema_sql(db) -> str:
    rows = db.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
        "ORDER BY type DESC, name"
    )
    return "\n".join(row[0] + ";" for row in rows)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "schema.db")
        identity.init_database(path)
        database = store.open_db(path)
        print(schema_sql(database))
        database.close()
