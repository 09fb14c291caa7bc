# riskplan — the two set-up commands. Each works on a fresh clone with only Python 3.11+.
# Installs are reproducible: the dependencies come from the hashed lock files (requirements.lock for
# the application, requirements-dev.lock for the tests and checks; both also pin the build tools), then
# riskplan itself is installed editable without resolving anything. `make lock` refreshes both.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: demo test test-spark lint typecheck lock audit clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "riskplan needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(STAMP_DEV): requirements-dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(BIN)/riskplan demo

test: $(STAMP_DEV)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -n auto --dist loadfile --cov --cov-report=term:skip-covered -q

# Only the whole study analyses on Eunomia in Spark local mode against DuckDB (tests marked spark_full; also in `make test`)
test-spark: $(STAMP_DEV)
	$(BIN)/python -m pytest -m spark_full -q tests/studies/test_studies_spark.py

lint: $(STAMP_DEV)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP_DEV)
	$(BIN)/mypy

# Re-resolve pyproject.toml's dependencies (newest versions its ranges allow, every platform's wheels
# hashed) into the two lock files; review the diff, run `make test`, commit the locks.
LOCK_ARGS := --generate-hashes --universal --python-version 3.11 --no-annotate --custom-compile-command "make lock" --quiet
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml build-requirements.in $(LOCK_ARGS) -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml build-requirements.in --extra dev $(LOCK_ARGS) -o requirements-dev.lock

# Known vulnerabilities in the locked dependencies (asks the PyPI advisory database: needs the network).
audit: | $(BIN)/python
	$(BIN)/python -m pip install --quiet pip-audit
	$(BIN)/pip-audit --require-hashes --disable-pip -r requirements-dev.lock

clean:
	rm -rf $(VENV) var/*.db var/*.db-* var/out
