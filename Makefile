# Set-up, checks and packaging for the sentinel monorepo.
# `make run` and `make test` install everything they need on a fresh machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := core files queue box web log
EDITABLES := $(foreach p,$(PACKAGES),-e packages/sentinel-$(p))
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
WHEELHOUSE := dist/wheelhouse

.PHONY: setup run test lint typecheck pytest chromium dist clean chaos

$(STAMP): requirements-dev.txt $(wildcard packages/*/pyproject.toml) $(wildcard packages/*/src/sentinel/*/*.c)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt $(EDITABLES)
	touch $@

setup: $(STAMP)

run: setup
	$(BIN)/sentinel run

# Debian's chromium drives the dashboard tests; Playwright's own browser
# download does not work on machines without general internet access.
chromium:
	@test -x $(CHROMIUM) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: setup
	$(BIN)/ruff format --check packages tests benchmarks conftest.py
	$(BIN)/ruff check packages tests benchmarks conftest.py

typecheck: setup
	$(BIN)/mypy packages/sentinel-core/src packages/sentinel-files/src packages/sentinel-queue/src packages/sentinel-box/src packages/sentinel-web/src packages/sentinel-log/src

pytest: setup chromium dist
	$(BIN)/pytest

test: lint typecheck pytest

# Wheels of every distribution, plus the wheels of their third-party
# dependencies in dist/wheelhouse, so installs can run with --no-index.
dist: setup
	rm -f dist/*.whl
	$(foreach p,$(PACKAGES),$(BIN)/python -m build --wheel --no-isolation --outdir dist packages/sentinel-$(p) >/dev/null &&) true
	$(BIN)/python -m pip download --quiet --dest $(WHEELHOUSE) --find-links dist $(foreach p,$(PACKAGES),dist/sentinel_$(p)-*.whl)
	rm -f $(WHEELHOUSE)/sentinel_*.whl

clean:
	rm -rf $(VENV) dist .mypy_cache .ruff_cache .pytest_cache

# The long reliability run of the queue: 20,000 jobs while workers are killed.
chaos: setup
	SENTINEL_QUEUE_CHAOS_JOBS=20000 $(BIN)/pytest -q packages/sentinel-queue/tests/test_reliability.py --timeout 1800
