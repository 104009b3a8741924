# The two commands of the README: `make run` (the stack on this machine) and `make test`.
# Both create .venv and install what they need on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install run test lint format openapi events bench soak clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(INSTALLED)

run: $(INSTALLED)
	$(BIN)/orders-local

# ruff (lint and format, as configured in pyproject.toml) and cfn-lint; `make format` rewrites.
lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint template.yaml

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The hardening report plugin prints the run's figures (requests, faults, violations) at the end.
test: lint
	$(BIN)/pytest -n 2 --dist loadfile -q -p tests.hardening.report

# The hardening suite at ten times its `make test` size (fuzz examples, load time, race rounds).
soak: $(INSTALLED)
	HARDENING_SCALE=10 $(BIN)/pytest -n 2 --dist loadfile -q -p tests.hardening.report tests/hardening

openapi: $(INSTALLED)
	$(BIN)/python -m infra.generate.openapi > openapi.json

events: $(INSTALLED)
	$(BIN)/python -m infra.generate.sample_events

bench: $(INSTALLED)
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .aws-sam
