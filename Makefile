# Pilothouse: the two-command contract (`make demo`, `make test`) plus `make bench`.
# Everything runs from a .venv this Makefile creates with python3.11 and requirements.txt.

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000

.PHONY: demo test bench venv migrate chromium clean-venv

# Re-install whenever requirements.txt changes.
$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

venv: $(VENV)/.installed

migrate: venv
	$(PY) manage.py migrate --noinput

# Daphne + the simulation worker in one process, SQLite + in-memory channel layer.
demo: migrate
	$(PY) manage.py demo --port $(PORT)

# The browser tests drive Debian's chromium; install it when missing and we may.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; \
	  else \
	    echo "warning: /usr/bin/chromium is missing and we are not root; browser tests will need it" >&2; \
	  fi; \
	fi

test: venv chromium
	$(PY) -m pytest tests

bench: venv
	@set -e; for f in bench/*.py; do echo "== $$f"; PYTHONPATH=$(CURDIR) $(PY) $$f; done

clean-venv:
	rm -rf $(VENV)
