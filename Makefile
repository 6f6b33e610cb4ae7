# One-command dev loop. The README, CONTRIBUTING and .ci/run use these same targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO ?= demo-workspace

.PHONY: install demo test lint format bench clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(BIN)/.installed

demo: install  ## build the demo company and show its status and value stream
	$(BIN)/salesflow demo $(DEMO) --force
	$(BIN)/salesflow status -w $(DEMO)
	$(BIN)/salesflow flow -w $(DEMO)

test: install  ## the whole test suite (needs PostgreSQL on 127.0.0.1:5432)
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: install
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .ruff_cache
