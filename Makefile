# The front door. `make demo` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install demo serve test unit lint typecheck format clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

install: $(STAMP)

demo: install  ## the service with simulated players on http://127.0.0.1:$(PORT)
	$(BIN)/podium demo --port $(PORT)

serve: install
	$(BIN)/podium serve --port $(PORT)

lint: install
	$(BIN)/ruff check podium tests
	$(BIN)/ruff format --check podium tests

typecheck: install
	$(BIN)/mypy

format: install
	$(BIN)/ruff format podium tests
	$(BIN)/ruff check --fix podium tests

unit: install
	$(BIN)/pytest -q tests/unit tests/contract $(PYTEST_ARGS)

test: lint typecheck
	$(BIN)/pytest -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .podium .pytest_cache .mypy_cache .ruff_cache .hypothesis
