# The two commands of the README: `make run` (the stack on this machine) and `make test`.
# Both create .venv and install what they need on first use.

PYTHON ?= python3
# Python keeps the bytecode it compiles (__pycache__, ignored by git), whatever the machine's environment
# says: with PYTHONDONTWRITEBYTECODE=1 (as here) every process compiled every module it imported again,
# and pytest rewrote every test module again: 14 s of each worker's collection, 3 s with the caches.
unexport PYTHONDONTWRITEBYTECODE
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install run check test lint format openapi events bench capacity soak clean browser

# --no-compile: Python compiles a module to bytecode when it first imports it (and keeps it, above); pip would
# compile every module of every package (moto's 150-odd services among them), 20 s of a fresh install's 45 s.
$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-compile -e '.[dev]'
	touch $@

install: $(INSTALLED)

run: $(INSTALLED)
	$(BIN)/orders-local

# ruff (lint, format and the complexity gate, C901 at 10, as configured in pyproject.toml), mypy (strict on
# functions/, the default on infra/) and cfn-lint, the last two side by side (each uses one core); `make
# format` rewrites.
lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@found=$$(mktemp); $(BIN)/cfn-lint template.yaml > $$found 2>&1 & cfn_lint=$$!; \
	echo "$(BIN)/mypy functions/orders infra"; $(BIN)/mypy functions/orders infra; typed=$$?; \
	echo "$(BIN)/cfn-lint template.yaml"; wait $$cfn_lint; linted=$$?; cat $$found; rm -f $$found; \
	[ $$linted = 0 ] && exit $$typed

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The portal's browser tests drive Debian's chromium-headless-shell (Chromium's headless build, which
# Playwright itself uses for headless runs; the full `chromium` package took 2.7 times its CPU for the same
# tests): installed here when missing (as root, through apt-get). Without root, a machine with only the full
# chromium runs the tests in it (tests/e2e/test_portal.py), and one with neither stops, naming the package.
CHROMIUM := /usr/bin/chromium-headless-shell

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium-headless-shell for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-headless-shell >/dev/null; \
	elif [ -x /usr/bin/chromium ]; then \
		echo "The browser tests run in /usr/bin/chromium; sudo apt-get install chromium-headless-shell runs them in less CPU"; \
	else \
		echo "make test needs Debian's chromium-headless-shell package for the browser tests: sudo apt-get install chromium-headless-shell" >&2; \
		exit 1; \
	fi

browser: $(CHROMIUM)

# pytest-xdist workers. The unit and integration tiers are CPU-bound: one worker per core. The end-to-end
# and hardening workers wait much of the time for a local stack (a process of its own) or the browser,
# and a third keeps both cores busy: pytest took 5 min 44 s with two, 5 min 4 s with three and 5 min 17 s with
# four, on a 2-core machine (one working copy, one run after another).
CHECK_WORKERS ?= 2
TEST_WORKERS ?= 3
PYTEST := $(BIN)/pytest --dist loadgroup -q -p tests.tiers

# The quick loop while writing a change: lint, then the unit and integration tiers (no local stack, no browser).
check: lint
	$(PYTEST) -n $(CHECK_WORKERS) tests/unit tests/integration

# Everything: lint, then every tier. The hardening report plugin prints the run's figures (requests,
# faults, violations) at the end, and tests.tiers the time each tier took.
test: lint $(CHROMIUM)
	$(PYTEST) -n $(TEST_WORKERS) -p tests.hardening.report

# The hardening suite at ten times its `make test` size (fuzz examples, load time, race rounds).
soak: $(INSTALLED)
	HARDENING_SCALE=10 $(BIN)/pytest -n 2 --dist loadgroup -q -p tests.hardening.report tests/hardening

openapi: $(INSTALLED)
	$(BIN)/python -m infra.generate.openapi > openapi.json

events: $(INSTALLED)
	$(BIN)/python -m infra.generate.sample_events

bench: $(INSTALLED)
	$(BIN)/python -m tests.bench

# What saturates first on AWS, at what load, and the cost per million orders (README, "Capacity: what
# saturates first"), from template.yaml, infra/capacity/'s data and the bench's docs/lambda-durations.json;
# a few seconds. Another template or profile: make capacity CAPACITY_ARGS="--template /tmp/before.yaml".
CAPACITY_ARGS ?=
capacity: $(INSTALLED)
	$(BIN)/python -m infra.capacity $(CAPACITY_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .aws-sam test-output
