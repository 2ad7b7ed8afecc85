"""The counter's type-ahead on a hub on PostgreSQL reads indexes, as SQLite's m0011 made them.

0001 indexed `lower(email)` only: a search by a name's start or by phone digits read every
customer. These are the two index ranges app/store/customer_search.py asks for: a name's start
(`lower(name)` between a prefix and past it, in name order) and the phone's digits (the same
expression the query compares, so the planner can match it). Text here is collated "C", so
`lower()` keeps byte order and a prefix is one range, as in SQLite. A search for a word inside
a name reads the name index from end to end on SQLite too; nothing here changes that.

PHONE_DIGITS is frozen here, as a migration must be; tests/postgres_hub/test_schema.py checks
that the store's query still spells the same expression.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PHONE_DIGITS = (
    "replace(replace(replace(replace(replace(replace(replace(phone, ' ', ''), '-', ''), "
    "'(', ''), ')', ''), '.', ''), '/', ''), chr(160), '')"
)

STATEMENTS = [
    "CREATE INDEX customers_name_lower ON customers (lower(name), id) WHERE deleted_at IS NULL",
    f"CREATE INDEX customers_phone_digits ON customers (({PHONE_DIGITS}), id)",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)
