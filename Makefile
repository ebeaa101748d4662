# gan-lessons: `make book` builds the course site, `make test` checks everything.
# Both set themselves up on a fresh machine (a virtual environment in .venv, pinned versions).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed

# Notebooks run on the venv's own kernel, whatever kernels the user has installed elsewhere.
export JUPYTER_PREFER_ENV_PATH := 1
# The build machines have no GPU: keep TensorFlow's C++ start-up messages (CUDA probing) off the site.
export TF_CPP_MIN_LOG_LEVEL ?= 3

.PHONY: help install export format lint book book-build smoke-book test pytest check-export site-check test-paths compat compat-venv models lock clean

LESSONS := $(sort $(wildcard nbs/[0-9][0-9]_*.ipynb))

help:
	@echo "make book   execute every lesson (profile: GAN_LESSONS_PROFILE, default by hardware) and build _build/html"
	@echo "make test   lint + export check + pytest + every lesson in the smoke profile on the stand-ins (no data set, as a"
	@echo "            newcomer's clone) as a site build + that site in headless Chromium; the seconds of each stage at the end"
	@echo "make test-paths   the gpu profile as a dry run (every training capped at 2 steps), on the data folder when set"
	@echo "make compat       the package on an older TensorFlow/Keras, installed without constraints.txt (as on Colab)"
	@echo "make models       measure every shipped model again and compare with its record (needs the real MNIST files)"

$(STAMP): setup.py settings.ini constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(STAMP)

export: install
	$(BIN)/nbdev_export

# One formatter and linter (ruff, settings in pyproject.toml) over notebooks, tests, tools and benchmarks.
format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/nbdev_export

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

# Executes every notebook (a failing cell fails the build) and treats Sphinx warnings as errors.
# --all: rebuild every page, so no page keeps outputs from a build in another profile.
# BOOK_JOBS: Sphinx processes reading (so executing) the pages (tools/build_book.py). One for the site:
# a lesson that measures against the clock (09) must not share the machine with another notebook.
BOOK_JOBS ?= 1
book-build: install
	@start=$$(date +%s); \
	echo "[book] profile: $${GAN_LESSONS_PROFILE:-(by hardware)}  data: $${GAN_LESSONS_DATA:-(not set)}  processes: $(BOOK_JOBS)"; \
	rm -rf _build/html _build/jupyter_execute; \
	{ BOOK_JOBS=$(BOOK_JOBS) $(BIN)/python tools/build_book.py build . --all --warningiserror --keep-going; \
	  echo $$? > _build.status; } 2>&1 | tee _build.log \
	  | grep --line-buffered -E "Executed|Executing notebook failed|WARNING:|ERROR|Error|build succeeded|finished" \
	  | grep --line-buffered -v -E "IPKernelApp|absl::InitializeLog" || true; \
	test "$$(cat _build.status)" = 0 || { echo "[book] FAILED (full log: _build.log)"; exit 1; }; \
	test -f _build/html/index.html || { echo "[book] no _build/html/index.html"; exit 1; }; \
	echo "[book] site in _build/html, $$(find _build/html -name '*.html' -path '*nbs*' | wc -l) pages, $$(( $$(date +%s) - start )) s"

book: export
	$(MAKE) --no-print-directory book-build

check-export: install
	$(BIN)/python tools/check_export.py
	$(BIN)/python tools/colab.py

# Two test processes (pytest-xdist): TensorFlow leaves a core idle in much of a test's time (tracing, Python).
PYTEST_WORKERS ?= 2
pytest: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --durations=15 tests

# Every stage is timed (tools/stages.py) and the seconds of each are printed at the end, also when one fails.
STAGE_LOG ?= _build/stages-test.jsonl
STAGE = $(BIN)/python tools/stages.py run $(STAGE_LOG)

test: install
	@mkdir -p _build; rm -f $(STAGE_LOG); status=0; \
	$(STAGE) lint -- $(MAKE) --no-print-directory lint \
	&& $(STAGE) "export check" -- $(MAKE) --no-print-directory check-export \
	&& $(STAGE) pytest -- $(MAKE) --no-print-directory pytest \
	&& $(STAGE) "smoke book, no data" -- $(MAKE) --no-print-directory smoke-book \
	&& $(STAGE) "browser check" -- $(MAKE) --no-print-directory site-check \
	|| status=$$?; \
	$(BIN)/python tools/stages.py report $(STAGE_LOG) --site _build/html --title "make test"; \
	exit $$status

# The site build of `make test` takes a newcomer's path: no data folder, an empty Keras cache, no network — every
# lesson on its announced stand-ins (the real files are exercised by pytest and by the gpu dry run of test-paths).
# Two processes: the smoke profile checks that every page runs, it judges no result by the clock.
SMOKE_BOOK_JOBS ?= 2
smoke-book: install
	@empty_home=$$(mktemp -d); status=0; \
	env -u GAN_LESSONS_DATA KERAS_HOME=$$empty_home GAN_LESSONS_OFFLINE=1 GAN_LESSONS_PROFILE=smoke \
	  $(MAKE) --no-print-directory book-build BOOK_JOBS=$(SMOKE_BOOK_JOBS) || status=$$?; \
	rm -rf $$empty_home; test $$status = 0; \
	$(BIN)/python tools/check_exercises.py _build/jupyter_execute; \
	$(BIN)/python tools/run_notebooks.py --report _build/jupyter_execute --label "smoke book, no data"

