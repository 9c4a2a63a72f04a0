"""Builds the CDK app from its context: shared by app.py (the CLI: cdk.json and -c) and the tests, which build it
from `stacks.config.example_context()` so that the user's cdk.json never decides what they check."""

from __future__ import annotations

import os

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.config import STACK_NAME, load_config
from stacks.realtime_state_stack import RealtimeStateStack

__all__ = ["STACK_NAME", "build_app"]


def build_app(app: cdk.App) -> RealtimeStateStack:
    """Validate the configuration, add the stack and the cdk-nag checks. Raises ConfigError on bad context."""
    # All of it: a key only on the command line (-c) counts as much as one in cdk.json, and a typo fails.
    config = load_config(app.node.get_all_context())
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
