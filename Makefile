# Two entry points: `make run` (demo court on http://127.0.0.1:8000) and
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

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check 'ruff>=0.6' 'mypy>=1.11'
	$(VENV)/bin/ruff check hearing tests migrations bench
	$(VENV)/bin/mypy hearing

clean:
	rm -rf $(VENV) var test-artifacts
