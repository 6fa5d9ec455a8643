# OmniRoute — `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8080

.DEFAULT_GOAL := help
.PHONY: help run test lint fmt bench bench-routing clean browser

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' \
	  '{n[NR] = $$1; d[NR] = $$2; if (length($$1) > w) w = length($$1)} \
	   END {for (i = 1; i <= NR; i++) printf "  make %-" w "s  %s\n", n[i], d[i]}'

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

test: $(STAMP) browser ## install dev dependencies, start the real test servers and run the whole suite
	$(BIN)/pytest

# The simulator page's tests drive Debian's Chromium (they skip, saying so, without it). As root on
# Debian, a fresh machine gets it here (at most 5 minutes: a machine without its package mirror
# goes on without it); anywhere else this does nothing.
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    echo "installing Debian's chromium for the simulator page's tests" && \
	    DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q chromium >/dev/null; } || true

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
	$(BIN)/python -m bench.quote
	$(BIN)/python -m bench.graphql_products
	$(BIN)/python -m bench.pick_paths
	$(BIN)/python -m bench.payments
	$(BIN)/python -m bench.cli_startup

bench-routing: $(STAMP) ## the route optimiser beside PyVRP on all 56 Solomon instances (~20 min), then 1,000 stops
	$(BIN)/python -m bench.routing --time-limit 10
	$(BIN)/python -m bench.routing_scale

clean: ## remove the virtualenv and local state
	rm -rf $(VENV) var
