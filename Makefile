# Undersigned. `make run` serves the demo; `make test` runs every check CI runs.
.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

# The newest Python 3.12+ on this machine: plain names on the PATH first, then
# pyenv's installs (whose shims refuse versions that are not selected).
PYTHON ?= $(shell for c in python3.14 python3.13 python3.12 \
	$$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV) python3; do \
	  p=$$(command -v $$c 2>/dev/null) || continue; \
	  "$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo "$$p"; break; }; \
	done)

# Debian packages the project needs: fonts for every script a signer may write
# in (PDF), poppler for PDF text and pictures in tests; chromium and PostgreSQL
# for the test suite; redis-server for the shared-cache tests (bin/with-redis);
# gettext compiles the translation catalogues; node and npm install axe-core
# (package.json), which the browser tests run against pages (WCAG 2.2 AA).
APT_RUN := fonts-noto-core fonts-noto-cjk poppler-utils gettext
# Debian's npm, unless the nodejs installed already brings npm (NodeSource's
# package does, and conflicts with Debian's npm).
APT_NPM = $(if $(shell command -v npm 2>/dev/null),,npm)
APT_TEST = chromium postgresql redis-server nodejs $(APT_NPM)
# Debian's own Python keeps ensurepip, which `python -m venv` needs, in python3.X-venv.
PYTHON_VENV_DEB = $(shell "$(PYTHON)" -c 'import sys; print("python%d.%d-venv" % sys.version_info[:2])')

.PHONY: help install sysdeps sysdeps-test db run test lint format migrations-check pytest bench audit clean messages

help:
	@echo "make run     set up .venv and the database, load the demo, serve on http://$(HOST):$(PORT) with the e-mail worker"
	@echo "make test    set up, then ruff, migrations check and the whole test suite (browser tests too)"
	@echo "make bench   benchmarks: roster pages and exports, signup load, imports (SQLite and PostgreSQL)"
	@echo "make audit   pip-audit of requirements.txt (needs network access to the vulnerability database)"
	@echo "make messages compile the translation catalogues (locale/) with gettext"
	@echo "make lint    ruff check and format check, and the layers contract (lint-imports)"
	@echo "make format  ruff format and fix"
	@echo "make clean   remove .venv, var/ and test artifacts"

$(PY):
	@if [ -z "$(PYTHON)" ]; then \
	  echo "Undersigned needs Python 3.12 or newer (Django 6). Install python3.12 or python3.13, or run: make PYTHON=/path/to/python3.12 ..." >&2; \
	  exit 1; \
	fi
	$(if $(filter /usr/bin/%,$(PYTHON)),$(call apt_ensure,$(PYTHON_VENV_DEB)))
	@echo "Creating $(VENV) with $(PYTHON)"
	"$(PYTHON)" -m venv $(VENV) || { rm -rf $(VENV); exit 1; }

$(VENV)/.installed: requirements.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

install: $(VENV)/.installed

# Installs what is missing, with apt, when we may (root); otherwise says what to install.
define apt_ensure
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "Missing Debian packages:$$missing. Install them with: sudo apt-get install$$missing" >&2; exit 1; \
	  fi; \
	fi
endef

sysdeps:
	$(call apt_ensure,$(APT_RUN))

sysdeps-test: sysdeps
	$(call apt_ensure,$(APT_TEST))

var:
	mkdir -p var

db: install | var
	$(MANAGE) migrate --noinput -v 0
	$(MANAGE) createcachetable

# The translations in locale/*/LC_MESSAGES/django.po, compiled to the .mo files
# Django reads (build output, not committed) with Debian's gettext (msgfmt).
messages: install sysdeps
	$(MANAGE) compilemessages --ignore=.venv --ignore=var -v 0

# The web server and the task worker that sends e-mail, together; Ctrl-C stops both (bin/dev).
run: install sysdeps db messages
	HOST=$(HOST) PORT=$(PORT) $(MANAGE) load_demo --if-empty
	HOST=$(HOST) PORT=$(PORT) $(PY) bin/dev

# ruff, then the layers contract (.importlinter): every import runs down.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

migrations-check: install
	$(MANAGE) makemigrations --check --dry-run

# The whole suite on SQLite, then again on a throwaway PostgreSQL cluster (bin/with-postgres) with a
# throwaway Redis (bin/with-redis) as the cache, so the rate-limit, page-cache and two-host tests run
# against it. The SQLite run uses each process's own memory as the cache (config/test_settings.py);
# the tests of the database-cache path switch to it themselves.
# The suite runs as on a machine booted a minute ago (time.monotonic() near 60 s, in
# a time namespace of its own), so code that takes a long uptime for granted fails
# here, not on a newcomer's fresh machine. Where unshare may not (not root), as is.
FRESH_BOOT = $(shell unshare --time --fork true 2>/dev/null && \
	offset=$$((60 - $$(cut -d. -f1 /proc/uptime))) && \
	echo "unshare --time --fork --monotonic=$$offset --boottime=$$offset")

# axe-core for the accessibility checks, at the version package-lock.json pins.
node_modules/axe-core/axe.min.js: package.json package-lock.json | sysdeps-test
	npm ci --no-audit --no-fund
	@touch $@

pytest: install sysdeps-test messages node_modules/axe-core/axe.min.js | var
	$(FRESH_BOOT) $(VENV)/bin/pytest
	$(FRESH_BOOT) bin/with-postgres bin/with-redis $(VENV)/bin/pytest -p no:cacheprovider

test: install sysdeps-test lint migrations-check pytest

# Known vulnerabilities in the pinned requirements. Needs the vulnerability
# database online (PyPI/OSV), so it is not part of the offline `make test`.
audit: install
	$(VENV)/bin/pip install --quiet --disable-pip-version-check pip-audit
	$(VENV)/bin/pip-audit --requirement requirements.txt --disable-pip --no-deps --progress-spinner off

# Benchmarks print their tables; they are not part of `make test`. See README "Performance".
bench: install sysdeps-test
	$(call apt_ensure,wrk)
	$(PY) bench/roster.py
	bin/with-postgres $(PY) bench/roster.py
	$(PY) bench/read_load.py
	bin/with-postgres bin/with-redis $(PY) bench/read_load.py
	$(PY) bench/signup_load.py
	bin/with-postgres bin/with-redis $(PY) bench/signup_load.py
	$(PY) bench/import_load.py
	bin/with-postgres $(PY) bench/import_load.py
	$(PY) bench/pdf_engines.py
	bin/with-postgres $(PY) bench/pdf_engines.py --engines typst

clean:
	rm -rf $(VENV) var test-artifacts staticfiles node_modules
