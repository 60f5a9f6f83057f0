# hijack-clusters: every target sets up .venv itself (Python 3.11-3.13, nothing else needed).
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
EXTRAS ?= test

.PHONY: help setup run test test-fast bench lint clean

help:
	@echo "make run    set up .venv and run the default experiment (We Heart It scenario)"
	@echo "make test   set up .venv and run the test suite"
	@echo "make bench  run the benchmarks (writes benchmarks/results/)"
	@echo "make lint   ruff + mypy"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/python -m experiments.run

test: setup
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

bench: setup
	$(BIN)/python -m benchmarks.run_all

lint: setup
	$(BIN)/python -m pip install --quiet ruff mypy
	$(BIN)/ruff check research experiments tests benchmarks
	$(BIN)/mypy research

clean:
	rm -rf $(VENV) outputs .pytest_cache .hypothesis
