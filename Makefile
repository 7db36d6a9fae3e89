# Every target sets up (or reuses) its own virtual environment from pyproject.toml.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test demo bench lint typecheck clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## make test: the whole suite (pytest, the notebooks, ruff, mypy)
test: $(STAMP)
	$(PY) -m pytest tests notebooks --nbmake -q
	$(PY) -m ruff check pandas_hubtickets tests benchmarks
	$(PY) -m ruff format --check pandas_hubtickets tests benchmarks
	$(PY) -m mypy

## make demo: the main job against the built-in local emulator (no account, no network)
demo: $(STAMP)
	$(VENV)/bin/hubtickets demo

## make bench: speed and memory figures, as ratios against baselines measured in the same run
bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
