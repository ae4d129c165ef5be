# Two commands work on a fresh machine: `make quickstart` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false
# A few Reasoning-Gym generators draw from set order: a fixed hash seed keeps runs (and CI) reproducible.
export PYTHONHASHSEED ?= 0

.PHONY: quickstart test test-all style quality bench install clean

install: $(STAMP)

# CPU torch first: a bare `torch` requirement would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0 || $(PY) -m pip install -q "torch>=2.6" --index-url https://download.pytorch.org/whl/cpu
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

quickstart: $(STAMP)
	$(VENV)/bin/r1ci quickstart

test: $(STAMP)
	$(VENV)/bin/pytest -q

test-all: $(STAMP)
	$(VENV)/bin/pytest -q -m "slow or not slow"

style: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

quality: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	@for b in benchmarks/*.py; do $(PY) $$b; done

clean:
	rm -rf $(VENV) outputs .pytest_cache .ruff_cache
