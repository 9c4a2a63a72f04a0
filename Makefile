# connect-realtime-state: every target creates what it needs, so a fresh clone runs
#   make demo    (set-up + the real stack deployed into a local AWS emulator, driven by a simulated contact centre)
#   make test    (set-up + every check: lint, types, unit, integration, infrastructure, synth, cfn-lint, cdk-nag)
#   make test-fast  (lint, types and every test not marked slow: the loop while editing)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
LAYER := build/powertools-layer
# Tools the project installs for itself live in the project (make clean removes them), not under $HOME.
TOOLS := .tools
SAM := $(TOOLS)/bin/sam
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export CDK_DISABLE_CLI_TELEMETRY := true
export SAM_CLI_TELEMETRY := 0
# The CLI's bundled AWS SDK warns on every AWS call that SDK releases after January 2027 need Node 22: the CLI is pinned
# (package.json), so none of those releases reaches it.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED := true
export PYTHONDONTWRITEBYTECODE := 1
CDK := npx --no-install cdk
PREFLIGHT := $(BIN)/python -m tools.preflight
# make deploy/destroy AUTO_APPROVE=1 (automation): deploy IAM and security-group broadening, and destroy, unasked.
REQUIRE_APPROVAL = $(if $(filter 1 yes true,$(AUTO_APPROVE)),never,broadening)
SAM_VALIDATE = $(SAM) validate --lint --region eu-west-2 --template cdk.out/ConnectRealtimeState.template.json
# sam validate --lint is cfn-lint, which holds for any CloudFormation template: its warning that CDK apps are not
# officially supported (true of SAM's build and deploy) says nothing about this check, so it is left out.
WITHOUT_SAM_CDK_WARNING := sed -e '/CDK apps are not officially supported/d' -e '/alternative command: cdk doctor/d'

.PHONY: help setup demo replay synth test test-fast lint typecheck unit integration infrastructure cfn-lint sam-validate bootstrap deploy diff destroy invoke sam-image sam-check bench clean

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
	UV_TOOL_DIR=$(abspath $(TOOLS))/uv UV_TOOL_BIN_DIR=$(abspath $(TOOLS))/bin $(UV) tool install --quiet aws-sam-cli==1.170.0

# The wallboard's browser test drives a headless Chromium: Debian's package where make runs as root (here and in CI),
# otherwise the build Playwright downloads into .tools/playwright (tests/browser/conftest.py looks there).
CHROMIUM := /usr/bin/chromium
.PHONY: browser
browser: $(VENV)/.installed ## the headless Chromium of the wallboard's browser test (Debian's, else Playwright's)
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else PLAYWRIGHT_BROWSERS_PATH=$(abspath $(TOOLS))/playwright $(BIN)/playwright install chromium; fi

setup: $(VENV)/.installed node_modules/.installed $(LAYER)/.installed ## create .venv, node_modules and the Lambda layer

# --- main job --------------------------------------------------------------------------------
demo: setup ## deploy the stack into a local moto server, run a simulated contact centre through it, show the wallboard
	$(BIN)/python -m demo.run $(DEMO_ARGS)

replay: setup ## replay a capture through the stack on a local moto server: make replay FILE=capture.jsonl
	@test -n "$(FILE)" || { echo "usage: make replay FILE=capture.jsonl (one Kinesis record or EventBridge event per line)"; exit 2; }
	$(BIN)/python -m demo.run --replay "$(FILE)" $(DEMO_ARGS)

synth: setup ## synthesize the CloudFormation template into cdk.out/ (with CDK_ARGS, as deploy would)
	$(CDK) synth --quiet $(CDK_ARGS)
	@echo "template: cdk.out/ConnectRealtimeState.template.json"

# bootstrap, deploy, diff and destroy first say in one line what is missing (credentials, account, bootstrap).
bootstrap: setup ## cdk bootstrap the account and Region of connectInstanceArn (once per account and Region)
	@$(PREFLIGHT) bootstrap $(CDK_ARGS)
	$(CDK) bootstrap $(CDK_ARGS)

deploy: setup ## cdk deploy with cdk.json context (more: CDK_ARGS='-c key=value'); asks before IAM broadening (AUTO_APPROVE=1: never)
	@$(PREFLIGHT) deploy $(CDK_ARGS)
	$(CDK) deploy --require-approval $(REQUIRE_APPROVAL) $(CDK_ARGS)

diff: setup ## cdk diff against the deployed stack
	@$(PREFLIGHT) diff $(CDK_ARGS)
	$(CDK) diff $(CDK_ARGS)

destroy: setup ## delete the stack, after naming what stays (the state tables, the failed batches) and asking (AUTO_APPROVE=1: not)
	@$(BIN)/python -m tools.teardown $(if $(filter never,$(REQUIRE_APPROVAL)),--yes) $(CDK_ARGS)

invoke: $(SAM) ## sam local invoke of a function against the local emulator (Docker): make invoke FUNCTION=agent_events [EVENT=...]
	@test -n "$(FUNCTION)" || { echo "usage: make invoke FUNCTION=agent_events (or contact_events, enrichment, board_changes) [EVENT=events/...]"; exit 2; }
	@$(MAKE) --no-print-directory synth
	$(BIN)/python -m tools.sam_invoke "$(FUNCTION)" $(if $(EVENT),--event "$(EVENT)")

