# The two set-up commands of the README: `make serve` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: serve test install install-test assets build

serve: install assets     ## install copgraph, build the store from data/ if missing, serve on 127.0.0.1:8080
	$(BIN)/copgraph serve

test: install-test assets ## install copgraph with its test tools, lint, run the whole test suite
	$(BIN)/ruff check src tests
	$(BIN)/python -m pytest

build: install
	$(BIN)/copgraph build

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
assets: node_modules/.installed

# Front-end libraries (the YASGUI query editor, Cytoscape.js for /map) come from the npm registry, pinned by package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(VENV)/bin/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "copgraph needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/bin/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed
