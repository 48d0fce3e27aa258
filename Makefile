# Rocket 2: the two commands a new machine needs are `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# uv.lock pins every package, uv itself among the dev extras: bootstrap that very uv with pip.
UV_VERSION = $(shell python3 -c 'import tomllib; print(next(p["version"] for p in tomllib.load(open("uv.lock", "rb"))["package"] if p["name"] == "uv"))')
# Never fetch an interpreter: use the one .python-version names (python3 here, setup-python in CI).
export UV_PYTHON_DOWNLOADS := never
# Trust the system's CA store, as pip does (a network that re-signs TLS adds its CA there).
export UV_SYSTEM_CERTS := 1

.PHONY: run test test-fast lint docs install lock bench clean openapi

$(VENV)/bin/uv:
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.installed: pyproject.toml uv.lock $(VENV)/bin/uv
	UV_PROJECT_ENVIRONMENT=$(VENV) $(VENV)/bin/uv sync --quiet --locked --extra dev --inexact --python $(PY)
	touch $@

install: $(VENV)/.installed ## Python packages into .venv, exactly as uv.lock pins them (with the dev extras)

lock: $(VENV)/bin/uv ## Re-resolve uv.lock after editing pyproject.toml; UPGRADE=1 takes newer releases
	$(VENV)/bin/uv lock $(if $(UPGRADE),--upgrade)

run: $(VENV)/.installed ## Install and start Rocket 2 on :5000 in local dev mode (no accounts)
	bash scripts/dev_run.sh

test: ## Install everything (Debian packages too), start services, lint, and run every test
	bash scripts/test.sh

# The quick loop: one folder (or file), no root, no Docker; PostgreSQL tests skip without
# DATABASE_URL_TEST. TESTS=tests/members picks another.
TESTS ?= tests/teams
test-fast: $(VENV)/.installed ## Run one folder of tests without root, nginx or Docker
	$(PY) -m pytest -m "not container and not nginx" $(TESTS)

# The docs site, built strictly: any warning (a broken link or anchor) fails it. Output in site/.
# (Not --quiet: it hides the warnings from the strict count.)
docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 mkdocs build --strict

lint: $(VENV)/.installed
	ruff check .
	ruff format --check .
	mypy
	lint-imports --no-cache
	actionlint -shellcheck "$$(command -v shellcheck)" .github/workflows/*.yml
	$(MAKE) --no-print-directory docs

# BENCH_ARGS=--keep-deploy keeps BENCHMARKS.md's deploy section (it runs the container tests).
bench: $(VENV)/.installed
	$(PY) -m bench $(BENCH_ARGS)

# GitHub's and Slack's published API descriptions, cut to what Rocket 2 uses (tests/data/openapi/).
OCTOKIT_OPENAPI = 23.0.2
SLACK_SPECS_COMMIT = bc08db49625630e3585bf2f1322128ea04f2a7f3
SLACK_SPEC_URL = https://raw.githubusercontent.com/slackapi/slack-api-specs/$(SLACK_SPECS_COMMIT)/web-api/slack_web_openapi_v2.json
openapi: $(VENV)/.installed ## Re-cut tests/data/openapi/ (SLACK_SPEC=file: a local copy of the Slack file)
	tmp="$$(mktemp -d)" && trap 'rm -rf "$$tmp"' EXIT && \
	(cd "$$tmp" && npm pack --silent @octokit/openapi@$(OCTOKIT_OPENAPI) >/dev/null) && \
	slack="$(SLACK_SPEC)" && if [ -z "$$slack" ]; then slack="$$tmp/slack.json" && curl -fsSL -o "$$slack" "$(SLACK_SPEC_URL)"; fi && \
	$(PY) scripts/cut-openapi.py --github "$$tmp/octokit-openapi-$(OCTOKIT_OPENAPI).tgz" --slack "$$slack" \
		--slack-source "slackapi/slack-api-specs@$(SLACK_SPECS_COMMIT), file web-api/slack_web_openapi_v2.json"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site
