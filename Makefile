# gan-zoo developer and user tasks. `make train` and `make test` work on a fresh machine:
# they create .venv, install torch and gan-zoo, and fetch Fashion-MNIST if it is missing.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
TORCH  := torch==2.14.1 torchvision==0.29.1
FMNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
ARGS   ?=
PYTEST_ARGS ?=

.PHONY: install data browser train test fast-test docs bench lint check-workflows dist clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed  ## create .venv with torch, gan-zoo and the dev tools

# Fashion-MNIST: Debian's dataset-fashion-mnist where apt-get exists; otherwise
# `make train` asks gan-zoo to download it with torchvision.
data:
	@if [ ! -f $(FMNIST) ] && command -v apt-get >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq dataset-fashion-mnist; \
	fi

# Chromium for the tests that open `gan-zoo report` pages and walk videos in a real browser
# (headless, no network): Debian's chromium where apt-get exists; otherwise those tests skip.
browser:
	@if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; \
	fi

train: install data  ## train the default DCGAN on Fashion-MNIST (samples, safetensors, model card)
	$(VENV)/bin/gan-zoo train dcgan fashion-mnist $$( [ -f $(FMNIST) ] || echo --download ) $(ARGS)

test: install data browser check-workflows lint  ## workflows, lint, docs build + the whole suite (slow tests included)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet --site-dir $$(mktemp -d)
	$(PY) -m pytest $(PYTEST_ARGS)
	for tests in plugins/*/tests; do $(PY) -m pytest $$tests $(PYTEST_ARGS) || exit 1; done

fast-test: install  ## unit tests only
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

docs: install
	$(VENV)/bin/mkdocs serve

bench: install data  ## speed and memory benchmarks (not tests)
	for f in benchmarks/bench_*.py; do $(PY) $$f; done

LINTED := gan_zoo tests benchmarks plugins scripts

lint: install  ## ruff format --check and ruff check (in make test, so in CI)
	$(VENV)/bin/ruff format --check --quiet $(LINTED)
	$(VENV)/bin/ruff check --quiet $(LINTED)

# The GitHub workflows and issue forms against the schemas check-jsonschema vendors (offline).
check-workflows: install  ## validate .github/workflows and .github/ISSUE_TEMPLATE
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-issue-forms .github/ISSUE_TEMPLATE/bug_report.yml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-issue-config .github/ISSUE_TEMPLATE/config.yml

# The core and each plugin under plugins/ (what .github/workflows/release.yml publishes), built
# in isolation from their [build-system] requirements as PyPI's users' pip would.
DISTRIBUTIONS := . plugins/gan-zoo-fid plugins/gan-zoo-stylegan2 plugins/gan-zoo-pretrained

dist: install  ## sdist + wheel of the core and the three plugins into dist/, checked by twine
	rm -rf dist
	for project in $(DISTRIBUTIONS); do $(PY) -m build --outdir dist $$project || exit 1; done
	$(VENV)/bin/twine check --strict dist/*

clean:
	rm -rf $(VENV) dist build site .pytest_cache
