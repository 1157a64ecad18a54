PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench bench-peers lint clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e ".[symbolic,plot,examples,dask]"
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/chainrule tour --out out

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest
	$(BIN)/ruff check src tests benchmarks

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/run.py

bench-peers: $(VENV)/.installed
	test -x benchmarks/.peers/bin/python || { $(PY) -m venv benchmarks/.peers && \
	  benchmarks/.peers/bin/pip install numpy autograd jax jaxlib && \
	  benchmarks/.peers/bin/pip install torch==2.13.0; }
	$(BIN)/python benchmarks/run.py --python benchmarks/.peers/bin/python

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) build src/*.egg-info
