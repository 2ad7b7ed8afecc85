# The two commands a newcomer needs are `make run` and `make test`; `make help` lists the rest.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= ./var/booking.db

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

run: $(VENV)/.installed ## Create the venv, install, and serve on http://127.0.0.1:8080 (prints an admin key on first start).
	$(BIN)/booking serve --db $(DB) --demo

# pytest exits 5 when it collected no tests; that must fail, not pass silently.
test: $(VENV)/.installed-test lint ## Install test dependencies, lint, and run every test suite.
	@$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing on purpose." >&2; exit 1; fi; \
	exit $$rc

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
