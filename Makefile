# Two commands on a fresh machine: `make run` and `make test`.
# Locks (requirements/, all hashed): runtime.lock is the service with DuckDB, SQLite and PostgreSQL;
# engine-<extra>.lock adds one engine (`make install ENGINES=spark,clickhouse`); test.lock is
# everything the suite needs. `make lock` recompiles them all from pyproject.toml.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --require-hashes --no-deps
LOCKS := requirements
HOST ?= 127.0.0.1
PORT ?= 8000
ENGINES ?=

comma := ,
engine_stamps := $(foreach e,$(subst $(comma), ,$(ENGINES)),$(VENV)/.engine-$(e))
$(foreach e,$(subst $(comma), ,$(ENGINES)),$(if $(wildcard $(LOCKS)/engine-$(e).lock),,\
	$(error unknown engine '$(e)'; known: $(patsubst $(LOCKS)/engine-%.lock,%,$(wildcard $(LOCKS)/engine-*.lock)))))

.PHONY: install run test test-sqlite test-postgresql fuzz openapi bench lock clean

# The runtime lock, then the project itself (editable, so `.venv/bin/yardstick` runs this checkout).
$(VENV)/.runtime: $(LOCKS)/build.lock $(LOCKS)/runtime.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(PIP) -r $(LOCKS)/build.lock -r $(LOCKS)/runtime.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --editable .
	touch $@

$(VENV)/.engine-%: $(LOCKS)/engine-%.lock $(VENV)/.runtime
	$(PIP) -r $<
	touch $@

$(VENV)/.test: $(LOCKS)/test.lock $(VENV)/.runtime
	$(PIP) -r $<
	touch $@

install: $(VENV)/.runtime $(engine_stamps)

run: install
	$(BIN)/yardstick serve --host $(HOST) --port $(PORT)

test: test-sqlite test-postgresql

test-sqlite: $(VENV)/.test
	$(BIN)/python -m pytest -q

# The same suite with the registry on PostgreSQL, when YARDSTICK_TEST_DATABASE_URL names a server.
test-postgresql: $(VENV)/.test
	@if [ -n "$$YARDSTICK_TEST_DATABASE_URL" ]; then \
		YARDSTICK_TEST_REGISTRY=postgresql $(BIN)/python -m pytest -q -m "not no_registry"; \
	else echo "YARDSTICK_TEST_DATABASE_URL is not set: PostgreSQL half not run"; fi

# schemathesis against a live server from the committed contract, as admin and as reader (tests/fuzz/run.py).
fuzz: $(VENV)/.test
	$(BIN)/python -m tests.fuzz.run

openapi: install
	$(BIN)/python -m app.contracts write

bench: install
	$(BIN)/python -m bench.run

# Locks are compiled by uv (its own hashed lock, in .venv-tools) for Python 3.11 on this platform.
# test.lock is the one resolution of everything; runtime and engine locks are compiled with it as a
# constraint, so each is a subset of it and any combination installs consistently.
# Existing pins are kept unless pyproject.toml needs others; delete a lock to take the newest.
TOOLS := .venv-tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.9
COMPILE = $(UV) pip compile --quiet --python-version 3.11 --generate-hashes --custom-compile-command "make lock"
PYPROJECT := import tomllib; t = tomllib.load(open("pyproject.toml", "rb"))
BUILD_REQUIRES = $(PY) -c '$(PYPROJECT); print(*t["build-system"]["requires"], sep="\n")'
ENGINE_EXTRAS = $(PY) -c '$(PYPROJECT); print(*(e for e in t["project"]["optional-dependencies"] if e != "test"))'

$(TOOLS)/.installed: $(LOCKS)/tools.lock
	test -x $(TOOLS)/bin/python || $(PY) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --require-hashes --no-deps -r $<
	touch $@

lock: $(TOOLS)/.installed
	echo "uv==$(UV_VERSION)" | $(COMPILE) - -o $(LOCKS)/tools.lock
	$(BUILD_REQUIRES) | $(COMPILE) - -o $(LOCKS)/build.lock
	$(COMPILE) pyproject.toml --extra test -o $(LOCKS)/test.lock
	$(COMPILE) pyproject.toml -c $(LOCKS)/test.lock -o $(LOCKS)/runtime.lock
	for extra in $$($(ENGINE_EXTRAS)); do \
		$(COMPILE) pyproject.toml --extra $$extra -c $(LOCKS)/test.lock -o $(LOCKS)/engine-$$extra.lock || exit 1; \
	done

clean:
	rm -rf $(VENV) $(TOOLS) var .pytest_cache
