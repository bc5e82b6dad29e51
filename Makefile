# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
OUT ?= demo-output

# Tests run on every core (at most 4 workers, each holds the data it builds), one test file per
# worker (the tests of a file share costly fixtures).
PYTEST := $(PY) -m pytest -q -n auto --maxprocesses 4 --dist loadfile

.PHONY: demo test check bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/senforecast demo --out $(OUT)

test: $(VENV)/.installed
	$(PYTEST)

# the inner loop while editing: everything but the slow statistical and end-to-end checks
check: $(VENV)/.installed
	$(PYTEST) -m "not slow"

bench: $(VENV)/.installed
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache build *.egg-info
