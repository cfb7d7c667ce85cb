# The targets the README names. Each works alone on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: demo serve test test-pg lint format bench clean

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

test-pg: $(VENV)/.installed-test  ## the same suite, PostgreSQL included
	PESADESK_TEST_PG_URL=$(PG_URL) $(BIN)/python -m pytest

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
