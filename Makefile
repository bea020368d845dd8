# The two commands of the README:
#   make demo   set up, then open JupyterLab on notebooks/dashboard.ipynb
#   make test   set up (test dependencies and Debian's Chromium included), then every test
# Everything else here serves those two (and `make bench`).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMPS := .stamps
JS_SRC := $(wildcard js/src/*.ts js/src/*.css) package.json

.PHONY: demo test bench lint test-py test-js test-e2e mutants clean

# JupyterLab serves notebooks/ and opens the dashboard (also at http://localhost:8888/ when no
# browser opens by itself). As root (a container, CI) it wants --allow-root; the venv's bin
# goes first on PATH so that the kernel runs the venv's python.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

demo: $(STAMPS)/install
	cd notebooks && PATH="$(CURDIR)/$(BIN):$$PATH" jupyter lab $(ALLOW_ROOT) \
		--ServerApp.default_url=/lab/tree/dashboard.ipynb dashboard.ipynb

test: $(STAMPS)/install-test $(STAMPS)/chromium $(STAMPS)/redis-server lint test-js
	$(BIN)/python -m pytest tests

bench: $(STAMPS)/install-test $(STAMPS)/install-bench $(STAMPS)/chromium $(STAMPS)/redis-server
	$(BIN)/python -m benchmarks

lint: $(STAMPS)/install-test
	$(BIN)/ruff check livewidget tests benchmarks
	$(BIN)/ruff format --check livewidget tests benchmarks
	$(BIN)/mypy
	npm run --silent typecheck

test-js: $(STAMPS)/node
	npx vitest run

# Not part of `make test`: each mutant in tools/mutants.py (a realistic bug) applied to a copy of
# the repository, one at a time; the tests must catch every one. `make mutants M=name` runs one.
mutants: $(STAMPS)/install-test $(STAMPS)/node
	$(BIN)/python tools/mutants.py $(M)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMPS)/node: package.json package-lock.json
	npm ci --no-audit --no-fund
	@mkdir -p $(STAMPS) && touch $@

# An editable install; hatch-jupyter-builder runs `npm run build`, so the bundle
# in livewidget/static/ is rebuilt whenever the front end changes.
$(STAMPS)/install: $(VENV)/bin/python pyproject.toml $(STAMPS)/node $(JS_SRC)
	$(BIN)/python -m pip install --quiet -e .
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/install-test: $(STAMPS)/install
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/install-bench: $(STAMPS)/install
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	@mkdir -p $(STAMPS) && touch $@

# Debian's Chromium drives the browser tests (Playwright's own browser downloads
# are not used).
$(STAMPS)/chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }
	@mkdir -p $(STAMPS) && touch $@

# Debian's redis-server: the pub/sub tests and benchmark start their own on a free port (never
# a system-wide instance).
$(STAMPS)/redis-server:
	@command -v redis-server >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq redis-server; }
	@mkdir -p $(STAMPS) && touch $@

clean:
	rm -rf $(VENV) $(STAMPS) node_modules livewidget/static
