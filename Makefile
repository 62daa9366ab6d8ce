# Anchorage: `make demo` runs the product on embedded defaults; `make test` runs the whole suite.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
# This machine's pip configuration lists local indexes; pip warns once per missing one.
QUIET_PIP := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
SYSTEM_PACKAGES := chromium poppler-utils libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core redis-server
export HF_HUB_OFFLINE := 1
export PYTHONUNBUFFERED := 1

.PHONY: demo test setup system-packages run worker beat lint bench front fuzz load

# --- set-up ------------------------------------------------------------------------------------
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (Anchorage needs Python 3.11)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check torch==2.14.1 torchvision==0.29.1 $(QUIET_PIP)
	$(PIP) install --quiet --disable-pip-version-check -e ".[dev]" $(QUIET_PIP)
	$(PIP) install --quiet --disable-pip-version-check --no-deps torchattacks==3.5.1 $(QUIET_PIP)
	touch $(STAMP)

# Debian packages: Chromium for the browser tests, poppler for PDF checks, HarfBuzz subsetting
# for WeasyPrint, redis-server for private brokers in fault tests. Installed only when missing.
system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

setup: $(STAMP) system-packages
	$(PY) manage.py migrate --no-input -v 0
	$(PY) manage.py collectstatic --no-input -v 0
	$(PY) manage.py setup_platform

# --- the two commands --------------------------------------------------------------------------
demo: setup
	$(PY) manage.py demo_setup
	$(PY) -m config.launcher

test: $(STAMP) system-packages lint
	mkdir -p var/test-output
	$(PY) manage.py collectstatic --no-input -v 0
	$(PY) -m pytest $(PYTEST_ARGS)

# --- the parts on their own --------------------------------------------------------------------
run: setup
	$(PY) manage.py runserver 127.0.0.1:8000

worker: $(STAMP)
	$(VENV)/bin/celery -A config worker -Q default,robustness -c 1 -l info

beat: $(STAMP)
	$(VENV)/bin/celery -A config beat -l info

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy config governance assessments robustness  # the whole tree, with django-stubs (pyproject)
	$(VENV)/bin/mypy --strict robustness/engine

bench: setup
	$(PY) benchmarks/engine_throughput.py
	$(PY) benchmarks/dashboard_scale.py
	$(PY) benchmarks/dashboard_scale.py --systems 10000 --results 1000000

# The method comparison of docs/robustness-results.md (minutes: it retrains four times).
front: setup
	$(PY) benchmarks/robustness_front.py

# Long property-based fuzzing of the API (against its OpenAPI schema) and of every web form.
fuzz: $(STAMP)
	FUZZ_EXAMPLES=200 $(PY) -m pytest tests/hostile/test_api_fuzz.py tests/hostile/test_form_fuzz.py -p no:cacheprovider

# Load against gunicorn + PostgreSQL on loopback, beside a torch loop: throughput, p50/p95/p99, errors.
load: $(STAMP)
	$(PY) benchmarks/load_test.py --users 50 --duration 60 --think 2
