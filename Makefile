# Two commands do everything: `make dev` runs the app, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
MSO_DATA_DIR ?= .data
export PORT MSO_DATA_DIR

.PHONY: dev test test-unit test-packaging test-integration test-e2e lint token reindex bench ui-deps chromium java ddb-local mcp2 clean help \
	package deploy destroy token-aws

help:
	@echo "make dev     run API + dashboard on http://127.0.0.1:$(PORT) (DynamoDB Local, data in $(MSO_DATA_DIR)/)"
	@echo "make test    install what the tests need and run the whole suite"
	@echo "make token TENANT=name   print a new bearer token for a tenant"
	@echo "make reindex [TENANT=dev] [PROJECT=id]   rebuild the search indexes from the table"
	@echo "make bench   run the benchmarks, results in docs/benchmarks.md"
	@echo "make test-unit | test-packaging | test-integration | test-e2e   one suite"
	@echo "make package | deploy | destroy   AWS (docs/deploy.md)"

# `make dev` installs only what running needs (requirements-local.txt); the test toolchain
# (pytest, playwright, cfn-lint, the SAM translator, ...) comes with the first test or lint target.
$(BIN)/.installed-run: requirements.txt requirements-local.txt
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-local.txt
	@touch $@

$(BIN)/.installed: $(BIN)/.installed-run requirements-dev.txt cli/pyproject.toml
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q -e ./cli
	@touch $@

# The MCP SDK 2.x client (stateless revision) for tests/integration/test_mcp_sdk_live.py, in its own venv.
MCP2 := .venv-mcp2
mcp2: $(MCP2)/.installed
$(MCP2)/.installed: requirements-mcp2.txt
	@test -d $(MCP2) || $(PYTHON) -m venv $(MCP2)
	$(MCP2)/bin/pip install -q -r requirements-mcp2.txt
	@touch $@

# Front-end libraries come from the npm registry, pinned by package-lock.json, copied to ui/vendor.
ui-deps: ui/vendor/.installed
ui/vendor/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	node scripts/vendor-ui.js
	@touch $@

ddb-local: $(BIN)/.installed-run
	$(BIN)/python -c "from devtools import ddb; print(ddb.ensure_jar(ddb.default_install_dir()))"

chromium:
	@command -v chromium >/dev/null || { echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || { echo "could not install chromium (need root/apt)"; exit 1; }; }

# DynamoDB Local runs on Java 17 (make dev falls back to moto without it; the tests need it).
java:
	@command -v java >/dev/null || { echo "installing Java 17 for DynamoDB Local"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null) \
	  || { echo "could not install Java 17 (need root/apt)"; exit 1; }; }

dev: $(BIN)/.installed-run ui-deps
	$(BIN)/python -m devtools.dev

token: $(BIN)/.installed-run
	@$(BIN)/python -m devtools.token "$(TENANT)"

# Rebuild the search indexes from the table (TENANT defaults to make dev's; PROJECT= one project).
# On AWS: python -m chalicelib.search.reindex --tenant T --queue (docs/search.md).
reindex: $(BIN)/.installed-run
	@$(BIN)/python -m devtools.reindex "$(TENANT)" "$(PROJECT)"

lint: $(BIN)/.installed
	$(BIN)/ruff check .

test: $(BIN)/.installed ui-deps ddb-local java chromium mcp2
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

# Unit tests: moto, no network, no build; `make test-packaging` builds the Lambda package and lints it.
test-unit: $(BIN)/.installed
	$(BIN)/python -m pytest -q -m "not packaging" tests/unit

test-packaging: $(BIN)/.installed
	$(BIN)/python -m pytest -q -m packaging tests/unit

test-integration: $(BIN)/.installed ddb-local java mcp2
	$(BIN)/python -m pytest -q tests/integration

test-e2e: $(BIN)/.installed ui-deps ddb-local java chromium
	$(BIN)/python -m pytest -q tests/e2e

bench: $(BIN)/.installed
	$(BIN)/python -m bench

# AWS (docs/deploy.md). `package` needs no credentials; the others use the usual AWS environment.
# DEPLOY_ARGS passes options to deploy/stack.py, e.g. DEPLOY_ARGS="--existing-table mso-restored".
STACK ?= mso
AWS_ARGS = --stack $(STACK) $(if $(REGION),--region $(REGION))

package: $(BIN)/.installed
	$(BIN)/python -m deploy.package --stage prod --out build/package

deploy: package ui-deps
	$(BIN)/python -m deploy.stack deploy $(AWS_ARGS) $(DEPLOY_ARGS)

destroy: $(BIN)/.installed
	$(BIN)/python -m deploy.stack destroy $(AWS_ARGS) $(if $(YES),--yes)

token-aws: $(BIN)/.installed
	@$(BIN)/python -m deploy.token $(AWS_ARGS) "$(TENANT)"

clean:
	rm -rf $(VENV) $(MCP2) node_modules ui/vendor build .pytest_cache .ruff_cache
