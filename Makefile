# Every target sets up (or reuses) its own virtual environment from pyproject.toml.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test test-min demo bench fuzz reliability clean

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

## make test-min: the pytest suite with every dependency at its declared lower bound
## (.ci/constraints-min.txt) on the oldest supported Python, where it is installed
PYTHON_MIN ?= $(shell python3.10 -c '' 2>/dev/null && echo python3.10 \
	|| { p=$$(pyenv prefix 3.10 2>/dev/null) && echo $$p/bin/python3.10; } || echo $(PYTHON))
MIN_VENV := .venv-min
MIN_CONSTRAINTS := .ci/constraints-min.txt
$(MIN_VENV)/.installed: pyproject.toml $(MIN_CONSTRAINTS)
	rm -rf $(MIN_VENV)
	$(PYTHON_MIN) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MIN_VENV)/bin/python -m pip install --quiet -e '.[test]' -c $(MIN_CONSTRAINTS)
	touch $@

test-min: $(MIN_VENV)/.installed
	$(MIN_VENV)/bin/python tools/check_min_versions.py --installed
	$(MIN_VENV)/bin/python -m pytest tests pandas_hubtickets --doctest-modules -q

## make demo: the main job against the built-in local emulator (no account, no network)
demo: $(STAMP)
	$(VENV)/bin/hubtickets demo

## make fuzz: the encoding reference test with many more generated columns (HUBTICKETS_FUZZ_EXAMPLES)
FUZZ_EXAMPLES ?= 5000
fuzz: $(STAMP)
	HUBTICKETS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/test_encode_reference.py -q

## make bench: speed and memory figures, as ratios against baselines measured in the same run
## (with the bench extra: orjson, the pure-serialisation reference of bench_payload)
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $@

bench: $(BENCH_STAMP)
	$(PY) benchmarks/run.py

## make reliability: the reliability tests 10x larger; prints their figures, writes RELIABILITY.md
reliability: $(STAMP)
	$(PY) tools/reliability.py --scale $(or $(SCALE),10)

clean:
	rm -rf $(VENV) $(MIN_VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
