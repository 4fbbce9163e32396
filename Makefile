# Physiobook
#   make demo    local demo on http://127.0.0.1:8000 (SQLite unless DATABASE_URL is set)
#   make test    whole suite on PostgreSQL, then the `booking` tests again on SQLite
#   make bench   scripts/bench.py
#   make mutation  mutmut over the domain modules (scripts/mutation.py; not part of make test)
#   make lint    Django system checks, missing migrations, ruff, import-linter layers, mypy
#   make serve   production-like: gunicorn + Celery worker + beat (Procfile, honcho), DEBUG=0,
#                PostgreSQL (SERVE_DATABASE_URL) and Redis (SERVE_REDIS_URL)
#   make backup  pg_dump -Fc of DATABASE_URL into BACKUP_DIR (timestamped); make restore FILE=...
#   make loadtest  locust against make serve's processes, then the database checks (scripts/loadtest/)
#
# Knobs: PYTEST_ARGS="-x -k hold", PG_URL=..., TEST_REDIS_URL=..., PYTHON=python3.11

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(PY) -m pytest
STAMP := $(VENV)/.install.stamp

PG_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=
BENCH_ARGS ?=
MUTATION_ARGS ?=
MUTATION_STAMP := $(VENV)/.mutation.stamp
DEMO_ADDR ?= 127.0.0.1:8000

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_NO_INPUT := 1

# Exit 0 when the PostgreSQL in argv[1] accepts a connection.
define PG_CHECK
import sys, psycopg
try:
    psycopg.connect(sys.argv[1], connect_timeout=3).close()
except Exception as exc:
    print(f"PostgreSQL not reachable at {sys.argv[1]}: {exc}".strip(), file=sys.stderr)
    sys.exit(1)
endef
export PG_CHECK

# Exit 0 when the Redis in argv[1] answers PING.
define REDIS_CHECK
import socket, sys
from urllib.parse import urlsplit
url = urlsplit(sys.argv[1])
try:
    with socket.create_connection((url.hostname or "127.0.0.1", url.port or 6379), timeout=1) as s:
        s.sendall(b"PING\r\n")
        sys.exit(0 if s.recv(64).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
endef
export REDIS_CHECK

.PHONY: help venv install demo test bench mutation lint clean serve backup restore loadtest

help:
	@echo "make demo | make test | make bench | make mutation | make lint | make serve | make backup | make restore FILE=... | make loadtest | make clean"

venv install: $(STAMP)

# Reinstall only when the dependencies may have changed.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -e '.[test]'
	touch $@

demo: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py demo_data
	$(PY) manage.py demo_outcomes
	$(PY) manage.py runserver $(DEMO_ADDR)

# One shell for the whole recipe (.ONESHELL): both runs always happen, and the
# target fails if either failed.
test: $(STAMP)
	@truthy() { case "$${1:-}" in ""|0|false|False|FALSE|no|off) return 1;; *) return 0;; esac; }
	if $(PY) -c "$$REDIS_CHECK" "$(TEST_REDIS_URL)"; then
	  export REDIS_URL="$(TEST_REDIS_URL)"; echo "==> Redis answers: tests use REDIS_URL=$$REDIS_URL"
	else
	  unset REDIS_URL; echo "==> Redis not answering: tests use the database cache"
	fi
	status=0
	if $(PY) -c "$$PG_CHECK" "$(PG_URL)"; then
	  echo "==> Whole suite on PostgreSQL ($(PG_URL))"
	  DATABASE_URL="$(PG_URL)" $(PYTEST) $(PYTEST_ARGS) || status=$$?
	  echo "==> Tests marked booking again on SQLite"
	  rc=0
	  env -u DATABASE_URL PHYSIOBOOK_SQLITE_RUN=1 $(PYTEST) -m booking $(PYTEST_ARGS) || rc=$$?
	  if [ "$$rc" -eq 5 ]; then
	    # 5 = nothing collected: fine only while no test carries the marker.
	    if marked=$$(grep -rlE 'mark\.booking\b' tests --include='*.py'); then
	      echo "!!! SQLite run collected no booking tests, yet these files use pytest.mark.booking:" >&2
	      echo "$$marked" >&2
	      [ "$$status" -ne 0 ] || status=1
	    else
	      echo "==> No booking tests exist yet; nothing to run on SQLite"
	    fi
	  elif [ "$$rc" -ne 0 ]; then
	    [ "$$status" -ne 0 ] || status=$$rc
	  fi
	elif truthy "$${CI:-}" || truthy "$${REQUIRE_POSTGRES:-}"; then
	  echo "!!! PostgreSQL is required here (CI or REQUIRE_POSTGRES) but $(PG_URL) is unreachable" >&2
	  exit 1
	else
	  echo "==> PostgreSQL unreachable: whole suite on SQLite (postgres tests skip)"
	  env -u DATABASE_URL $(PYTEST) $(PYTEST_ARGS) || status=$$?
	fi
	if [ "$$status" -ne 0 ]; then echo "!!! make test failed (exit $$status)" >&2; fi
	exit $$status

bench: $(STAMP)
	$(PY) scripts/bench.py $(BENCH_ARGS)

# mutmut is only needed here, so it is an extra of its own ('.[mutation]').
$(MUTATION_STAMP): $(STAMP)
	$(PY) -m pip install -e '.[test,mutation]'
	touch $@

mutation: $(MUTATION_STAMP)
	$(PY) scripts/mutation.py $(MUTATION_ARGS)

SERVE_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/physiobook
SERVE_REDIS_URL ?= redis://127.0.0.1:6379/0
SERVE_PORT ?= 8000
BACKUP_DIR ?= backups
LOADTEST_ARGS ?=

# DEBUG=0 settings over plain http on 127.0.0.1 (no TLS proxy in front: no HTTPS redirect,
# cookies not marked Secure). A random SECRET_KEY per run unless one is set.
serve: $(STAMP)
	export DEBUG=0 DATABASE_URL="$(SERVE_DATABASE_URL)" REDIS_URL="$(SERVE_REDIS_URL)" PORT="$(SERVE_PORT)"
	export ALLOWED_HOSTS="$${ALLOWED_HOSTS:-127.0.0.1,localhost}" SECURE_SSL_REDIRECT=0 SECURE_COOKIES=0
	# No Stripe keys locally: the clearly labelled test-payment mode, which DEBUG=0 refuses unless allowed.
	export ALLOW_TEST_PAYMENTS="$${ALLOW_TEST_PAYMENTS:-1}"
	export SECRET_KEY="$${SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')}"
	export PATH="$(CURDIR)/$(VENV)/bin:$$PATH"
	$(PY) scripts/loadtest/dbtool.py ensure "$$DATABASE_URL"
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v 0
	exec $(VENV)/bin/honcho start -f Procfile

# DATABASE_URL must be PostgreSQL. Keep BACKUP_DIR off this machine too (README "Backups").
backup:
	scripts/backup.sh backup "$${DATABASE_URL:?set DATABASE_URL}" "$(BACKUP_DIR)"

restore:
	scripts/backup.sh restore "$${DATABASE_URL:?set DATABASE_URL}" "$${FILE:?usage: make restore FILE=backups/physiobook-....dump}"

loadtest: $(STAMP)
	$(PY) scripts/loadtest/run.py $(LOADTEST_ARGS)

lint: $(STAMP)
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/ruff check .
	$(PY) scripts/app_graph.py --check-layers
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

clean:
	rm -rf artifacts .pytest_cache mutants
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
