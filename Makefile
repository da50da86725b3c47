# make run   : set up .venv if needed, install, start the bot (Telegram if TELEGRAM_BOT_TOKEN is set, else the terminal chat)
# make test  : set up .venv if needed, install with test tools (and psycopg), lint (ruff) and type-check (mypy), run the whole suite
#              (storage tests run on SQLite and on a PostgreSQL the tests start from the installed server binaries)
# make check : validate content/
# make bench : run the benchmarks (results in benchmarks/RESULTS.md)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: run test lint check bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,postgres]'
	touch $@

run: $(VENV)/.installed
	$(PY) bot.py $(if $(TELEGRAM_BOT_TOKEN),,chat)

test: $(VENV)/.installed lint
	$(PY) -m pytest -q

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

check: $(VENV)/.installed
	$(PY) bot.py check

bench: $(VENV)/.installed
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
