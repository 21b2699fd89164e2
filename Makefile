# The two commands: `make demo` and `make test`. Each sets up .venv from the pinned lock file first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench install clean lock

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m openets.demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/run.py

# Regenerate the pinned lock file from pyproject.toml (maintainers only).
lock:
	rm -rf /tmp/openets-lock && $(PYTHON) -m venv /tmp/openets-lock
	/tmp/openets-lock/bin/pip install --quiet '.[test]'
	/tmp/openets-lock/bin/pip freeze --exclude openets > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .benchmarks
