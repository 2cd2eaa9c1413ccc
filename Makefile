# The front door. `make demo` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install system-deps demo serve test unit faults lint typecheck format clean stack-up stack-down stack-status bench simulate-global

# Debian packages the distributed profile and its tests need: Redis (the rank
# index) and kcat (an outside Kafka client the tests read topics with). The
# Java engines come from Maven Central through infra/fetch_jars.sh. The browser
# test of the web page drives Debian's Chromium through its chromedriver.
SYSTEM_BINS := redis-server kcat java mvn chromium chromedriver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,distributed,bench]'
	touch $@

install: $(STAMP)

system-deps:
	@missing=""; for b in $(SYSTEM_BINS); do command -v $$b >/dev/null || missing="$$missing $$b"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages for:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    redis-server kcat openjdk-17-jre-headless maven chromium chromium-driver >/dev/null; \
	fi

stack-up: install system-deps  ## Kafka, Cassandra, Debezium and Redis on 127.0.0.1
	$(BIN)/podium stack up

stack-down: install
	$(BIN)/podium stack down

stack-status: install
	$(BIN)/podium stack status

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

# The fault suite (also part of `make test`): break one thing at a time under load, in
# both profiles, and check nothing was lost or counted twice; writes docs/reliability.md.
# Bounded: 15 minutes.
faults: install system-deps
	timeout 900 $(BIN)/pytest -q tests/faults $(PYTEST_ARGS)

# The bench (docs/benchmarks.md): every stage against the raw engine under it, in one run;
# the quick form, a few minutes. PROFILE=distributed measures the running stack (make stack-up);
# BENCH_ARGS adds flags (--users 1000000, --seconds 10, ...; `podium bench --help`).
PROFILE ?= embedded
BENCH_OUT ?= bench-results
BENCH_ARGS ?=
bench: install system-deps
	$(BIN)/podium bench --quick --profile $(PROFILE) --out $(BENCH_OUT)/$(PROFILE) $(BENCH_ARGS)

# The global simulation (docs/global.md): three regions, one cut off for a while; the figures
# go into docs/global.md. `make test` runs its short form (tests/e2e/test_simulate_global.py).
simulate-global: install
	$(BIN)/podium simulate global --doc docs/global.md

# The distributed tests start the stack themselves if it is not running, and stop it after.
test: lint typecheck system-deps
	$(BIN)/pytest -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .podium .pytest_cache .mypy_cache .ruff_cache .hypothesis
