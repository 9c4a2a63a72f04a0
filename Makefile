# connect-realtime-state: every target creates what it needs, so a fresh clone runs
#   make demo    (set-up + the real stack deployed into a local AWS emulator, driven by a simulated contact centre)
#   make test    (set-up + every check: lint, types, unit, integration, infrastructure, synth, cfn-lint, cdk-nag)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
LAYER := build/powertools-layer
SAM := $(HOME)/.local/bin/sam
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export CDK_DISABLE_CLI_TELEMETRY := true
export SAM_CLI_TELEMETRY := 0
export PYTHONDONTWRITEBYTECODE := 1
CDK := npx --no-install cdk

.PHONY: help setup demo replay synth test lint typecheck unit integration infrastructure cfn-lint sam-validate deploy diff destroy bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# --- environment -----------------------------------------------------------------------------
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(UV): $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv

$(VENV)/.installed: $(UV) requirements.txt requirements-dev.txt lambdas/requirements.txt
	$(UV) pip install --quiet --python $(BIN)/python --compile-bytecode -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The functions' dependencies, built for the Lambda runtime (python3.13, arm64) without Docker:
# uv picks the manylinux aarch64 wheels, --no-deps keeps the runtime's own boto3/botocore.
$(LAYER)/.installed: $(UV) lambdas/requirements.txt
	rm -rf $(LAYER)
	$(UV) pip install --quiet --no-deps --target $(LAYER)/python --python-platform aarch64-manylinux2014 \
		--python-version 3.13 --only-binary :all: -r lambdas/requirements.txt
	find $(LAYER) -name '__pycache__' -prune -exec rm -rf {} +
	touch $@

$(SAM): $(UV)
	$(UV) tool install --quiet aws-sam-cli==1.170.0

setup: $(VENV)/.installed node_modules/.installed $(LAYER)/.installed ## create .venv, node_modules and the Lambda layer

# --- main job --------------------------------------------------------------------------------
demo: setup ## deploy the stack into a local moto server, run a simulated contact centre through it, show the wallboard
	$(BIN)/python -m demo.run $(DEMO_ARGS)

replay: setup ## replay a capture through the stack on a local moto server: make replay FILE=capture.jsonl
	@test -n "$(FILE)" || { echo "usage: make replay FILE=capture.jsonl (one Kinesis record or EventBridge event per line)"; exit 2; }
	$(BIN)/python -m demo.run --replay "$(FILE)" $(DEMO_ARGS)

synth: setup ## synthesize the CloudFormation template into cdk.out/
	PATH=$(CURDIR)/$(BIN):$$PATH $(CDK) synth --quiet
	@echo "template: cdk.out/ConnectRealtimeState.template.json"

deploy: setup ## cdk deploy with cdk.json context (pass more with CDK_ARGS='-c key=value')
	PATH=$(CURDIR)/$(BIN):$$PATH $(CDK) deploy --require-approval never $(CDK_ARGS)

diff: setup ## cdk diff against the deployed stack
	PATH=$(CURDIR)/$(BIN):$$PATH $(CDK) diff $(CDK_ARGS)

destroy: setup ## cdk destroy (the state tables are retained)
	PATH=$(CURDIR)/$(BIN):$$PATH $(CDK) destroy --force $(CDK_ARGS)

# --- checks ----------------------------------------------------------------------------------
lint: setup ## ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup ## mypy (strict on lambdas/ and stacks/)
	$(BIN)/mypy

unit: setup ## pure domain tests, no network
	$(BIN)/pytest -q tests/unit

integration: setup ## handlers against moto
	$(BIN)/pytest -q tests/integration

infrastructure: setup ## aws_cdk.assertions on the synthesized stack, cdk-nag
	$(BIN)/pytest -q tests/infrastructure

cfn-lint: synth ## cfn-lint the synthesized template (zero errors)
	$(BIN)/cfn-lint --non-zero-exit-code error cdk.out/ConnectRealtimeState.template.json

sam-validate: synth $(SAM) ## sam validate --lint on the synthesized template
	$(SAM) validate --lint --region eu-west-2 --template cdk.out/ConnectRealtimeState.template.json

test: lint typecheck synth $(SAM) ## every check; what CI runs
	$(BIN)/pytest -q -n 2 --dist loadgroup tests
	$(BIN)/cfn-lint --non-zero-exit-code error cdk.out/ConnectRealtimeState.template.json
	$(SAM) validate --lint --region eu-west-2 --template cdk.out/ConnectRealtimeState.template.json

bench: setup ## throughput and DynamoDB requests per event (figures printed, not asserted)
	PYTHONPATH=lambdas:. $(BIN)/python -m tests.bench.run

clean: ## remove everything make created
	rm -rf $(VENV) node_modules build cdk.out .pytest_cache .mypy_cache .ruff_cache
