# The two commands a newcomer needs are `make run` and `make test`; `make help` lists the rest.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= ./var/booking.db
# `make run` fills a new database with a demo shop; `make run DEMO=` starts with an empty one.
DEMO ?= --demo

.DEFAULT_GOAL := help

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps re-run the install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed

.PHONY: help run test lint fmt bench soak schema wheel clean

help: ## Show this help.
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

run: $(VENV)/.installed ## Create the venv, install, and serve on http://127.0.0.1:8080 with a demo shop (DEMO= for none).
	$(BIN)/booking serve --db $(DB) $(DEMO)

# The second pass runs these again with the hub on PostgreSQL (README § The hub on PostgreSQL):
# every API, sync and outbox test, and the live tests whose hub is a `booking serve` process
# (sync, moves, messages, copies, serve). The live tests of what a hub's database does not
# change (body limits, request deadlines, the laptop's desktop service) and of the one-slot
# race, which needs the hub's locks, run in the first pass only.
PG_SUITES := tests/api tests/sync tests/outbound tests/live/test_sync_processes.py \
	tests/live/test_moves_processes.py tests/live/test_messages_offline.py \
	tests/live/test_copies.py tests/live/test_serve.py

# pytest exits 5 when it collected no tests; that must fail, not pass silently.
# The browser tests find a Chromium, or install one first (tests/tools/browser.py says how).
# Both passes run even when the first fails, so one run shows every failure; either fails it.
test: $(VENV)/.installed-test lint ## Install test dependencies, lint, run every suite, then the hub's on PostgreSQL.
	@BOOKING_TEST_CHROMIUM="$$($(BIN)/python -m tests.tools.browser)" || exit 1; \
	export BOOKING_TEST_CHROMIUM; \
	$(BIN)/python -m pytest; first=$$?; \
	echo "== The API, sync, outbox and live hub suites again, with the hub on PostgreSQL =="; \
	$(BIN)/python -m pytest --backend=postgresql $(PG_SUITES); second=$$?; \
	for rc in $$first $$second; do \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing on purpose." >&2; exit 1; fi; \
	  if [ $$rc -ne 0 ]; then exit $$rc; fi; \
	done

lint: $(VENV)/.installed-test ## ruff, the import contract (layers point one way), dead code, cog --check on the README.
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/vulture
	$(BIN)/cog --check README.md

fmt: $(VENV)/.installed-test ## Format the code and regenerate the README's generated parts.
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/cog -r README.md

bench: $(VENV)/.installed-test ## Benchmarks against the real server, as ratios to the bare stack.
	$(BIN)/python -m tests.bench.run

soak: $(VENV)/.installed-test ## The sync convergence property tests with 500 examples each (minutes).
	SYNC_EXAMPLES=500 $(BIN)/python -m pytest -q tests/sync/test_convergence.py

schema: $(VENV)/.installed-test ## Rewrite tests/schema.sql after adding a migration.
	$(BIN)/python -m tests.tools.dump_schema > tests/schema.sql

wheel: $(VENV)/.installed-test ## Build the wheel `pipx install` takes into dist/ (tests/desktop/test_wheel.py checks it).
	$(BIN)/python -m build --wheel --no-isolation --outdir dist

clean: ## Remove the virtualenv and caches (keeps ./var).
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build dist
