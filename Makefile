# lienthong — two commands: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test check bench reliability clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (Python 3.11+)"; exit 1; }
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) -m lienthong.devnet.demo

test: $(STAMP)
	$(PY) -m pytest

# kill -9 of a provincial hub while 2,000 documents cross three hubs (3–7 min on 2 cores;
# `make test` runs the same test with 500)
reliability: $(STAMP)
	LIENTHONG_RELIABILITY_DOCS=2000 $(PY) -m pytest tests/reliability/test_kill9.py

check: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) bench/edxml_parse.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
