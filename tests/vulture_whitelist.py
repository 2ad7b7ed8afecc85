"""Names the dead-code check (vulture, in `make lint`) would call unused, and who uses them.

Vulture reads the code without running it, so it misses a use made by Python, a library or a
test. It matches names, not places: an entry here covers its name everywhere, so only names
certainly used belong here, each under the reason it is used. Functions that Flask, click,
pydantic or sqlite-utils call through a decorator are skipped by `ignore_decorators` in
pyproject.toml instead. `vulture --make-whitelist` prints the line for a new finding.

Vulture parses this file and never runs it (nor does pytest, which collects test_*.py only).
"""

# Python's and libraries' hooks, called by name.
_.__getattr__  # PEP 562: `from app import create_app` calls app/__init__.py's __getattr__
_._MemoryStorage__schedule_expiry  # replaces limits' name-mangled method (app/web/auth.py)
_.dump  # psycopg calls a Dumper's dump (app/store/postgres.py: booleans as 0/1)
_.sort_keys  # Flask's JSON provider reads app.json.sort_keys
_.session_interface  # Flask opens and saves every request's session through it
_.regex  # werkzeug builds a URL converter's pattern from it (app/web/routes/customers.py)

# flask.g attributes read back with g.get("name").
_.request_started  # app/web/request_log.py
_.made_customer_id  # app/web/ui/bookings.py

# Fields of the request and response models (app/web/models/, app/web/schemas.py):
# pydantic reads and writes them by name, and /openapi.json lists them.
_.model_config
_.acked_through
_.buffer_minutes
_.by_weekday
_.business_id
_.businessId
_.change_id
_.clock_suspect
_.contact_id
_.contactId
_.created_at
_.createdAt
_.customer_since
_.customerSince
_.default_duration_minutes
_.deletedAt
_.external_id
_.forked_at
_.from_status
_.high_water
_.hub_epoch
_.last_attempt
_.last_error
_.last_success
_.next_attempt
_.occurred_at
_.organizationId
_.other_booking_id
_.price_minor
_.resource_ids
_.completed_totals
_.completed_without_price
_.shop
_.phone
_.protocol
_.queued
_.to_status
_.updated_at
_.updatedAt
# ... and of the messaging, webhook and feed models (app/web/models/outbound.py, schemas.py).
_.decided_by
_.disabled_at
_.disabled_reason
_.due_at
_.email_opt_out
_.enabled
_.next_attempt_at
_.revoked_at
_.sent_at
_.sent_by
_.shop_name
_.sms_opt_out
_.state_reason

# Read by tests or `make bench` only, on purpose.
_.restored_hub  # SyncReport: the sync benchmark checks the hub was not restored mid-run
_.skipped  # MergeReport: tests/sync/test_merge.py checks a repeated batch is all skipped
_.close_thread_connections  # store: tests close a thread's connections before a file goes
_.own_pending  # changelog: the sync tests read a node's own changes as the hub would get them

# Alembic reads each revision file's module variables by name (migrations/postgresql/versions).
_.revision
_.down_revision
_.branch_labels
_.depends_on

_.close_pools  # postgres: the test fixtures close a dropped database's pool

_.permanent  # flask.session.permanent, read by Flask when it sets the cookie (app/web/ui/signin.py)
