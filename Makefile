# The two commands of the README: `make run` (the stack on this machine) and `make test`.
# Both create .venv and install what they need on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install run test lint openapi bench clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(INSTALLED)

run: $(INSTALLED)
	$(BIN)/orders-local

lint: $(INSTALLED)
	$(BIN)/cfn-lint template.yaml

test: lint
	$(BIN)/pytest -n 2 --dist loadfile -q

openapi: $(INSTALLED)
	$(BIN)/python -m infra.openapi > openapi.json

bench: $(INSTALLED)
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .aws-sam
