# voiceops — the two commands a user needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# pytest-xdist: one worker per core, plus one. Tests that start processes share one worker
# (tests/processes.py), which spends most of its time waiting on the processes it started:
# the extra worker keeps the cores busy meanwhile (main suite 642 s -> 570 s on 2 cores).
PYTEST_WORKERS ?= -n $(shell echo $$(( $$(nproc) + 1 ))) --dist loadgroup
# Random order by default (pytest-randomly prints the seed); PYTEST_SEED=N repeats an order.
PYTEST_SEED ?=
# Some machines set PYTHONDONTWRITEBYTECODE=1: then pytest rewrites every test module's asserts
# and Python compiles every project module again in each process (each xdist worker, each
# server and worker the end-to-end tests start), which doubled `make test` on such a machine.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo test lint install services migrate bench clean

# --no-compile: byte-compiling every installed module was half of the install (28 s of 61 on
# 2 cores); Python compiles, and keeps, only the modules a process imports.
$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --no-compile -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

services:
	@bash scripts/check-services

migrate: install services
	$(PY) manage.py migrate --noinput

## Run the whole system: web, worker, beat and the Vapi simulator, with demo data.
demo: install services
	@bash scripts/demo

## Run the whole test suite against the real Postgres and Redis, in random order, with every
## date-dependent test also run with the clock moved (--clock-check, tests/clockshift.py). With
## PYTEST_ARGS (e.g. PYTEST_ARGS="tests/tools -x") only those tests run, at the real clock.
test: install services
	$(PY) -m pytest $(PYTEST_WORKERS) $(if $(PYTEST_ARGS),,--clock-check) $(if $(PYTEST_SEED),--randomly-seed=$(PYTEST_SEED)) $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports

bench: install services
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
