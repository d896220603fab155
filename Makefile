# Two commands for a fresh machine:  make baseline  (run the baseline scenario)  and  make test.
PYTHON ?= $(shell command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: baseline test test-fast lint env clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "negsim needs Python >= 3.12 (set PYTHON=/path/to/python3.12)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,app]'
	@touch $(STAMP)

env: $(STAMP)

baseline: $(STAMP)
	$(BIN)/negsim run scenarios/baseline.yaml --out results/baseline --overwrite

# Code health: lint and format (ruff), and imports that go one way between layers (import-linter).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

test: lint
	$(BIN)/python -m pytest -q -n 2 --durations=15

# For local work: the same without the tests marked slow (CI runs them all).
test-fast: lint
	$(BIN)/python -m pytest -q -n 2 -m "not slow"

clean:
	rm -rf $(VENV) results/*/
