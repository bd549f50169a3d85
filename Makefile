# Two entry points: `make run` (demo court on http://127.0.0.1:8000, and its
# external gateway for remote parties on :8001; issue 12, gateway) and
# `make test` (the whole suite). Both set everything up themselves.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/hearing demo

# Two workers: on this 2-core machine most of a test's time is waiting
# (real-time media, timers, the browser), so two halve the wall time.
PYTEST_WORKERS ?= 2

test: $(STAMP)
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check hearing tests migrations bench
	$(VENV)/bin/ruff format --check hearing tests migrations bench
	$(VENV)/bin/mypy hearing bench

clean:
	rm -rf $(VENV) var test-artifacts
