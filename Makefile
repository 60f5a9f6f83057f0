# hijack-clusters: every target sets up .venv itself (Python 3.11-3.13, nothing else needed).
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
# VENV=/path/to/venv runs the targets in an existing environment (the fresh-clone test points
# a clone at the tests' own one); it is set up only when it was not from this pyproject.toml.
VENV ?= .venv
BIN := $(VENV)/bin
# The stamp's name holds pyproject.toml's checksum: a changed file means a new stamp (a file
# that is merely newer, as in a fresh clone, does not).
PYPROJECT_SUM := $(shell cat pyproject.toml | cksum | cut -d' ' -f1)
STAMP := $(VENV)/.installed-$(PYPROJECT_SUM)
EXTRAS ?= test

# The paper: PROFILE=full (the paper's numbers, about an hour on 2 cores) or quick (minutes).
PROFILE ?= full
JOBS ?= 2
LATEX_PACKAGES := latexmk texlive-latex-base texlive-latex-recommended texlive-fonts-recommended poppler-utils

.PHONY: help setup run test test-fast bench bench-large lint clean reproduce paper check-paper notebook

help:
	@echo "make run    set up .venv and run the default experiment (We Heart It scenario)"
	@echo "make notebook  install JupyterLab (the notebook extra) and open notebooks/weheartit.ipynb"
	@echo "make test   set up .venv and run the test suite"
	@echo "make bench  run the benchmarks (writes benchmarks/results/)"
	@echo "make bench-large  10^8 posts on the Dask backend (~15 min, not in bench or CI; writes benchmarks/results/large.json)"
	@echo "make lint   ruff format --check, ruff check, mypy (the pinned dev extra)"
	@echo "make reproduce [PROFILE=quick] [FORCE=1]  every figure and table (cached runs reused unless FORCE=1)"
	@echo "make paper [PROFILE=quick]                missing figures/tables, then paper/main.pdf (needs: $(LATEX_PACKAGES))"
	@echo "make check-paper [PROFILE=quick]          check the generated outputs and the PDF"

$(STAMP):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/python -m experiments.run

notebook: setup
	$(BIN)/python -m pip install --quiet -e ".[notebook]"
	$(BIN)/jupyter lab notebooks/weheartit.ipynb

test: setup
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

# The parsers the ingest benchmark measures against orjson: the bench extra (EXTRA_STAMP below).
BENCH_STAMP := $(VENV)/.extra-bench-$(PYPROJECT_SUM)

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run_all --readme

# 10^8 posts (ten simulated shards, generated once under benchmarks/data/) on a LocalCluster of
# worker processes that spill to disk, and the equality check at 10^7 (benchmarks/bench_large.py).
# Not part of `make bench` or CI.
bench-large: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.bench_large

reproduce: setup
	$(BIN)/python -m experiments.paper --profile $(PROFILE) --all $(if $(FORCE),--force) sweep.n_jobs=$(JOBS)

paper: setup
	@command -v latexmk >/dev/null || { echo "latexmk not found; on Debian/Ubuntu: apt-get install --no-install-recommends $(LATEX_PACKAGES)"; exit 1; }
	$(BIN)/python -m experiments.paper --profile $(PROFILE) sweep.n_jobs=$(JOBS)
	cd paper && latexmk -pdf -interaction=nonstopmode -halt-on-error -file-line-error main.tex >/dev/null || { tail -40 main.log; exit 1; }
	@echo "built paper/main.pdf"

check-paper: setup
	$(BIN)/python -m experiments.check --profile $(PROFILE) --pdf paper/main.pdf

# The linters come from the dev extra, pinned in pyproject.toml (a new ruff or mypy release
# must not change what CI accepts).
DEV_STAMP := $(VENV)/.extra-dev-$(PYPROJECT_SUM)

# An extra of pyproject.toml (dev, bench) on top of setup's, installed once per pyproject.toml.
$(VENV)/.extra-%-$(PYPROJECT_SUM): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS),$*]"
	rm -f $(VENV)/.extra-$*-*
	touch $@

lint: $(DEV_STAMP)
	$(BIN)/ruff format --check research experiments tests benchmarks
	$(BIN)/ruff check research experiments tests benchmarks
	$(BIN)/mypy research

clean:
	rm -rf $(VENV) outputs .pytest_cache .hypothesis
	cd paper && latexmk -C main.tex >/dev/null 2>&1 || true
