# Two commands for a fresh machine:  make baseline  (run the baseline scenario)  and  make test.
PYTHON ?= $(shell command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: baseline test test-fast lint env chromium screenshots clean docs

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "negsim needs Python >= 3.12 (set PYTHON=/path/to/python3.12)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,validation,app,docs]'
	@touch $(STAMP)

env: $(STAMP) chromium

# The browser tests drive Debian's Chromium (Playwright's own browser download is not reachable).
chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
		|| echo "make: chromium is missing and needs root to install (apt-get install -y chromium): the browser tests will skip"

baseline: $(STAMP)
	$(BIN)/negsim run scenarios/baseline.yaml --out results/baseline --overwrite

# Code health: lint and format (ruff), and imports that go one way between layers (import-linter).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

test: lint chromium docs
	$(BIN)/python -m pytest -q -n 2 --durations=15

# For local work: the same without the tests marked slow (CI runs them all).
test-fast: lint chromium
	$(BIN)/python -m pytest -q -n 2 -m "not slow"

# The documentation site (mkdocs.yml, docs/) into site/, warnings as errors; open site/index.html.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# Pictures of each view of the app (negsim app), taken by the browser tests, for the README.
screenshots: $(STAMP) chromium
	NEGSIM_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_app_browser.py

clean:
	rm -rf $(VENV) results/*/
