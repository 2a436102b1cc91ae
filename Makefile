# Integration Hub: `make run` starts everything, `make test` proves it. Both set themselves up.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run test test-live lint fmt bench load chaos venv clean ci smoke

$(VENV)/.runtime: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.dev

## Start web, worker, beat, Flower and the Odoo sandbox (Ctrl-C stops all).
run: $(VENV)/.runtime
	@bash scripts/run.sh

## The whole test suite; PostgreSQL/Redis when DATABASE_URL/CELERY_BROKER_URL are set.
test: $(VENV)/.dev
	HUB_VAR_DIR=$${HUB_VAR_DIR:-$(CURDIR)/var/test} $(PY) -m pytest $(PYTEST_ARGS)

## The Odoo contract suite against a real Odoo (ODOO_URL, ODOO_DB, ODOO_USER, ODOO_PASSWORD).
test-live: $(VENV)/.dev
	@test -n "$$ODOO_URL" || (echo "set ODOO_URL, ODOO_DB, ODOO_USER and ODOO_PASSWORD" && exit 2)
	HUB_VAR_DIR=$${HUB_VAR_DIR:-$(CURDIR)/var/test} $(PY) -m pytest -m live_odoo $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy apps
	$(VENV)/bin/lint-imports

fmt: $(VENV)/.dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## Benchmarks; figures go to docs/benchmarks.md.
bench: $(VENV)/.dev
	HUB_VAR_DIR=$${HUB_VAR_DIR:-$(CURDIR)/var/bench} bash bench/run.sh

$(VENV)/.bench: $(VENV)/.dev requirements-bench.txt
	$(PY) -m pip install -q -r requirements-bench.txt
	@touch $@

## Mixed-traffic load test (Locust, about 7 min): the highest rate with p99 <= 200 ms.
load: $(VENV)/.bench
	$(PY) bench/load_bench.py $(LOAD_ARGS)

## Chaos run (docs/reliability.md): ORDERS orders through the webhooks while faults hit the
## production topology (private PostgreSQL and Redis), then exact accounting; exit 0 when it holds.
ORDERS ?= 10000
chaos: $(VENV)/.dev
	$(PY) -m bench.chaos --orders $(ORDERS) $(CHAOS_ARGS)

## Start `make run` in the background, wait for /readyz, call the API, stop everything.
smoke: $(VENV)/.runtime
	bash scripts/smoke.sh

ci:
	bash .ci/run

clean:
	rm -rf var/test var/bench .pytest_cache .mypy_cache .ruff_cache
