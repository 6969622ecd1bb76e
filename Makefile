# Openness Tracker. `make demo` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
MIRROR ?= pipelines/mirror/sample
WAREHOUSE ?= warehouse
PYTEST_ARGS ?=
export DAGSTER_HOME ?= $(CURDIR)/.dagster
export DAGSTER_DISABLE_TELEMETRY = 1
export GX_ANALYTICS_ENABLED = false
export HF_HUB_DISABLE_TELEMETRY = 1

.PHONY: venv demo test ui lint bench clean-warehouse

venv: $(BIN)/.installed

# Re-install when the dependency pins change. requirements.lock pins the whole tree (see its header).
$(BIN)/.installed: pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test]'
	@touch $@

demo: venv
	$(BIN)/openness demo --mirror $(MIRROR) --warehouse $(WAREHOUSE)

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

ui: venv
	$(BIN)/openness ui

lint: venv
	$(BIN)/ruff check pipelines assets benchmarks tests
	$(BIN)/ruff format --check pipelines assets benchmarks tests

# Benchmarks (not in the tests): BENCH_SCALE=quick (default, minutes) or BENCH_SCALE=full (Hub scale).
# They live in the top-level benchmarks/ package (with the synthetic Hub-scale generators), outside the
# shipped wheel; the product never imports them. Writes bench-results/results.json and the tables in
# docs/benchmarks.md.
bench: venv
	$(BIN)/python -m benchmarks.run

clean-warehouse:
	rm -rf $(WAREHOUSE)/work.duckdb $(WAREHOUSE)/openness.duckdb $(WAREHOUSE)/raw $(WAREHOUSE)/snapshots $(WAREHOUSE)/state
