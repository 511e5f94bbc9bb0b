# Two entry points, each self-contained on a machine with Python 3.11+ and make:
#   make stack   writes out/stack.yaml and out/stack.json
#   make test    runs the full suite (installs nginx and dnsmasq for the probe tests)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: stack test services bench clean

# A project-local venv: it does not see the system site-packages.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The package alone: what generating the stack needs.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# tox builds the test, lint and checkov environments itself (see tox.ini).
$(BIN)/tox: | $(BIN)/python
	$(BIN)/python -m pip install --quiet 'tox>=4.11'

stack: $(VENV)/.installed
	$(BIN)/python -m infra_gen --format yaml -o out/stack.yaml
	$(BIN)/python -m infra_gen --format json -o out/stack.json

services:
	./scripts/install-services.sh

# The probe's tests run twice: under the default interpreter and under the newest CPython
# (3.13+) that scripts/probe-python finds; without one, it says how to get one and fails.
test: services $(BIN)/tox
	PROBE_PYTHON="$$(./scripts/probe-python)" && export PROBE_PYTHON && \
	$(BIN)/tox run -e lint,checkov,test,probe-newest

bench: services $(VENV)/.installed
	$(BIN)/python bench/bench_generate.py
	$(BIN)/python bench/bench_probe.py
	PROBE_PYTHON="$$(./scripts/probe-python)" && "$$PROBE_PYTHON" bench/bench_probe.py

clean:
	rm -rf $(VENV) .tox out/stack.yaml out/stack.json
