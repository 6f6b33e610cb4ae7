# One-command dev loop. The README, CONTRIBUTING and .ci/run use these same targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO ?= demo-workspace
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install browser spark demo test lint format docs bench clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

RUN_HINT = salesflow is installed in $(VENV): run it as $(BIN)/salesflow, or first 'source $(BIN)/activate'

install: $(BIN)/.installed  ## the virtualenv, and how to run salesflow from it
	@echo "  $(RUN_HINT)"

DEMO_USER ?= admin
DEMO_PASSWORD ?= salesflow-demo
PORT ?= 8000

demo: install  ## build the demo company, show its status and value stream, then serve it
	$(BIN)/salesflow demo $(DEMO) --force
	$(BIN)/salesflow status -w $(DEMO)
	$(BIN)/salesflow flow -w $(DEMO)
	@printf '%s\n' '$(DEMO_PASSWORD)' > $(DEMO)/.demo-password
	$(BIN)/salesflow user add $(DEMO_USER) --role admin --password-file $(DEMO)/.demo-password -w $(DEMO)
	@rm -f $(DEMO)/.demo-password
	@echo ""
	@echo "  salesflow is serving the demo company at http://127.0.0.1:$(PORT)/"
	@echo "  Sign in as '$(DEMO_USER)' with password '$(DEMO_PASSWORD)'. Stop with Ctrl-C."
	@echo "  In another terminal, the command line: $(BIN)/salesflow -w $(DEMO) status"
	@echo "  ($(RUN_HINT))"
	@echo ""
	$(BIN)/salesflow serve -w $(DEMO) --host 127.0.0.1 --port $(PORT)

browser:  ## Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium)
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests…"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }

spark: install  ## Spark as a data source: Debian's Java runtime and the [spark] extra (pyspark, its Connect client)
	@command -v java >/dev/null 2>&1 || { \
	  echo "Installing Debian's Java runtime for Spark…"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    $(SUDO) apt-get install -y -qq --no-install-recommends default-jre-headless; }
	@$(BIN)/python -c "import pyspark, grpc, grpc_status, google.rpc" 2>/dev/null || { \
	  echo "Installing pyspark and its Spark Connect client (the [spark] extra)…"; \
	  $(BIN)/python -m pip install --quiet -c constraints.txt -e '.[spark]'; }

test: install browser  ## the whole test suite (needs PostgreSQL on 127.0.0.1:5432)
	$(BIN)/pytest -q -n auto --dist loadfile --durations=25  # every core; the slowest tests listed

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/python -m salesflow.cli.reference --check

docs: install  ## regenerate docs/cli.md (and docs/metrics.md) from the code
	$(BIN)/python -m salesflow.cli.reference

format: install
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: install
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .ruff_cache
