# Orderdeck — `make run` starts the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test test-fast lint bench screenshots clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Orderdeck needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: setup
	$(BIN)/python -m devserver

# axe-core (pinned in tests/e2e/package.json and its lock) for the browser tests' accessibility
# checks; installed, never committed. Without npm (and Chromium) the browser tests skip.
AXE := tests/e2e/node_modules/axe-core/axe.min.js

$(AXE): tests/e2e/package.json tests/e2e/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error && touch $(AXE); \
	else echo "npm not found: the browser tests' accessibility checks need Node's npm"; fi

test: setup $(AXE)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Daily work: everything but the tests marked slow (fault campaign, `make run` end to end,
# browser). `make test` still runs them all.
test-fast: setup
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .

# Measures speed, throughput and memory into docs/benchmarks.md: about 30 minutes on an idle
# 2-core machine (25 with the day's seeded SQLite files kept by --reuse), most of it at
# 1,000,000 generated orders on each database — the Orders page, Home and CSV export, the
# packing slips, the import of 10,000 more and a first import of 180,000 orders, and the load
# test (each seeds its own million on PostgreSQL, 2–3 minutes). Uses TEST_DATABASE_URL for
# PostgreSQL when set (the load test needs it), and Debian's chromium for click-to-synced.
bench: setup
	$(BIN)/python -m bench.orders_page --reuse
	$(BIN)/python -m bench.slips --reuse
	$(BIN)/python -m bench.import_throughput --reuse
	$(BIN)/python -m bench.outbound
	$(BIN)/python -m bench.click_to_synced
	$(BIN)/python -m bench.webhooks
	$(BIN)/python -m bench.reconcile
	$(BIN)/python -m bench.load

# The main pages' screenshots, as the browser tests take them, into docs/screenshots/.
screenshots: setup $(AXE)
	ORDERDECK_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q tests/e2e/test_accessibility.py

clean:
	rm -rf $(VENV) .pytest_cache tests/e2e/node_modules
