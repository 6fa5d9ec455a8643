# OmniRoute — `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8080

.DEFAULT_GOAL := help
.PHONY: help run test lint fmt bench clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-6s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip check
	touch $(STAMP)

run: $(STAMP) ## install, migrate, load the demo catalogue and serve on http://127.0.0.1:8080 (no servers needed)
	$(BIN)/omniroute migrate
	$(BIN)/omniroute seed --demo
	$(BIN)/omniroute serve --host $(HOST) --port $(PORT)

test: $(STAMP) ## install dev dependencies, start the real test servers and run the whole suite
	$(BIN)/pytest

lint: $(STAMP) ## ruff, formatting, mypy and the import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: $(STAMP) ## format and autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP) ## run the benchmarks (figures go in BENCHMARKS.md)
	$(BIN)/python -m bench.ussd_hops
	$(BIN)/python -m bench.session_bytes
	$(BIN)/python -m bench.ledger

clean: ## remove the virtualenv and local state
	rm -rf $(VENV) var
