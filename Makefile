# LLM Observatory: `make run` starts everything locally, `make test` runs the tests.
# Both install what they need first (a .venv beside this file); `make help` lists the rest.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TYPED := $(wildcard services shared deploy)
PYTEST_ARGS ?=
SEED_ARGS ?=
BENCH_STAMP := $(VENV)/.installed-bench
# Sizes of `make bench`: together about 20 minutes on a quiet 2-core machine.
INGEST_SPANS ?= 30000
OVERLOAD_SPANS ?= 100000
FIXED_RATE ?= 1000
SIDE_SPANS ?= 20000
WRITER_SPANS ?= 200000
QUERY_SPANS ?= 1000000

.DEFAULT_GOAL := help
.PHONY: help venv install run migrate seed reset test reliability audit lint format typecheck clean bench bench-ingest bench-phoenix bench-storage bench-query

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

venv: $(STAMP) ## Create .venv and install the project with its dev and local extras

install: $(STAMP) ## Same as venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,local]'
	touch $@

run: $(STAMP) ## Start PostgreSQL, Redis and the three services with hot reload (Ctrl-C stops)
	$(BIN)/python -m deploy.local.stack run

migrate: $(STAMP) ## Apply migrations to DATABASE_URL (or to the local PostgreSQL, started if needed)
	$(BIN)/python -m deploy.local.stack migrate

seed: $(STAMP) ## Send realistic LLM traces through the collector (SEED_ARGS="--days 7 --traces 5000")
	$(BIN)/python -m deploy.devutils.seed $(SEED_ARGS)

reset: $(STAMP) ## Delete the stored telemetry of DATABASE_URL (default: `make run`'s database)
	$(BIN)/python -m deploy.devutils.reset

test: $(STAMP) ## Run the tests against throwaway PostgreSQL and Redis (PYTEST_ARGS="-k x" passes on)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

reliability: $(STAMP) ## Full reliability suite (longer loads, 10 min fuzz per target); rewrites docs/reliability.md
	RELIABILITY_FULL=1 RELIABILITY_RESULTS=docs/reliability-results.json \
		$(BIN)/python -m pytest tests/reliability $(PYTEST_ARGS); status=$$?; \
		$(BIN)/python -m tests.reliability.report docs/reliability-results.json docs/reliability.md; \
		exit $$status

audit: $(STAMP) ## Check the installed dependencies for known vulnerabilities (pip-audit)
	@$(BIN)/pip-audit --progress-spinner off --skip-editable > $(VENV)/pip-audit.txt 2>&1; \
		status=$$?; grep -v 'could not be audited' $(VENV)/pip-audit.txt; \
		echo "pip-audit: $$(grep -c 'could not be audited' $(VENV)/pip-audit.txt) packages not found" \
			"on the vulnerability service (list: $(VENV)/pip-audit.txt); exit $$status"; \
		exit $$status

lint: $(STAMP) ## Check style with ruff (lint and format)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## Fix what ruff can fix and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP) ## Check types with mypy (strict)
	$(BIN)/mypy $(TYPED)

clean: ## Delete the local servers' data (.data); stop `make run` first
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m deploy.local.stack clean; else rm -rf .data; fi

$(BENCH_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,local,bench]'
	touch $@

bench: bench-ingest bench-phoenix bench-storage bench-query ## Run every benchmark below and rewrite docs/benchmarks.md (~20 min)

bench-ingest: $(BENCH_STAMP) ## Ingest into the stack flat out (INGEST_SPANS), at FIXED_RATE spans/s, and overloaded by 64 exporters
	$(BIN)/python -m bench.ingest --spans $(INGEST_SPANS) --concurrency 8 --write-docs
	$(BIN)/python -m bench.ingest --spans $(INGEST_SPANS) --rate $(FIXED_RATE) --concurrency 8 --write-docs
	$(BIN)/python -m bench.ingest --spans $(OVERLOAD_SPANS) --concurrency 64 --write-docs

bench-phoenix: $(BENCH_STAMP) ## The same load into LLM Observatory and Arize Phoenix (own venv under .bench/)
	$(BIN)/python -m bench.side_by_side --spans $(SIDE_SPANS) --concurrency 8 --write-docs

bench-storage: $(BENCH_STAMP) ## The storage writer alone: rows/s with and without rollups (WRITER_SPANS)
	$(BIN)/python -m bench.bench_storage_write --spans $(WRITER_SPANS) --write-docs

bench-query: $(BENCH_STAMP) ## API latency, cold and cached, over QUERY_SPANS seeded spans; bytes per span
	$(BIN)/python -m bench.bench_api --spans $(QUERY_SPANS) --write-docs
