# Rocket 2: the two commands a new machine needs are `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run test lint install bench clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed ## Python packages into .venv

run: $(VENV)/.installed ## Install and start Rocket 2 on :5000 in local dev mode (no accounts)
	bash scripts/dev_run.sh

test: ## Install everything (Debian packages too), start services, lint, and run every test
	bash scripts/test.sh

lint: $(VENV)/.installed
	ruff check .
	ruff format --check .
	mypy

bench: $(VENV)/.installed
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
