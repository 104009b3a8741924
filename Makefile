# The two commands of the README: `make run` (the stack on this machine) and `make test`.
# Both create .venv and install what they need on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install run test lint openapi bench soak clean

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

# The hardening report plugin prints the run's figures (requests, faults, violations) at the end.
test: lint
	$(BIN)/pytest -n 2 --dist loadfile -q -p tests.hardening.report

# The hardening suite at ten times its `make test` size (fuzz examples, load time, race rounds).
soak: $(INSTALLED)
	HARDENING_SCALE=10 $(BIN)/pytest -n 2 --dist loadfile -q -p tests.hardening.report tests/hardening

openapi: $(INSTALLED)
	$(BIN)/python -m infra.openapi > openapi.json

bench: $(INSTALLED)
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .aws-sam
