# The front door: `make demo` and `make test` are all a new machine needs (Python 3.10+, Node 20+).
SHELL := /bin/bash
# A failing command anywhere in a recipe line, pipes included, fails the target.
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
SOLC_VERSION := 0.8.30

# Everything runs with the project-local toolchain: the venv (which also holds `anvil`) and the solc-js
# wrapper where py-solc-x looks for compilers.
export PATH := $(BIN):$(PATH)
export SOLCX_BINARY_PATH := $(CURDIR)/.solcx

VENV_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
SOLC := .solcx/solc-v$(SOLC_VERSION)
ANVIL := $(VENV)/bin/anvil
# Slither lives in its own venv: its pins (web3, eth-abi, eth-account, ...) differ from ape's.
AUDIT_VENV := .venv-audit
AUDIT_STAMP := $(AUDIT_VENV)/.installed

.PHONY: help setup test test-fork lint format audit demo gas-check gas-snapshot compile artifacts clean \
	postgres-check

help:
	@echo "make demo          deploy on a local anvil, mine, batch-claim, print the table"
	@echo "make test          lint + the whole test suite, the fork suite included (what CI runs)"
	@echo "make test-fork     the fork suite on polygon:mainnet-fork:foundry (\$$POLYGON_RPC_URL or a stand-in)"
	@echo "make setup         project-local toolchain: .venv, node_modules, solc-js wrapper, anvil"
	@echo "make lint          ruff check, ruff format --check, mypy on src/ and tools/"
	@echo "make audit         Slither on every contract; fails on a Medium/High finding not in audit/triage.toml"
	@echo "make gas-check     the gas report on the fork; fails if a figure is >1% above gas-snapshot.json"
	@echo "make gas-snapshot  the gas report, and deliberately refresh gas-snapshot.json and docs/gas.png"
	@echo "make artifacts     compile, and refresh the contract types shipped in src/link_ops/contracts/artifacts"

setup: $(VENV_STAMP) $(NODE_STAMP) $(SOLC) $(ANVIL)

$(VENV_STAMP): pyproject.toml requirements.lock
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade "pip>=24"
	$(VENV)/bin/python -m pip install --quiet -r requirements.lock
	$(VENV)/bin/python -m pip install --quiet --no-deps -e .
	@grep -q SOLCX_BINARY_PATH $(VENV)/bin/activate || \
	  echo 'export SOLCX_BINARY_PATH="$(CURDIR)/.solcx"  # link-ops: solc-js wrapper' >> $(VENV)/bin/activate
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts  # anvil's postinstall is not needed: its platform package holds the binary
	touch $@

# py-solc-x finds `solc-v<version>` here and downloads nothing.
$(SOLC): tools/solc.cjs $(NODE_STAMP)
	mkdir -p .solcx
	printf '#!/bin/sh\nexec node "%s/tools/solc.cjs" "$$@"\n' "$(CURDIR)" > $@
	chmod +x $@
	$@ --version | grep -q "Version: $(SOLC_VERSION)+commit"

# The native anvil from npm's platform package, linked into the venv so it is on PATH when activated.
$(ANVIL): | $(NODE_STAMP) $(VENV_STAMP)
	ln -sf "$$(ls -d $(CURDIR)/node_modules/@foundry-rs/anvil-*/bin/anvil | head -n1)" $@
	$@ --version >/dev/null

# Made on first use by `make audit` (and so by `make test`), not by `make setup`.
$(AUDIT_STAMP): audit/requirements.lock
	test -x $(AUDIT_VENV)/bin/python || $(PYTHON) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/python -m pip install --quiet --upgrade "pip>=24"
	$(AUDIT_VENV)/bin/python -m pip install --quiet -r audit/requirements.lock
	$(AUDIT_VENV)/bin/slither --version >/dev/null
	touch $@

# ape rebuilds a contract only when its own file changed; tools/contracts_build.py rebuilds every contract
# when any source, the compiler settings or the versions changed, so the bytes are always a clean build's.
compile: setup
	python tools/contracts_build.py

# The contract types that ship inside the package (src/link_ops/contracts/artifacts): after a contract
# change, run this and commit them; the suite fails while they differ from the build.
artifacts: setup
	python tools/contracts_build.py --artifacts

lint: setup
	ruff check src scripts tests tools
	ruff format --check src scripts tests tools
	mypy

format: setup
	ruff format src scripts tests tools
	ruff check --fix src scripts tests tools

# Two workers (pytest-xdist) on a 2-core machine, each test file on one worker (its module fixtures built
# once); tests/conftest.py puts the longest files first, and --no-loadscope-reorder keeps that order
# (pytest-xdist would sort the files by their number of tests).
TEST_WORKERS ?= auto
test: setup lint compile postgres-check
	ape test tests --ignore=tests/fork -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder
	$(MAKE) --no-print-directory test-fork
	$(MAKE) --no-print-directory gas-check
	$(MAKE) --no-print-directory audit

# The store's suites run on SQLite and on PostgreSQL: each test worker starts a throwaway cluster from
# Debian's postgresql package (link_ops.testing.postgres) and stops it at the end. Without its binaries this
# fails at once, saying what to install (.ci/run installs it); $LINK_OPS_TEST_POSTGRES_URL points the tests
# at an existing server instead.
postgres-check: setup
	python -m link_ops.testing.postgres

# Slither over every contract folder through the solc-js wrapper, offline (tools/audit.py, about 35 s): a
# finding of impact Medium or High that audit/triage.toml does not accept with a reason fails; lower ones
# are counted; stale triage entries are reported (AUDIT_FLAGS=--strict-stale fails on them, --show-low
# lists the lower findings).
AUDIT_FLAGS ?=
audit: setup $(AUDIT_STAMP)
	python tools/audit.py --solc $(SOLC) $(AUDIT_FLAGS)

# Forks $$POLYGON_RPC_URL when set; otherwise the session starts a local anvil as chain 137 and deploys on it.
test-fork: setup compile
	ape test tests/fork --network polygon:mainnet-fork:foundry

demo: setup compile
	ape run demo

# The gas report (reports/gas.json, gas.md, gas.png), like `forge snapshot --check` / `forge snapshot`.
gas-check: setup compile
	ape run gas_bench --check

gas-snapshot: setup compile
	ape run gas_bench --snapshot

clean:
	rm -rf .build contracts/.cache reports
