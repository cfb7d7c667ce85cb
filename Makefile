# The targets the README names. Each works alone on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test

CHROMIUM ?= /usr/bin/chromium

.PHONY: demo serve test test-pg test-browser browser lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed  ## install and run the whole desk on SQLite with sample data
	$(BIN)/pesadesk demo

serve: $(VENV)/.installed  ## install and run the service with ./config.yaml
	$(BIN)/pesadesk serve

test: $(VENV)/.installed-test  ## install the test tools and run every test
	$(BIN)/python -m pytest

test-pg: $(VENV)/.installed-test  ## the same suite, PostgreSQL included (the browser tests run on SQLite only, in `make test`)
	PESADESK_TEST_PG_URL=$(PG_URL) $(BIN)/python -m pytest -m "not browser"

test-browser: $(VENV)/.installed-test  ## only the dashboard tests in Chromium (screenshots in artifacts/screenshots/)
	$(BIN)/python -m pytest -m browser

browser:  ## install Debian's Chromium for the browser tests when it is missing (needs root)
	@test -x $(CHROMIUM) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

lint: $(VENV)/.installed-test  ## ruff and mypy, as CI runs them
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed-test  ## webhook ingest benchmark (not part of the tests)
	$(BIN)/python -m benchmarks.ingest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis data
