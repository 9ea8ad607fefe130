# Two commands on a fresh machine:  `make book` builds the book, `make test` runs the tests.
# Both create .venv first (torch pinned to its CPU build, then the package, editable).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0

.PHONY: setup book test test-seeds lint lab bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[test,book]"
	touch $@

# the book, every chapter executed at SCALE="default" (override: make book BOOK_SCALE=ci)
book: setup
	BOOK_SCALE=$${BOOK_SCALE:-default} $(BIN)/jupyter-book build book
	@echo "open book/_build/html/index.html"

NBVAL := --nbval-lax --nbval-cell-timeout=900 -p no:cacheprovider

# lint, unit tests, and every chapter executed at SCALE="ci" with BOOK_SEED=0
# (what can fail in a chapter: its engineering invariants and its asserted claims)
test: setup
	$(BIN)/ruff check .
	BOOK_SCALE=ci BOOK_SEED=0 HF_HUB_OFFLINE=1 $(BIN)/python -m pytest $(NBVAL)

# every chapter again at SCALE="ci" with BOOK_SEED=1 and 2: an asserted claim holds on all three
test-seeds: setup
	for seed in 1 2; do \
	  BOOK_SCALE=ci BOOK_SEED=$$seed HF_HUB_OFFLINE=1 $(BIN)/python -m pytest book $(NBVAL) || exit 1; \
	done

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check utils replication tests

lab: setup
	$(BIN)/jupyter lab book

bench: setup
	for script in tests/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf book/_build replication/runs
