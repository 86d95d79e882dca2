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
	$(PY) manage.py operator_api_key ensure fasttrack-simulator

run: demo
	@echo ""
	@echo "  Player site         http://127.0.0.1:8000/"
	@echo "  Back-office         http://127.0.0.1:8000/admin/"
	@echo "  Wallet API          http://127.0.0.1:8001/wallet-api/v1/ (game providers)"
	@echo "  API docs            http://127.0.0.1:8000/api/docs/"
	@echo "  Fast Track sim      http://127.0.0.1:8100/"
	@echo "  Game provider sim   http://127.0.0.1:8200/"
	@echo "  Payment provider    http://127.0.0.1:8300/"
	@echo "  Ctrl-C stops everything."
	@echo ""
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
