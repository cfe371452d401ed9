# Orderdeck — `make run` starts the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test lint bench clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Orderdeck needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: setup
	$(BIN)/python -m webapp.run

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .

# Measures speed, throughput and memory into docs/benchmarks.md (about 10 minutes; uses
# TEST_DATABASE_URL for PostgreSQL when set, and Debian's chromium for click-to-synced).
bench: setup
	$(BIN)/python -m bench.orders_page
	$(BIN)/python -m bench.import_throughput
	$(BIN)/python -m bench.outbound
	$(BIN)/python -m bench.click_to_synced

clean:
	rm -rf $(VENV) .pytest_cache
