"""What every tool shares: the stack's outputs, AWS clients, the command line, and the one error an operator sees.

The operator types the stack name (or nothing): every resource is read from the stack's outputs with DescribeStacks,
never dug out of describe-stack-resources.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from stacks.config import CDK_JSON, STACK_NAME, ConfigError, load_config

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

# Throttling (a shard's 5 reads/s are shared with the live mapping, SQS and Lambda limits) is retried with backoff.
RETRYING = Config(retries={"mode": "standard", "max_attempts": 10})


class OperationError(Exception):
    """Why an operation cannot go on, in one line for the operator (the tools print it and exit with 2)."""


@dataclass(frozen=True)
class StackOutputs:
    stack_name: str
    values: Mapping[str, str]

    def __getitem__(self, key: str) -> str:
        try:
            return self.values[key]
        except KeyError:
            raise OperationError(
                f"stack {self.stack_name} has no output {key}: deploy this version of the stack first (make deploy)"
            ) from None

    def get(self, key: str) -> str | None:
        return self.values.get(key)


def read_outputs(cloudformation: CloudFormationClient, stack_name: str) -> StackOutputs:
    (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    return StackOutputs(stack_name, {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])})


@dataclass(frozen=True)
class Aws:
    """Clients for one Region, with the SDK's usual credentials (AWS_PROFILE, environment, SSO, ...)."""

    region: str

    def client(self, service: str, config: Config | None = None) -> Any:
        # Any: boto3-stubs is installed for some services only (not lambda or s3); callers annotate what they use.
        return boto3.client(service, region_name=self.region, config=RETRYING.merge(config or Config()))  # type: ignore[call-overload]

    def outputs(self, stack_name: str) -> StackOutputs:
        return read_outputs(self.client("cloudformation"), stack_name)


def default_region() -> str:
    """AWS_REGION (or AWS_DEFAULT_REGION) when set, else the Region `make deploy` deploys to: that of cdk.json's
    (first) connectInstanceArn."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if os.environ.get(name):
            return os.environ[name]
    try:
        return load_config(json.loads(CDK_JSON.read_text())["context"]).region
    except ConfigError as error:
        raise OperationError(f"{error} (or give --region)") from None


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    """The options every tool takes."""
    result = argparse.ArgumentParser(prog=f"python -m {prog}", description=description)
    result.add_argument("--stack", default=STACK_NAME, help="the deployed stack (default: %(default)s)")
    result.add_argument("--region", help="default: AWS_REGION, else the Region of cdk.json's connectInstanceArn")
    return result


def aws_for(args: argparse.Namespace) -> Aws:
    return Aws(args.region or default_region())
