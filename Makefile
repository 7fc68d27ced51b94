# The two commands a new user needs: `make run` and `make test`.
# Both create .venv and install the project into it when it is missing or
# pyproject.toml changed, and only then.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The suite runs on two processes (pytest-xdist; each file's tests stay together). The
# sources are compiled first: with PYTHONDONTWRITEBYTECODE set (as on this project's
# machines) every sandbox the tests start would compile them again.
PYTEST_WORKERS ?= -n 2 --dist loadfile

.PHONY: run test proof lint format spec bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/genstore-sandbox serve $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m tests.browser.chromium
	$(BIN)/python -m sandbox.testing.postgres
	@$(BIN)/python -m compileall -q sandbox tests >/dev/null
	$(BIN)/python -m pytest $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The tests marked `proof` at full size (longer fuzzing, bigger bursts, soak and crash runs),
# then the whole API, end-to-end and browser suites again with every sandbox on PostgreSQL.
proof: $(STAMP)
	$(BIN)/python -m sandbox.testing.postgres
	@$(BIN)/python -m compileall -q sandbox tests >/dev/null
	GENSTORE_SANDBOX_PROOF=1 $(BIN)/python -m pytest $(PYTEST_WORKERS) -m proof $(PYTEST_ARGS)
	GENSTORE_SANDBOX_TEST_STORE=postgresql $(BIN)/python -m pytest $(PYTEST_WORKERS) \
		tests/api tests/unit tests/e2e tests/browser $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

spec: $(STAMP)
	$(BIN)/genstore-sandbox spec --out openapi

bench: $(STAMP)
	$(BIN)/python -m tests.perf.bench $(ARGS)

clean:
	rm -rf $(VENV) .sandbox-data .pytest_cache .ruff_cache
