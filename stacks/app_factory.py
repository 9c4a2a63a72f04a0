"""Builds the CDK app from context: shared by app.py (the CLI) and the tests, which must load cdk.json themselves."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.config import load_config
from stacks.realtime_state_stack import RealtimeStateStack

STACK_NAME = "ConnectRealtimeState"
CDK_JSON = Path(__file__).resolve().parents[1] / "cdk.json"


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return context


def build_app(app: cdk.App) -> RealtimeStateStack:
    """Validate the configuration, add the stack and the cdk-nag checks. Raises ConfigError on bad context."""
    config = load_config(_context_of(app))
    stack = RealtimeStateStack(
        app,
        STACK_NAME,
        config=config,
        description="connect-realtime-state: Amazon Connect agent and contact events -> current state in DynamoDB",
        # The instance's Region: Connect publishes its contact events there.
        env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=config.region),
    )
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return stack


def _context_of(app: cdk.App) -> dict[str, Any]:
    node = app.node
    return {key: node.try_get_context(key) for key in cdk_json_context()}
