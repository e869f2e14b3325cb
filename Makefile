# Two commands on a fresh machine:
#   make run    set everything up, index the bundled sample corpus, serve it over MCP (HTTP on 127.0.0.1:8765)
#   make test   set everything up and run the test suite
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8765

.PHONY: setup run serve-stdio test bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11); set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# the CPU build of torch first: a bare `torch` requirement would pull a multi-GB CUDA build
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

run: setup
	$(VENV)/bin/readtrail serve --transport http --port $(PORT)

serve-stdio: setup
	$(VENV)/bin/readtrail serve

test: setup
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache
