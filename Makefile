# Regimen. `make run` and `make test` set everything up on a fresh clone.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime-$(shell cat requirements.lock | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(shell cat requirements.lock requirements-dev.lock | sha1sum | cut -c1-12)

.PHONY: run test lint fmt lock screenshots bench load clean

# compilemessages looks for locale/ folders in the whole tree: not in these.
COMPILE_ARGS := -v 0 -i .venv -i var -i .git -i node_modules

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || { echo "Python 3.11 is required (found: $(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# `make run` installs the runtime lock only; the test tools come with `make test`.
# --no-compile: Python compiles what it imports when it first does; compiling
# every installed file up front took 137 s of a 168 s install (31 s without).
$(RUNTIME): requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet --no-compile -r requirements.lock
	@rm -f $(VENV)/.runtime-*
	@touch $@

$(STAMP): requirements.lock requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet --no-compile -r requirements-dev.lock
	@rm -f $(VENV)/.installed-* $(VENV)/.runtime-*
	@touch $@ $(RUNTIME)

run: $(RUNTIME)  ## the whole app: embedded PostgreSQL, Redis (or the embedded broker), emails as .eml files under var/emails/
	@bin/gettext
	@$(BIN)/python bin/run.py

test: $(STAMP)  ## lint, migrations check and the whole suite on PostgreSQL and Redis (embedded ones if none answers)
	@bin/browser
	@bin/gettext
	DJANGO_SETTINGS_MODULE=config.test_settings $(BIN)/python manage.py compilemessages $(COMPILE_ARGS)
	$(BIN)/ruff check .
	$(BIN)/python bin/services.py --tests -- env DJANGO_SETTINGS_MODULE=config.test_settings \
	  $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python bin/services.py --tests -- $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock: $(STAMP)  ## re-resolve requirements.in and requirements-dev.in into the two locks
	rm -rf /tmp/regimen-lock && $(PYTHON) -m venv /tmp/regimen-lock
	/tmp/regimen-lock/bin/pip install --quiet -r requirements.in
	/tmp/regimen-lock/bin/pip freeze --exclude-editable | grep -v '^pip==' > requirements.lock
	/tmp/regimen-lock/bin/pip install --quiet -c requirements.lock -r requirements-dev.in
	/tmp/regimen-lock/bin/pip freeze --exclude-editable | grep -v '^pip==' > requirements-dev.lock

screenshots: $(STAMP)  ## a PNG of every staff page under docs/screenshots/ (German ones under de/)
	REGIMEN_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q tests/web/test_screenshots.py \
	  tests/web/test_patient_page_browser.py tests/web/test_self_booking_browser.py tests/reports/test_page.py \
	  tests/web/test_browser_settings.py tests/web/test_browser_protocol_editor.py \
	  tests/web/test_questionnaire_browser.py tests/web/test_german_pages.py::test_german_buttons_fit_at_800_px

bench: $(STAMP)  ## each path against its floor (BENCH_SCALE=0.02 for a quick run); docs/benchmarks.md, bench/results.json
	DJANGO_SETTINGS_MODULE=config.test_settings $(BIN)/python bench/run.py
	DJANGO_SETTINGS_MODULE=config.test_settings $(BIN)/python bench/workers.py

load: $(STAMP)  ## 50 simulated staff and 200 patients following their links for 5 minutes against gunicorn + Celery on loopback (LOAD_USERS, LOAD_PATIENTS, LOAD_TIME)
	$(BIN)/python bench/load.py

clean:
	rm -rf var/ .pytest_cache .ruff_cache
