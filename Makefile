# Two entry points, each self-contained on a machine with Python 3.11+ and make:
#   make stack   writes out/stack.yaml and out/stack.json
#   make test    runs the full suite (installs nginx and dnsmasq for the probe tests)
# and, for CI publishing (see .github/workflows/publish.yml):
#   make artifact      checks out/ is current, lints it, writes out/SHA256SUMS
#   make constraints   re-resolves the pinned runtime dependencies
#   make docs          writes the API reference (pdoc) to build/docs
#   make dist          writes a wheel to dist/
#   make emulator      serves the local AWS emulator (PORT=5000) for a try-out of the commands
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Exact versions of the runtime dependencies: the template's bytes depend on them.
CONSTRAINTS := constraints/runtime.txt
# The Regions the suite lints in (tests/support/stack.py).
LINT_REGIONS := us-east-1 eu-west-1 ap-southeast-2
STALE := echo "infra-gen: out/ is stale: run 'make stack' and commit out/" >&2; exit 1

.PHONY: stack artifact constraints test services bench docs dist emulator clean

# A project-local venv: it does not see the system site-packages.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The package alone, at the pinned versions: what generating the stack needs.
$(VENV)/.installed: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e .
	touch $@

# The linter the pipeline runs; the pins hold for what it shares with the runtime.
$(BIN)/cfn-lint: | $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) 'cfn-lint>=1.58'

# tox builds the test, lint and checkov environments itself (see tox.ini), through uv.
$(BIN)/tox: | $(BIN)/python
	$(BIN)/python -m pip install --quiet 'tox>=4.11' 'tox-uv>=1.11'

stack: $(VENV)/.installed
	$(BIN)/python -m infra_gen --format yaml -o out/stack.yaml
	$(BIN)/python -m infra_gen --format json -o out/stack.json

# What the CI pipeline publishes: the reviewed out/ files, proven current (--check
# generates in memory and compares), lint clean, with their checksums.
artifact: $(VENV)/.installed $(BIN)/cfn-lint
	$(BIN)/python -m infra_gen --check out/stack.yaml || { $(STALE); }
	$(BIN)/python -m infra_gen --check out/stack.json || { $(STALE); }
	$(BIN)/cfn-lint --regions $(LINT_REGIONS) -- out/stack.yaml out/stack.json
	cd out && sha256sum stack.yaml stack.json > SHA256SUMS

constraints:
	PYTHON=$(PYTHON) ./scripts/refresh-constraints.sh

# The API reference from the docstrings; pdoc comes with the docs extra only.
docs: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[docs]'
	PYTHON=$(BIN)/python ./scripts/build-docs.sh build/docs

# A wheel in dist/, to install elsewhere: pip install 'dist/infra_gen-<version>-py3-none-any.whl[deploy]'
dist: | $(BIN)/python
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist .

# moto with the suite's bridges (devtools/emulator.py), in the foreground until Ctrl-C; it
# prints the AWS_* variables that point infra-gen (boto3's usual chain) at it.
PORT ?= 5000
emulator: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[test,deploy]'
	$(BIN)/python -m devtools.emulator --port $(PORT)

services:
	./scripts/install-services.sh

# The probe's tests run twice: under the default interpreter and under the newest CPython
# (3.13+) that scripts/probe-python finds; without one, it says how to get one and fails.
test: services $(BIN)/tox
	PROBE_PYTHON="$$(./scripts/probe-python)" && export PROBE_PYTHON && \
	$(BIN)/tox run-parallel --parallel all --parallel-live -e lint,checkov,test,probe-newest

bench: services $(VENV)/.installed
	$(BIN)/python bench/bench_generate.py
	$(BIN)/python bench/bench_probe.py
	PROBE_PYTHON="$$(./scripts/probe-python)" && "$$PROBE_PYTHON" bench/bench_probe.py

clean:
	rm -rf $(VENV) .tox dist out/SHA256SUMS
