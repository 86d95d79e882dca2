# Two commands on a fresh machine with only Python: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)

.PHONY: setup run test lint bench engines stop-engines migrate demo clean

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

setup: $(STAMP)

engines: setup
	$(PY) -m igaming.engines start

migrate: engines
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo --if-empty

run: demo
	DEBUG=1 $(VENV)/bin/honcho start -f Procfile

test: engines
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check .

bench: migrate
	$(PY) -m benchmarks.run

stop-engines: setup
	$(PY) -m igaming.engines stop

clean: stop-engines
	rm -rf .data $(VENV)
