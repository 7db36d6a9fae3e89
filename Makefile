# Every target sets up (or reuses) its own virtual environment from pyproject.toml.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test test-pandas22 demo bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## make test: the whole suite (pytest, the notebooks, ruff, mypy)
test: $(STAMP)
	$(PY) -m pytest tests pandas_hubtickets notebooks --doctest-modules --nbmake -q
	$(PY) -m ruff check pandas_hubtickets tests benchmarks tools conftest.py
	$(PY) -m ruff format --check pandas_hubtickets tests benchmarks tools conftest.py
	$(PY) -m mypy

## make test-pandas22: the pytest suite again on the oldest supported pandas (2.2)
OLD_VENV := .venv-pandas22
$(OLD_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(OLD_VENV)
	$(OLD_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(OLD_VENV)/bin/python -m pip install --quiet -e '.[test]' 'pandas==2.2.*'
	touch $@

test-pandas22: $(OLD_VENV)/.installed
	$(OLD_VENV)/bin/python -m pytest tests pandas_hubtickets --doctest-modules -q

## make demo: the main job against the built-in local emulator (no account, no network)
demo: $(STAMP)
	$(VENV)/bin/hubtickets demo

## make bench: speed and memory figures, as ratios against baselines measured in the same run
bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) $(OLD_VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
