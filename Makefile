# The README's commands. `make run` for the local demo, `make test` for the whole suite (CI runs it).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
# Python 3.11: python3.11 if present, else python3 when it is 3.11.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || { python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null && command -v python3; })

# Stamps keyed on the requirements' contents: a second run installs nothing and takes no time.
RUN_STAMP := $(VENV)/.installed-run-$(shell cat requirements.txt | sha256sum | cut -c1-16)
DEV_STAMP := $(VENV)/.installed-dev-$(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)

# Debian packages the product needs (CJK fonts and Pango for WeasyPrint's PDFs, gettext for
# translations), and the tests' (poppler-utils: pdftoppm/pdffonts to look at PDFs)
# browser. Chromium comes from Debian only: never `playwright install`.
RUN_DEBS := fonts-noto-cjk fonts-hanazono fonts-babelstone-han gettext libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
TEST_DEBS := chromium chromium-driver fonts-noto-cjk fonts-hanazono fonts-babelstone-han gettext libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils

# As root: install what is missing (apt-get update only then). Otherwise: say what is missing, go on.
define debian_packages
if ! command -v dpkg-query >/dev/null; then \
	echo "Not a Debian system: make sure these are installed: $(1)" >&2; exit 0; \
fi; \
missing=""; \
for package in $(1); do \
	dpkg-query -W -f='$${Status}' "$$package" 2>/dev/null | grep -q "ok installed" || missing="$$missing $$package"; \
done; \
if [ -z "$$missing" ]; then exit 0; fi; \
if [ "$$(id -u)" = 0 ]; then \
	echo "Installing Debian packages:$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq; \
	apt-get install -y -qq $$missing; \
else \
	echo "Missing Debian packages (as root: apt-get install$$missing); going on without them." >&2; \
fi
endef

.PHONY: help run test lint typecheck format messages clean distclean debian-run debian-test

help:
	@echo "make run       install, migrate, seed the demo, serve http://127.0.0.1:8000 with a worker and beat"
	@echo "make test      install the dev tools, ruff check, lint-imports, mypy, makemigrations --check, then pytest -n auto on PostgreSQL and Redis"
	@echo "make lint      ruff check, ruff format --check, lint-imports and mypy"
	@echo "make typecheck mypy with django-stubs (pyproject.toml [tool.mypy])"
	@echo "make format    sort imports and ruff format"
	@echo "make messages  makemessages (zh_Hans, en) and compilemessages"
	@echo "make clean     caches and generated files; make distclean also removes .venv and var/"

$(PY):
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.11 is required (python3.11 or python3 being 3.11)" >&2; exit 1; fi
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): | $(PY)
	@$(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "$(VENV) is not Python 3.11: remove it (make distclean) and try again" >&2; exit 1; }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-run-*
	touch $@

$(DEV_STAMP): | $(PY)
	@$(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "$(VENV) is not Python 3.11: remove it (make distclean) and try again" >&2; exit 1; }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-dev-*
	touch $@

debian-run:
	@$(call debian_packages,$(RUN_DEBS))

debian-test:
	@$(call debian_packages,$(TEST_DEBS))

run: $(RUN_STAMP) debian-run
	$(PY) manage.py migrate --noinput
	$(PY) manage.py build_document_fonts
	$(PY) manage.py seed_demo
	bin/run

# pytest-xdist workers: one per core found (`make test PYTEST_WORKERS=0` runs in one process).
# worksteal: an idle worker takes pending tests from a busy one, so the few long browser and Celery
# tests at the end of pytest-django's order do not leave one core waiting for the other.
PYTEST_WORKERS ?= auto

test: $(DEV_STAMP) debian-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(MAKE) --no-print-directory typecheck
	@# Models and migrations agree. The history check needs a database that may not exist yet
	@# (pytest creates its own), so that one warning is silenced and nothing else.
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) \
		-W "ignore:Got an error checking a consistent migration history:RuntimeWarning" \
		manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py build_document_fonts
	DJANGO_SETTINGS_MODULE=config.settings.test $(VENV)/bin/pytest --create-db \
		-n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(MAKE) --no-print-directory typecheck

# The django-stubs plugin loads the test settings (pyproject.toml [tool.django-stubs]); it needs
# no database or broker.
typecheck: $(DEV_STAMP)
	DJANGO_SETTINGS_MODULE=config.settings.test $(VENV)/bin/mypy

format: $(DEV_STAMP)
	$(VENV)/bin/ruff check --select I --fix .
	$(VENV)/bin/ruff format .

messages: $(RUN_STAMP) debian-run
	$(PY) manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=var --ignore=static/vendor --no-obsolete
	$(PY) manage.py compilemessages --ignore=.venv --ignore=var

clean:
	find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache .mypy_cache test-results var/staticfiles var/broker var/run var/celerybeat-schedule*

distclean: clean
	rm -rf $(VENV) var
