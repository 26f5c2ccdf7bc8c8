# The two set-up commands of the README: `make serve` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: serve test install install-test assets build

serve: install assets     ## install copgraph, build the store from data/ if missing, serve on 127.0.0.1:8080
	$(BIN)/copgraph serve

test: install-test assets ## install copgraph with its test tools, lint, check the layers, run the whole test suite
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy
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

# Benchmarks (issue 5; benchmarks/README.md): generated graphs of 1,000 to 1,000,000 communities, copgraph against
# Oxigraph's own server and rdflib-endpoint. `bench` takes hours and writes benchmarks/results/<stamp>.json and
# docs/benchmarks.md (+ docs/benchmarks/*.png); `bench-quick` (1k and 10k, short rounds) writes under benchmarks/work/.
.PHONY: bench bench-quick install-bench bench-tools
BENCH_STAMP := $(shell date -u +%Y%m%dT%H%M%SZ)

bench: install-bench bench-tools
	$(BIN)/python -m benchmarks.run --out benchmarks/results/$(BENCH_STAMP).json; status=$$?; \
	  $(BIN)/python -m benchmarks.report benchmarks/results/$(BENCH_STAMP).json && exit $$status

bench-quick: install-bench bench-tools
	$(BIN)/python -m benchmarks.run --quick --sizes 1000,10000 --out benchmarks/work/quick.json; status=$$?; \
	  $(BIN)/python -m benchmarks.report benchmarks/work/quick.json --doc benchmarks/work/report/benchmarks.md \
	  && exit $$status

install-bench: $(VENV)/.installed-bench

$(VENV)/.installed-bench: $(VENV)/bin/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@ $(VENV)/.installed

# wrk (the load generator) is a Debian package, not a Python one.
bench-tools:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq wrk; }
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get install -y -qq nginx-light || $$SUDO apt-get install -y -qq nginx; }
