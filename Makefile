# Two commands do all the set-up on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo simulator bench lint clean reliability

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest -n auto

demo: $(STAMP)
	$(BIN)/engagement-bot demo

simulator: $(STAMP)
	$(BIN)/engagement-bot simulator --mode demo

bench: $(STAMP)
	$(BIN)/python bench/simulator_totals.py

reliability: $(STAMP)
	$(BIN)/python -m reliability

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
