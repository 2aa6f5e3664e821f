# clinicq: `make run` starts the demo station (under gunicorn, as `clinicq serve` does),
# `make test` runs every test, `make bench` the benchmarks (the station's the production way).
# Each sets up what it needs first (a virtualenv in .venv, Debian packages).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 5000
CENTRAL_PORT ?= 5100
# the kiosk agent's feed page; a free one is chosen (and named) when it is taken
FEED_PORT ?= 5301
RUN_PACKAGES := libzbar0 espeak-ng fonts-wqy-microhei
TEST_PACKAGES := $(RUN_PACKAGES) chromium postgresql

CATALOGS := $(patsubst %.po,%.mo,$(wildcard contracts/translations/*/LC_MESSAGES/messages.po))

.PHONY: run test bench setup setup-test lint openapi clean catalogs lock

# every version installed (pip's own, the build's setuptools and babel, each dependency) is the
# one constraints.txt pins; `make lock` writes that file anew from a fresh resolve
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt pip
	$(PY) -m pip install -q -c constraints.txt --build-constraint constraints.txt -e '.[dev]'
	touch $@

lock:
	PYTHON=$(PYTHON) scripts/lock.sh

# the one catalog of words, compiled once at set-up (contracts/i18n.py reads the .mo files)
%.mo: %.po $(VENV)/.installed
	$(VENV)/bin/pybabel compile -i $< -o $@

catalogs: $(CATALOGS)

setup: $(VENV)/.installed $(CATALOGS)
	@scripts/debian-packages.sh $(RUN_PACKAGES)

setup-test: $(VENV)/.installed $(CATALOGS)
	@scripts/debian-packages.sh $(TEST_PACKAGES)

run: setup
	PORT=$(PORT) CENTRAL_PORT=$(CENTRAL_PORT) FEED_PORT=$(FEED_PORT) $(VENV)/bin/clinicq demo

test: setup-test
	$(PY) -m pytest -q

bench: setup
	@for b in bench/bench_*.py; do $(PY) $$b || exit 1; done

lint: setup
	$(PY) -m ruff check contracts server kiosk display hardware central tests bench
	$(PY) -m mypy server/engine contracts hardware/printer/drivers.py hardware/scanner/base.py

openapi: setup
	$(PY) -m server.web.openapi --write

clean:
	rm -rf $(VENV) var test-output .pytest_cache $(CATALOGS)
