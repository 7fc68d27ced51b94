# The two commands a new user needs: `make run` and `make test`.
# Both create .venv when it is missing and install into it the exact versions in
# requirements/*.lock (make lock refreshes them from pyproject.toml): `make run` only what
# serving needs, `make test` the dev tools too; each again only when its lock changed.
# The installer is uv (fetched from PyPI into the venv: a first `make run` in seconds), or
# pip where uv cannot be had; both leave compiled bytecode (with PYTHONDONTWRITEBYTECODE set,
# as on this project's machines, every process would compile its imports again otherwise).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
LOCKS  := requirements
SERVE  := $(VENV)/.serve-installed
DEV    := $(VENV)/.dev-installed
# The suite runs on three processes (pytest-xdist; each file's tests stay together): its
# end-to-end tests mostly wait on the servers they start, so on two cores three workers
# finish first (measured: 126 s against 155 s with two and 146 s with four). The sources are
# compiled first: with PYTHONDONTWRITEBYTECODE set (as on this project's machines) every
# sandbox the tests start would compile them again.
PYTEST_WORKERS ?= -n 3 --dist loadfile

# $(call install,ARGS): uv pip install ARGS into the venv, or pip install ARGS.
define install
	@if $(BIN)/python -m uv --version >/dev/null 2>&1 \
	    || $(BIN)/python -m pip install --quiet --disable-pip-version-check uv >/dev/null 2>&1; then \
	  $(BIN)/python -m uv pip install --quiet --compile-bytecode --python $(BIN)/python $(1); \
	else \
	  echo "uv is not available: installing with pip"; \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check $(1); \
	fi
endef

.PHONY: run test proof lint format spec bench lock clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)

$(SERVE): $(BIN)/python pyproject.toml $(LOCKS)/serve.lock
	$(call install,-r $(LOCKS)/serve.lock)
	$(call install,--no-deps -e .)
	@touch $(SERVE)

$(DEV): $(SERVE) $(LOCKS)/dev.lock
	$(call install,-r $(LOCKS)/dev.lock)
	@touch $(DEV)

run: $(SERVE)
	$(BIN)/genstore-sandbox serve $(ARGS)

test: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m tests.browser.chromium
	$(BIN)/python -m sandbox.testing.postgres
	@$(BIN)/python -m compileall -q sandbox tests >/dev/null
	$(BIN)/python -m pytest $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The tests marked `proof` at full size (longer fuzzing, bigger bursts, soak and crash runs),
# then the whole API, end-to-end and browser suites again with every sandbox on PostgreSQL.
proof: $(DEV)
	$(BIN)/python -m sandbox.testing.postgres
	@$(BIN)/python -m compileall -q sandbox tests >/dev/null
	GENSTORE_SANDBOX_PROOF=1 $(BIN)/python -m pytest $(PYTEST_WORKERS) -m proof $(PYTEST_ARGS)
	GENSTORE_SANDBOX_TEST_STORE=postgresql $(BIN)/python -m pytest $(PYTEST_WORKERS) \
		tests/api tests/unit tests/e2e tests/browser $(PYTEST_ARGS)

lint: $(DEV)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

spec: $(DEV)
	$(BIN)/genstore-sandbox spec --out openapi

bench: $(DEV)
	$(BIN)/python -m tests.perf.bench $(ARGS)

# The exact versions, resolved again from pyproject.toml's ranges for every platform and
# Python 3.11+; commit both files.
lock: $(BIN)/python
	@$(BIN)/python -m uv --version >/dev/null 2>&1 || $(BIN)/python -m pip install --quiet uv
	$(BIN)/python -m uv pip compile pyproject.toml --universal --python-version 3.11 --upgrade \
		--quiet -o $(LOCKS)/serve.lock
	$(BIN)/python -m uv pip compile pyproject.toml --universal --python-version 3.11 --upgrade \
		--quiet --extra dev -o $(LOCKS)/dev.lock

clean:
	rm -rf $(VENV) .sandbox-data .pytest_cache .ruff_cache
