# Openness Tracker. `make demo` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
MIRROR ?= pipelines/mirror/sample
WAREHOUSE ?= warehouse
# Two test workers (pytest-xdist) on a 2-core machine, at most four elsewhere; PYTEST_ARGS= runs them serially.
PYTEST_ARGS ?= -n auto --maxprocesses=4 --dist loadgroup
export DAGSTER_HOME ?= $(CURDIR)/.dagster
export DAGSTER_DISABLE_TELEMETRY = 1
export GX_ANALYTICS_ENABLED = false
export HF_HUB_DISABLE_TELEMETRY = 1

.PHONY: venv lock demo demo-s3 test ui ui-mirror lint bench bench-docs clean-warehouse

venv: $(BIN)/.installed

# Re-install when the dependency pins change. requirements.lock is the whole tree, every package pinned and
# hashed (`make lock` writes it from pyproject.toml): pip installs exactly it (--require-hashes, --no-deps),
# then the project itself without dependencies, and `pip check` proves the tree complete and consistent.
PIP_VERSION := 26.3
$(BIN)/.installed: pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip==$(PIP_VERSION)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	@touch $@

# Re-resolve the lock after a pin in pyproject.toml changes (needs the package index). uv keeps the versions
# already in requirements.lock unless a pin moves; delete the file first to re-resolve everything.
lock: venv
	$(BIN)/uv pip compile pyproject.toml --extra test --generate-hashes --python-version 3.11.5 \
		--custom-compile-command "make lock" -o requirements.lock
	@echo "requirements.lock written; run 'make venv' to install it"

demo: venv
	$(BIN)/openness demo --mirror $(MIRROR) --warehouse $(WAREHOUSE)

# The demo with its raw layer in a bucket of an S3-compatible server (moto) started on 127.0.0.1 for the run:
# the DuckDB files and snapshots go to $(WAREHOUSE_S3), and the result must equal `make demo`'s in
# $(WAREHOUSE) (run first when missing). docs/operations.md, "The raw layer on object storage".
WAREHOUSE_S3 ?= $(WAREHOUSE)-s3
demo-s3: venv
	$(BIN)/python -m tests.demo_s3 --mirror $(MIRROR) --warehouse $(WAREHOUSE_S3) --compare $(WAREHOUSE)

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The UI of the instance ($DAGSTER_HOME); the runs launched from it write $(WAREHOUSE), the demo's warehouse.
ui: venv
	$(BIN)/openness ui --warehouse $(WAREHOUSE)

# The same, offline: $(MIRROR) is served on 127.0.0.1 while the UI runs, and the crawls launched from the UI
# read it (docs/operations.md, "Trying the UI offline").
ui-mirror: venv
	$(BIN)/openness ui --warehouse $(WAREHOUSE) --mirror $(MIRROR)

# Lint: ruff, and the dependencies ([tool.deptry] in pyproject.toml): the product imports only what [project]
# declares and uses all of it; the tests and benchmarks import only what is declared (`test` extra included).
lint: venv
	$(BIN)/ruff check pipelines assets benchmarks tests
	$(BIN)/ruff format --check pipelines assets benchmarks tests
	$(BIN)/deptry . --extend-exclude '^tests/' --extend-exclude '^benchmarks/'
	$(BIN)/deptry . --ignore DEP004

# Benchmarks (not in the tests): BENCH_SCALE=quick (default, minutes) or BENCH_SCALE=full (Hub scale).
# They live in the top-level benchmarks/ package (with the synthetic Hub-scale generators), outside the
# shipped wheel; the product never imports them. `bench` writes bench-results/results.json (untracked);
# `bench-docs` also rewrites the results tables of docs/benchmarks.md (tracked).
bench: venv
	$(BIN)/python -m benchmarks.run

bench-docs: venv
	$(BIN)/python -m benchmarks.run --write-docs

clean-warehouse:
	rm -rf $(WAREHOUSE)/work.duckdb $(WAREHOUSE)/openness.duckdb $(WAREHOUSE)/raw $(WAREHOUSE)/snapshots $(WAREHOUSE)/state
