# Two commands for a fresh machine:  make baseline  (run the baseline scenario)  and  make test.
PYTHON ?= $(shell command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: baseline test env clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "negsim needs Python >= 3.12 (set PYTHON=/path/to/python3.12)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

env: $(STAMP)

baseline: $(STAMP)
	$(BIN)/negsim run scenarios/baseline.yaml --out results/baseline --overwrite

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --durations=15

clean:
	rm -rf $(VENV) results/*/
