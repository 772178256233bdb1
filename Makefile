# One entry point: `make run` serves (or demos against the sandbox), `make test`
# runs everything, `make bench` measures. Each sets itself up from nothing:
# scripts/setup.sh decides from what is installed, not from a marker file.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: setup run test lint bench clean

setup:
	@PYTHON=$(PYTHON) sh scripts/setup.sh setup

run:
	@PYTHON=$(PYTHON) sh scripts/setup.sh run
	$(BIN)/python -m bot.ops.devserver

lint:
	@PYTHON=$(PYTHON) sh scripts/setup.sh lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test:
	@sh scripts/check-tracked.sh
	@PYTHON=$(PYTHON) sh scripts/setup.sh test
	@sh scripts/ensure-test-deps.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench:
	@PYTHON=$(PYTHON) sh scripts/setup.sh bench
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null 2>&1; } \
		|| echo "wrk is not installed: the ingest benchmark uses its Python load generator"
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
