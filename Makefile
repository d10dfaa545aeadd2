# Two commands on a fresh machine: `make run` and `make test`.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-sqlite test-postgresql openapi bench clean

$(STAMP): requirements.lock
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python -m app.cli serve

test: test-sqlite test-postgresql

test-sqlite: install
	$(BIN)/python -m pytest -q

# The same suite with the registry on PostgreSQL, when YARDSTICK_TEST_DATABASE_URL names a server.
test-postgresql: install
	@if [ -n "$$YARDSTICK_TEST_DATABASE_URL" ]; then \
		YARDSTICK_TEST_REGISTRY=postgresql $(BIN)/python -m pytest -q -m "not no_registry"; \
	else echo "YARDSTICK_TEST_DATABASE_URL is not set: PostgreSQL half not run"; fi

openapi: install
	$(BIN)/python -m app.contracts write

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var .pytest_cache
