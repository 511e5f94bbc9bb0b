# Two entry points, each self-contained on a machine with Python 3.11+ and make:
#   make stack   writes out/stack.yaml and out/stack.json
#   make test    runs the full suite (installs nginx and dnsmasq for the probe tests)
# and, for CI publishing (see .github/workflows/publish.yml):
#   make artifact      checks out/ is current, lints it, writes out/SHA256SUMS
#   make deploy-file   prints the file of out/ that infra-gen deploy sends
# make stack, artifact and deploy-file build a team's own stack with CONFIG=stack.toml
# (a configuration file) or GENERATOR=gen.py (a script that prints the template), the
# names of the workflow's inputs; without them, the defaults (scripts/artifact.py).
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
# The team's stack (scripts/artifact.py reads them from the environment), and where it goes.
CONFIG ?=
GENERATOR ?=
OUT ?= out
export CONFIG GENERATOR
ARTIFACT = $(BIN)/python scripts/artifact.py
STALE := echo "infra-gen: $(OUT)/ is stale: run 'make stack$(if $(CONFIG), CONFIG=$(CONFIG))$(if $(GENERATOR), GENERATOR=$(GENERATOR))' and commit $(OUT)/" >&2; exit 1

.PHONY: stack artifact deploy-file constraints test services bench docs dist emulator clean

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
	$(ARTIFACT) write $(OUT)

# What the CI pipeline publishes: the reviewed $(OUT)/ files, proven current (generated
# in memory and compared), lint clean, with their checksums. A bad CONFIG or GENERATOR
# is one line from scripts/artifact.py (its status 2); a stale file, a diff (status 1).
artifact: $(VENV)/.installed $(BIN)/cfn-lint
	$(ARTIFACT) check $(OUT) || { status=$$?; test $$status -ne 1 && exit $$status; $(STALE); }
	files="$$($(ARTIFACT) files $(OUT))" && \
	$(BIN)/cfn-lint --regions $(LINT_REGIONS) -- $$files && \
	cd $(OUT) && sha256sum $$(for f in $$files; do basename "$$f"; done) > SHA256SUMS

# The file infra-gen deploy sends (YAML when it fits, else the compact JSON; a
# generator's output as it is): what CI previews, plans and deploys.
deploy-file: $(VENV)/.installed
	@$(ARTIFACT) deploy-file $(OUT)

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