# Offline stand-in for AWS's Lambda base image (no registry reachable): needs root, Docker, debootstrap, qemu-user-static.
sam-image: $(BIN)/python ## build the stand-in for public.ecr.aws/lambda/python:3.13-arm64 (once; minutes; not AWS's image)
	tools/sam_image/build.sh $(TOOLS)/sam_image

sam-check: $(SAM) ## every function by sam local invoke against the local emulator, effects checked (Docker; not in make test)
	@$(MAKE) --no-print-directory synth
	$(BIN)/python -m tools.sam_invoke --check

# --- operations: the README's runbook, against the deployed stack (STACK=..., REGION=... override) ---------
STACK ?= ConnectRealtimeState
OPS := $(BIN)/python -m ops
OPS_OPTIONS = --stack $(STACK) $(if $(REGION),--region $(REGION))
yes = $(filter 1 yes true,$(1))
.PHONY: replay-stream replay-failed-batches replay-contacts redrive put-agent-records clear-state

replay-stream: $(VENV)/.installed ## replay agent events: make replay-stream FROM=2026-11-20T08:00:00Z [TO=...] (FROM=trim-horizon: all)
	@test -n "$(FROM)" || { echo "usage: make replay-stream FROM=<ISO 8601 time, or trim-horizon> [TO=<ISO 8601 time>]"; exit 2; }
	$(OPS).replay_stream $(OPS_OPTIONS) --from "$(FROM)" $(if $(TO),--to "$(TO)")

replay-failed-batches: $(VENV)/.installed ## replay the agent batches Lambda gave up on, from their S3 bucket [DELETE=1]
	$(OPS).replay_stream $(OPS_OPTIONS) --failed-batches $(if $(call yes,$(DELETE)),--delete-replayed)

replay-contacts: $(VENV)/.installed ## replay contact events from the archive: make replay-contacts FROM=... [TO=...] [ENRICH=1]
	@test -n "$(FROM)" || { echo "usage: make replay-contacts FROM=<ISO 8601 time> [TO=<ISO 8601 time>] [ENRICH=1]"; exit 2; }
	$(OPS).replay_contacts $(OPS_OPTIONS) --from "$(FROM)" $(if $(TO),--to "$(TO)") $(if $(call yes,$(ENRICH)),--enrich)

redrive: $(VENV)/.installed ## send a queue's messages back where they came from: make redrive QUEUE=<name> (no QUEUE: the list)
	@test -n "$(QUEUE)" || { $(OPS).redrive --list; echo "usage: make redrive QUEUE=<one of the above>"; exit 2; }
	$(OPS).redrive $(OPS_OPTIONS) "$(QUEUE)"

put-agent-records: $(VENV)/.installed ## put the quarantined agent records back on the stream, byte for byte
	$(OPS).put_agent_records $(OPS_OPTIONS)

clear-state: $(VENV)/.installed ## delete every item of the state tables, before a rebuild: make clear-state YES=1 [TABLE=agent]
	$(OPS).clear_state $(OPS_OPTIONS) $(if $(TABLE),--table $(TABLE)) $(if $(call yes,$(YES)),--yes)

# --- checks ----------------------------------------------------------------------------------
# Two workers; tests that share a synthesized app, a CLI or an emulator are kept on one worker (xdist_group).
PYTEST := $(BIN)/python -m pytest -q -n 2 --dist loadgroup -p tools.pytest_quiet_xdist
# make test measures line coverage of the functions' code (build/coverage/) and fails under the floor, which is set a
# little under what the whole suite measured.
COVERAGE_FLOOR := 94
COVERAGE := --cov=lambdas/connect_state --cov-report=term-missing:skip-covered --cov-fail-under=$(COVERAGE_FLOOR)

lint: setup ## ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup ## mypy (strict on lambdas/, stacks/, demo/, ops/, tools/, tests/)
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
	@echo "$(SAM_VALIDATE)"; $(SAM_VALIDATE) 2>&1 | $(WITHOUT_SAM_CDK_WARNING)

test: lint typecheck synth $(SAM) browser ## every check, every test, coverage of lambdas/ (a floor); what CI runs
	$(PYTEST) $(COVERAGE) tests
	$(BIN)/cfn-lint --non-zero-exit-code error cdk.out/ConnectRealtimeState.template.json
	@echo "$(SAM_VALIDATE)"; $(SAM_VALIDATE) 2>&1 | $(WITHOUT_SAM_CDK_WARNING)

test-fast: lint typecheck ## lint, types and every test not marked slow (no emulator, CLI or demo run): while editing
	$(PYTEST) -m "not slow" tests

bench: setup ## throughput, client CPU per event, DynamoDB requests per event, import time (figures printed, not asserted)
	PYTHONPATH=lambdas:. $(BIN)/python -m tests.bench.run

.PHONY: cost
cost: setup ## monthly AWS cost at 100 and 1,000 agents: a measured simulated hour x list prices (COST_ARGS='--agents 20')
	PYTHONPATH=lambdas:. $(BIN)/python -m tests.bench.cost $(COST_ARGS)

.PHONY: board-scale
board-scale: setup ## the wallboard at 1,000 agents and 100 boards: pushes, reads and monthly cost vs the naive design (BOARD_SCALE_ARGS='--agents 200')
	PYTHONPATH=lambdas:. $(BIN)/python -m tests.bench.board_scale $(BOARD_SCALE_ARGS)

clean: ## remove everything make created
	rm -rf $(VENV) node_modules build cdk.out $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
