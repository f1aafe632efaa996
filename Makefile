# lienthong — two commands: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test check bench reliability reliability-busy clean system-packages office-test
NODE_STAMP := node_modules/.installed

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (Python 3.11+)"; exit 1; }
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# Debian packages the browser tests and the demo need (chromium, fonts); quiet when present
system-packages:
	@./scripts/install-system-packages.sh

# browser assets (htmx) from package-lock.json; node_modules is never committed
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "need npm (Debian: apt-get install npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

demo: $(STAMP) system-packages $(NODE_STAMP)
	$(PY) -m lienthong.devnet.demo

test: $(STAMP) system-packages $(NODE_STAMP)
	$(PY) -m pytest

# only the office's tests (services, web, browser; SQLite and PostgreSQL)
office-test: $(STAMP) system-packages $(NODE_STAMP)
	$(PY) -m pytest tests/office

# kill -9 of a provincial hub while 2,000 documents cross three hubs (3–7 min on 2 cores;
# `make test` runs the same test with 500)
reliability: $(STAMP)
	LIENTHONG_RELIABILITY_DOCS=2000 $(PY) -m pytest tests/reliability/test_kill9.py

# the reliability tests on a busy machine: two CPU hogs (stress-ng, Debian package) for as
# long as the tests run, at most 15 min; they must hold as they do on an idle machine
reliability-busy: $(STAMP)
	@command -v stress-ng >/dev/null 2>&1 || { echo "need stress-ng (Debian: apt-get install stress-ng)"; exit 1; }
	stress-ng --cpu 2 --timeout 900s --quiet & hog=$$!; \
	$(PY) -m pytest -p no:cacheprovider -s tests/reliability; rc=$$?; \
	kill $$hog 2>/dev/null; exit $$rc

check: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) bench/edxml_parse.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
