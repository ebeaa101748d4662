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

.PHONY: help install export format lint book book-build test pytest check-export site-check test-paths compat lock clean

LESSONS := $(sort $(wildcard nbs/[0-9][0-9]_*.ipynb))

help:
	@echo "make book   execute every lesson (profile: GAN_LESSONS_PROFILE, default by hardware) and build _build/html"
	@echo "make test   pytest + export check + every lesson executed in the smoke profile as a site build + that site in headless Chromium"
	@echo "make test-paths   every notebook with no data and no network (the stand-ins), and the gpu profile as a dry run"
	@echo "make compat       the package on an older TensorFlow/Keras, installed without constraints.txt (as on Colab)"

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
book-build: install
	@start=$$(date +%s); \
	echo "[book] profile: $${GAN_LESSONS_PROFILE:-(by hardware)}  data: $${GAN_LESSONS_DATA:-(not set)}"; \
	rm -rf _build/html _build/jupyter_execute; \
	{ $(BIN)/jupyter-book build . --all --warningiserror --keep-going; echo $$? > _build.status; } 2>&1 | tee _build.log \
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

pytest: install
	$(BIN)/python -m pytest tests

test: install
	@t0=$$(date +%s); \
	$(MAKE) --no-print-directory lint; \
	$(MAKE) --no-print-directory check-export; t1=$$(date +%s); \
	$(MAKE) --no-print-directory pytest; t2=$$(date +%s); \
	GAN_LESSONS_PROFILE=smoke GAN_LESSONS_OFFLINE=1 $(MAKE) --no-print-directory book-build; t3=$$(date +%s); \
	$(BIN)/python tools/check_exercises.py _build/jupyter_execute; \
	$(BIN)/python tools/run_notebooks.py --report _build/jupyter_execute --label "smoke book"; \
	$(MAKE) --no-print-directory site-check; t4=$$(date +%s); \
	echo "[test] lint and export check $$((t1 - t0)) s, pytest $$((t2 - t1)) s, smoke book build $$((t3 - t2)) s, browser check $$((t4 - t3)) s"

# The built site in headless Chromium (tools/check_site.py). Without a Chromium it says so and passes, unless
# GAN_LESSONS_REQUIRE_BROWSER=1 (set by .ci/run, which installs Debian's chromium and chromium-driver).
site-check: install
	@status=0; $(BIN)/python tools/check_site.py _build/html || status=$$?; \
	if [ $$status = 3 ] && [ "$${GAN_LESSONS_REQUIRE_BROWSER:-0}" != 1 ]; then \
	  echo "[site] NOT CHECKED in a browser: install Debian's chromium and chromium-driver to run it"; \
	else exit $$status; fi

# The paths learners take besides this machine's prepared data folder: (1) nothing set, no data, no network — every
# notebook on the announced stand-ins; (2) the gpu profile's networks, batch sizes and code paths, every training run
# capped at 2 steps per epoch and 2 epochs (GAN_LESSONS_MAX_STEPS), so a wrong size in a gpu budget fails here.
test-paths: install
	@t0=$$(date +%s); \
	empty_home=$$(mktemp -d); \
	env -u GAN_LESSONS_DATA GAN_LESSONS_OFFLINE=1 GAN_LESSONS_PROFILE=smoke KERAS_HOME=$$empty_home \
	  $(BIN)/python tools/run_notebooks.py --label no-data nbs/*.ipynb; t1=$$(date +%s); \
	GAN_LESSONS_OFFLINE=1 GAN_LESSONS_PROFILE=gpu GAN_LESSONS_MAX_STEPS=2 \
	  $(BIN)/python tools/run_notebooks.py --label gpu-dry-run nbs/*.ipynb; t2=$$(date +%s); \
	rm -rf $$empty_home; \
	echo "[test-paths] no data $$((t1 - t0)) s, gpu dry run $$((t2 - t1)) s"

# Colab's path: an older TensorFlow (and the Keras it came with) is already installed; the package goes on top without
# constraints.txt, must leave TensorFlow as it is (Keras only moves if older than the package's keras>=3.8), and then
# passes the fast tests and lessons 00–05 in the smoke profile.
COMPAT_TF ?= 2.19.1
COMPAT_KERAS ?= 3.8.0
COMPAT_VENV ?= .venv-compat
compat:
	@t0=$$(date +%s); rm -rf $(COMPAT_VENV); $(PYTHON) -m venv $(COMPAT_VENV); \
	$(COMPAT_VENV)/bin/python -m pip install --quiet --upgrade "pip>=24"; \
	$(COMPAT_VENV)/bin/python -m pip install --quiet "tensorflow==$(COMPAT_TF)" "keras==$(COMPAT_KERAS)"; \
	versions='import importlib.metadata as m; print("tensorflow", m.version("tensorflow"), "keras", m.version("keras"))'; \
	before=$$($(COMPAT_VENV)/bin/python -c "$$versions"); \
	$(COMPAT_VENV)/bin/python -m pip install --quiet -e ".[dev]"; \
	after=$$($(COMPAT_VENV)/bin/python -c "$$versions"); \
	echo "[compat] before installing the package: $$before; after: $$after"; \
	test "$${before%% keras*}" = "$${after%% keras*}" || { echo "[compat] FAILED: installing the package replaced TensorFlow"; exit 1; }; \
	$(COMPAT_VENV)/bin/python -m pytest -q -m "not slow" tests; \
	GAN_LESSONS_PROFILE=smoke $(COMPAT_VENV)/bin/python tools/run_notebooks.py --label "compat $$after" \
	  $(filter nbs/00_% nbs/01_% nbs/02_% nbs/03_% nbs/04_% nbs/05_%,$(LESSONS)); \
	echo "[compat] $$after: passed in $$(( $$(date +%s) - t0 )) s"

# Re-pin constraints.txt to what is installed in the venv.
lock: install
	{ head -2 constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^gan-lessons'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf _build _build.log _build.status .venv-compat