# The built site in headless Chromium (tools/check_site.py). Without a Chromium it says so and passes, unless
# GAN_LESSONS_REQUIRE_BROWSER=1 (set by .ci/run, which installs Debian's chromium and chromium-driver).
site-check: install
	@status=0; $(BIN)/python tools/check_site.py _build/html || status=$$?; \
	if [ $$status = 3 ] && [ "$${GAN_LESSONS_REQUIRE_BROWSER:-0}" != 1 ]; then \
	  echo "[site] NOT CHECKED in a browser: install Debian's chromium and chromium-driver to run it"; \
	else exit $$status; fi

# The gpu profile's networks, batch sizes and code paths, every training run capped at 2 steps per epoch and 2 epochs
# (GAN_LESSONS_MAX_STEPS), so a wrong size in a gpu budget fails here, not on a learner's GPU. It runs on the data
# folder when GAN_LESSONS_DATA is set (CI: the real files' code paths in every lesson), offline.
STAGE_LOG_PATHS ?= _build/stages-test-paths.jsonl
# Notebooks run at once by tools/run_notebooks.py, a kernel each.
NOTEBOOK_JOBS ?= 2
test-paths: install
	@$(BIN)/python tools/stages.py run $(STAGE_LOG_PATHS) "gpu dry run" -- env GAN_LESSONS_OFFLINE=1 \
	  GAN_LESSONS_PROFILE=gpu GAN_LESSONS_MAX_STEPS=2 $(BIN)/python tools/run_notebooks.py --label gpu-dry-run \
	  --jobs $(NOTEBOOK_JOBS) \
	  $(sort $(wildcard nbs/*.ipynb))

# Colab's path: an older TensorFlow (and the Keras it came with) is already installed; the package goes on top without
# constraints.txt, must leave TensorFlow as it is (Keras only moves if older than the package's keras>=3.8), and then
# passes the fast tests and lessons 00–05 in the smoke profile. Each of the three stages is timed.
COMPAT_TF ?= 2.19.1
COMPAT_KERAS ?= 3.8.0
COMPAT_VENV ?= .venv-compat
STAGE_LOG_COMPAT ?= _build/stages-compat.jsonl
COMPAT_STAGE = $(PYTHON) tools/stages.py run $(STAGE_LOG_COMPAT)
compat:
	@mkdir -p _build; rm -f $(STAGE_LOG_COMPAT); status=0; \
	$(COMPAT_STAGE) "compat: install on tensorflow $(COMPAT_TF)" -- $(MAKE) --no-print-directory compat-venv \
	&& $(COMPAT_STAGE) "compat: pytest, not slow" -- $(COMPAT_VENV)/bin/python -m pytest -q -n $(PYTEST_WORKERS) -m "not slow" tests \
	&& $(COMPAT_STAGE) "compat: lessons 00-05, smoke" -- env GAN_LESSONS_PROFILE=smoke \
	  $(COMPAT_VENV)/bin/python tools/run_notebooks.py --label "compat" --jobs $(NOTEBOOK_JOBS) \
	  $(filter nbs/00_% nbs/01_% nbs/02_% nbs/03_% nbs/04_% nbs/05_%,$(LESSONS)) \
	|| status=$$?; \
	$(PYTHON) tools/stages.py report $(STAGE_LOG_COMPAT) --title "make compat"; exit $$status

compat-venv:
	@rm -rf $(COMPAT_VENV); $(PYTHON) -m venv $(COMPAT_VENV); \
	$(COMPAT_VENV)/bin/python -m pip install --quiet --upgrade "pip>=24"; \
	$(COMPAT_VENV)/bin/python -m pip install --quiet "tensorflow==$(COMPAT_TF)" "keras==$(COMPAT_KERAS)"; \
	versions='import importlib.metadata as m; print("tensorflow", m.version("tensorflow"), "keras", m.version("keras"))'; \
	before=$$($(COMPAT_VENV)/bin/python -c "$$versions"); \
	$(COMPAT_VENV)/bin/python -m pip install --quiet -e ".[dev]"; \
	after=$$($(COMPAT_VENV)/bin/python -c "$$versions"); \
	echo "[compat] before installing the package: $$before; after: $$after"; \
	test "$${before%% keras*}" = "$${after%% keras*}" || { echo "[compat] FAILED: installing the package replaced TensorFlow"; exit 1; }

# The release measurement of every shipped model (benchmarks/shipped_models.py): the sha-256 of each file against
# its record, each number measured again beside the recorded one, and the targets. Not part of `make test`: it samples
# thousands of images per model; run it on a schedule (.github/workflows/models.yml) and before republishing.
models: install
	$(BIN)/python benchmarks/shipped_models.py --json _build/shipped_models.json

# Re-pin constraints.txt to what is installed in the venv.
lock: install
	{ head -2 constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^gan-lessons'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf _build _build.log _build.status .venv-compat
