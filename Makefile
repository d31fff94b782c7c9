# Two commands for a new user: `make serve` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: serve test lint bench bench-peers clean

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

# The peers `python -m bench.peers` measures pactmock against (npm packages, under a git-ignored folder; WireMock
# runs its bundled jar on the machine's Java 17). Only this target installs them: `make serve` and `make test`
# never do, and the peers' smoke test is skipped where they are missing.
PEERS_DIR := bench/.peers
PEERS_NPM := wiremock@3.13.2 @mockoon/cli@9.9.0 json-server@0.17.4

$(PEERS_DIR)/.installed: Makefile
	mkdir -p $(PEERS_DIR)
	npm install --prefix $(PEERS_DIR) --no-audit --no-fund --loglevel=error $(PEERS_NPM)
	touch $@

bench-peers: $(VENV)/.installed-bench $(PEERS_DIR)/.installed
	$(BIN)/python -m bench.peers

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
