# Two commands on a fresh machine:  `make book` builds the book, `make test` runs the tests.
# Both create .venv first (torch pinned to its CPU build, then the package, editable).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0

.PHONY: setup book test test-seeds smoke browser-test gpu-check lint lab bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[test,book]"
	touch $@

# the book, every chapter executed at SCALE="default" (override: make book BOOK_SCALE=ci).
# One build folder per scale and seed, each with its own execution cache (myst-nb keys a
# notebook by its code cells, not by BOOK_SCALE): a rebuild re-executes only the chapters
# whose code cells changed. A change to the package (utils, replication) starts it afresh;
# one to the book's configuration, styles or extensions rewrites every page (no re-execution).
BOOK_SCALE ?= default
BOOK_SEED ?= 0
BOOK_BUILD = book/_build/$(BOOK_SCALE)-seed$(BOOK_SEED)
BOOK_HTML = $(BOOK_BUILD)/_build/html
stamp = $(shell cat $$(find $(1) -type f -not -path '*/__pycache__/*' | sort) | sha256sum | cut -c1-16)
CODE_STAMP = $(call stamp,utils replication pyproject.toml)
PAGE_STAMP = $(call stamp,book/_config.yml book/_toc.yml book/_static book/_ext)

book: setup
	@if [ "$$(cat $(BOOK_BUILD)/code-stamp 2>/dev/null)" != "$(CODE_STAMP)" ]; then \
	  rm -rf $(BOOK_BUILD); fi
	BOOK_SCALE=$(BOOK_SCALE) BOOK_SEED=$(BOOK_SEED) HF_HUB_OFFLINE=1 \
	  $(BIN)/jupyter-book build book --path-output $(BOOK_BUILD) \
	  $$([ "$$(cat $(BOOK_BUILD)/page-stamp 2>/dev/null)" = "$(PAGE_STAMP)" ] || echo --all)
	echo $(CODE_STAMP) > $(BOOK_BUILD)/code-stamp
	echo $(PAGE_STAMP) > $(BOOK_BUILD)/page-stamp
	@echo "open $(BOOK_HTML)/index.html"

# the built book in a real browser (the system's Chromium, driven by Playwright): every page,
# its math, figures and in-page controls, then a live widget in JupyterLab on chapter 0 at ci.
# Build it first: make book BOOK_SCALE=ci && make browser-test BOOK_SCALE=ci
CHROMIUM ?= $(shell command -v chromium || command -v chromium-browser)
browser-test: setup
	$(BIN)/python -m pip install --quiet -e ".[browser]"
	@[ -n "$(CHROMIUM)" ] || { echo "no Chromium: apt-get install chromium"; exit 1; }
	BOOK_HTML=$(BOOK_HTML) CHROMIUM=$(CHROMIUM) BOOK_SCREENSHOTS=$(BOOK_BUILD)/screenshots \
	  $(BIN)/python -m pytest tests/browser -p no:cacheprovider -v

# the chapters and test files run in JOBS processes at once (pytest-xdist; a notebook's cells
# stay in order in one process): one per core by default
JOBS ?= $(shell nproc 2>/dev/null || echo 1)
NBVAL := --nbval-lax --nbval-cell-timeout=900 -p no:cacheprovider -n $(JOBS) --dist loadscope
# with more than one job the chapters share the cores: one thread each ($BOOK_THREADS)
TEST_THREADS = $(if $(filter 1,$(JOBS)),,BOOK_THREADS=1)

# lint, unit tests, and every chapter executed at SCALE="ci" with BOOK_SEED=0
# (what can fail in a chapter: its engineering invariants and its asserted claims)
test: setup
	$(BIN)/ruff check .
	BOOK_SCALE=ci BOOK_SEED=0 HF_HUB_OFFLINE=1 $(TEST_THREADS) $(BIN)/python -m pytest $(NBVAL)

# every chapter again at SCALE="ci" with BOOK_SEED=1 and 2: an asserted claim holds on all three
test-seeds: setup
	for seed in 1 2; do \
	  BOOK_SCALE=ci BOOK_SEED=$$seed HF_HUB_OFFLINE=1 $(TEST_THREADS) $(BIN)/python -m pytest book $(NBVAL) || exit 1; \
	done

# every chapter's full-scale code path (SCALE="full", every size tiny) on tiny real-format
# models and data files built offline (tests/smoke/): a crash at full scale shows here, on a CPU
BOOK_DEVICE ?= cpu
smoke: setup
	BOOK_DEVICE=$(BOOK_DEVICE) HF_HUB_OFFLINE=1 $(BIN)/python -m pytest tests/test_smoke.py \
	  -m smoke -p no:cacheprovider -v --durations=0

# on a machine with CUDA: every kernel on the device against its CPU result, with its speed
gpu-check: setup
	@if $(BIN)/python -c "import sys, torch; sys.exit(not torch.cuda.is_available())"; then \
	  HF_HUB_OFFLINE=1 $(BIN)/python -m pytest tests -m gpu -p no:cacheprovider -s -q && \
	  $(MAKE) smoke BOOK_DEVICE=cuda; \
	else echo "no CUDA device here: nothing to check"; fi

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check utils replication tests

lab: setup
	$(BIN)/jupyter lab book

bench: setup
	for script in tests/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf book/_build replication/runs
