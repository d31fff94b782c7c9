# Two commands for a new user: `make serve` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: serve test lint bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

serve: $(VENV)/.installed
	$(BIN)/pactmock serve

# The dashboard's browser tests (tests/browser/) drive Debian's chromium: installed once, when it is missing.
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

$(CHROMIUM):
	$(SUDO) apt-get update -q
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium

# Two passes: most tests in parallel (pytest-xdist, TEST_WORKERS processes), then the ones marked serial
# (tests/conftest.py: they load or time the server) alone, one at a time.
TEST_WORKERS ?= 2

test: $(VENV)/.installed-test $(CHROMIUM)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not serial"
	$(BIN)/python -m pytest -m serial

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(VENV)/.installed $(VENV)/.installed-test $@

bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench.engine
	$(BIN)/python -m bench.compare

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
