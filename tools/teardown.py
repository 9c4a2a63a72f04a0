"""`make destroy`: delete the stack, after saying exactly what stays behind and how to remove it.

    .venv/bin/python -m tools.teardown [--yes] [CDK_ARGS...]

What stays is read from the deployed stack itself (its template's DeletionPolicy, its resources' physical names), not
from this checkout, so it is right for whatever version was deployed. The generated names are printed before the
question and again after the deletion: once the stack is gone, no output names them any more. `--yes`
(`make destroy AUTO_APPROVE=1`) deletes without asking; without a terminal to ask, nothing is deleted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError

from stacks.config import STACK_NAME, ConfigError
from tools.preflight import PreflightError, check, prepare

REPO = Path(__file__).resolve().parents[1]
CDK = ["npx", "--no-install", "cdk"]
RETAINING_POLICIES = ("Retain", "RetainExceptOnCreate")


@dataclass(frozen=True)
class Kind:
    """What a retained resource is, in words, and the AWS CLI commands that delete it ({name}: its physical id)."""

    noun: str
    commands: tuple[str, ...]


_TABLE = Kind(
    "DynamoDB table",
    (
        # Deletion protection (when on) must be turned off first; turning it off when it is off changes nothing.
        "aws dynamodb update-table --region {region} --table-name {name} --no-deletion-protection-enabled",
        "aws dynamodb delete-table --region {region} --table-name {name}",
    ),
)
KINDS: dict[str, Kind] = {
    "AWS::DynamoDB::GlobalTable": _TABLE,
    "AWS::DynamoDB::Table": _TABLE,
    "AWS::Kinesis::Stream": Kind(
        "Kinesis stream", ("aws kinesis delete-stream --region {region} --stream-name {name}",)
    ),
    # `rb --force` deletes the objects first (the current versions: a versioned bucket needs its versions deleted too).
    "AWS::S3::Bucket": Kind("S3 bucket", ("aws s3 rb s3://{name} --force --region {region}",)),
    "AWS::SQS::Queue": Kind("SQS queue", ("aws sqs delete-queue --region {region} --queue-url {name}",)),
    "AWS::Logs::LogGroup": Kind("log group", ("aws logs delete-log-group --region {region} --log-group-name {name}",)),
    "AWS::SNS::Topic": Kind("SNS topic", ("aws sns delete-topic --region {region} --topic-arn {name}",)),
    "AWS::Cognito::UserPool": Kind(
        "Cognito user pool",
        (
            # Deletion protection first (update-user-pool resets the settings it is not given: it is about to go).
            "aws cognito-idp update-user-pool --region {region} --user-pool-id {name} --deletion-protection INACTIVE",
            "aws cognito-idp delete-user-pool --region {region} --user-pool-id {name}",
        ),
    ),
    "AWS::KMS::Key": Kind(
        "KMS key", ("aws kms schedule-key-deletion --region {region} --key-id {name} --pending-window-in-days 7",)
    ),
}


@dataclass(frozen=True)
class Retained:
    label: str  # the construct path inside the stack: "State/AgentState"
    resource_type: str
    name: str  # the physical id

    def describe(self) -> str:
        kind = KINDS.get(self.resource_type)
        return f"  {self.label}  {kind.noun if kind else self.resource_type}  {self.name}"

    def commands(self, region: str) -> list[str]:
        kind = KINDS.get(self.resource_type)
        if kind is None:
            return [f"# {self.resource_type} {self.name}: delete it in the console"]
        return [command.format(region=region, name=self.name) for command in kind.commands]


def label(cdk_path: str) -> str:
    """ "ConnectRealtimeState/State/AgentState/Resource" -> "State/AgentState": the construct, as the code names it."""
    parts = cdk_path.split("/")[1:]
    return "/".join(parts[:-1] if parts and parts[-1] == "Resource" and len(parts) > 1 else parts)


def retained_resources(session: boto3.Session, region: str, stack_name: str = STACK_NAME) -> list[Retained]:
    """The deployed stack's resources that CloudFormation keeps when the stack is deleted, with their names."""
    cloudformation = session.client("cloudformation", region_name=region)
    body: Any = cloudformation.get_template(StackName=stack_name, TemplateStage="Original")["TemplateBody"]
    template = json.loads(body) if isinstance(body, str) else body
    names = {
        summary["LogicalResourceId"]: summary.get("PhysicalResourceId", "")
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name)
        for summary in page["StackResourceSummaries"]
    }
    return [
        Retained(
            label(resource.get("Metadata", {}).get("aws:cdk:path", f"{stack_name}/{logical_id}")),
            resource["Type"],
            names.get(logical_id) or f"<{logical_id}: not created>",
        )
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("DeletionPolicy") in RETAINING_POLICIES and logical_id in names
    ]


def _run_cdk(arguments: Sequence[str]) -> int:
    return subprocess.run([*CDK, *arguments], cwd=REPO, check=False).returncode


def main(
    argv: Sequence[str] | None = None,
    *,
    run_cdk: Callable[[Sequence[str]], int] = _run_cdk,
    ask: Callable[[str], str] = input,
    say: Callable[[str], None] = print,
) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    auto_approve = "--yes" in arguments
    cdk_arguments = [argument for argument in arguments if argument != "--yes"]
    try:
        config, session, qualifier = prepare("destroy", cdk_arguments)
        ready = check("destroy", config, session, qualifier=qualifier)
        if not ready.stack_exists:
            say(f"nothing to destroy: no stack {STACK_NAME} in account {ready.account}, {ready.region}")
            return 0
        kept = retained_resources(session, ready.region)
    except (ConfigError, PreflightError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except BotoCoreError as error:
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        return 1

    commands = [command for resource in kept for command in resource.commands(ready.region)]
    if kept:
        say(
            f"Deleting stack {STACK_NAME} (account {ready.account}, {ready.region}) keeps these, with their data "
            "(they go on costing what they store):"
        )
        for resource in kept:
            say(resource.describe())
        say("To delete them too, once you mean to (these names are not shown anywhere once the stack is gone):")
        for command in commands:
            say(f"  {command}")
    if not auto_approve:
        try:
            answer = ask(f"Delete the stack {STACK_NAME} in account {ready.account}, {ready.region}? [y/N] ")
        except EOFError:
            say("not deleted: no terminal to confirm on; run `make destroy AUTO_APPROVE=1` to delete without asking")
            return 1
        if answer.strip().lower() not in ("y", "yes"):
            say("not deleted")
            return 1

    code = run_cdk(["destroy", STACK_NAME, "--force", *cdk_arguments])
    if code != 0:
        return code
    if kept:
        say(f"Stack {STACK_NAME} deleted. Still in account {ready.account}, {ready.region}; to delete them:")
        for command in commands:
            say(command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
