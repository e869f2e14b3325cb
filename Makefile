# Two commands on a fresh machine:
#   make run    set everything up, index the bundled sample corpus, serve it over MCP (HTTP on 127.0.0.1:8765)
#   make test   set everything up, run the test suite (the full tier), then check the installed wheel
# Also: make test-fast (no model loads, a few minutes), make check-wheel (the package as users install it)
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8765
# llama-cpp-python compiles llama.cpp (a C++ toolchain and cmake are needed): build only the library
# (no multimodal mtmd/llava part), on every core. Examples, tools, tests and the server are off already.
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF -DGGML_NATIVE=ON
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: setup run serve-stdio test test-fast check-wheel clean

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
	$(MAKE) check-wheel

test-fast: setup
	READTRAIL_TEST_TIER=fast $(PY) -m pytest -q -m "not slow"

# Build the wheel, install it (not editable) in a fresh venv, and call the prompt and an agent
# deep_search over stdio with it: what `pip install .` gives a user, prompts included. The fresh venv
# borrows the third-party packages of $(VENV) through a .pth file (the same pinned set, installed from
# the same pyproject: reinstalling torch and the rest took ~10 minutes; its own pip and setuptools
# too, so that no older copy shadows them); `pip check` then proves the
# wheel's declared requirements are met. WHEEL_DEPS=install installs them in the fresh venv instead.
WHEEL_VENV ?= .venv-wheel
WHEEL_DEPS ?= borrow
check-wheel: setup
	rm -rf dist $(WHEEL_VENV)
	$(PY) -m pip wheel --quiet --no-deps --wheel-dir dist .
ifeq ($(WHEEL_DEPS),borrow)
	$(PYTHON) -m venv --without-pip $(WHEEL_VENV)
	$(PY) -c "import sysconfig; print(sysconfig.get_paths()['purelib'])" > "$$($(WHEEL_VENV)/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")/_readtrail_deps.pth"
	$(WHEEL_VENV)/bin/python -m pip install --quiet --no-deps dist/readtrail-*.whl
	$(WHEEL_VENV)/bin/python -m pip check
else
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(WHEEL_VENV)/bin/python -m pip install --quiet torch==2.13.0
	$(WHEEL_VENV)/bin/python -m pip install --quiet dist/readtrail-*.whl
endif
	cd /tmp && $(CURDIR)/$(WHEEL_VENV)/bin/python $(CURDIR)/.ci/wheel_smoke.py

clean:
	rm -rf $(VENV) $(WHEEL_VENV) dist .pytest_cache
