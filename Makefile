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

.PHONY: help install export book book-build test pytest check-export site-check lock clean

help:
	@echo "make book   execute every lesson (profile: GAN_LESSONS_PROFILE, default by hardware) and build _build/html"
	@echo "make test   pytest + export check + every lesson executed in the smoke profile as a site build + that site in headless Chromium"

$(STAMP): setup.py settings.ini constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(STAMP)

export: install
	$(BIN)/nbdev_export

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

pytest: install
	$(BIN)/python -m pytest tests

test: install
	@t0=$$(date +%s); \
	$(MAKE) --no-print-directory check-export; t1=$$(date +%s); \
	$(MAKE) --no-print-directory pytest; t2=$$(date +%s); \
	GAN_LESSONS_PROFILE=smoke GAN_LESSONS_OFFLINE=1 $(MAKE) --no-print-directory book-build; t3=$$(date +%s); \
	$(MAKE) --no-print-directory site-check; t4=$$(date +%s); \
	echo "[test] export check $$((t1 - t0)) s, pytest $$((t2 - t1)) s, smoke book build $$((t3 - t2)) s, browser check $$((t4 - t3)) s"

# The built site in headless Chromium (tools/check_site.py). Without a Chromium it says so and passes, unless
# GAN_LESSONS_REQUIRE_BROWSER=1 (set by .ci/run, which installs Debian's chromium and chromium-driver).
site-check: install
	@status=0; $(BIN)/python tools/check_site.py _build/html || status=$$?; \
	if [ $$status = 3 ] && [ "$${GAN_LESSONS_REQUIRE_BROWSER:-0}" != 1 ]; then \
	  echo "[site] NOT CHECKED in a browser: install Debian's chromium and chromium-driver to run it"; \
	else exit $$status; fi

# Re-pin constraints.txt to what is installed in the venv.
lock: install
	{ head -2 constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^gan-lessons'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf _build _build.log _build.status
