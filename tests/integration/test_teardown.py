"""`make destroy` (tools.teardown) against a stack in moto: what stays is named, with the command that removes it,
before anything is deleted; nothing is deleted without a yes (or AUTO_APPROVE=1)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import boto3
import pytest

from stacks.config import STACK_NAME
from tools import teardown

REGION = "eu-west-2"
# The tools read cdk.json as the CLI does: give them the example, whatever the user's cdk.json says.
pytestmark = pytest.mark.usefixtures("example_cdk_json")

# A stack shaped like ours where it matters: a retained table, a retained bucket, and resources deleted with it.
TEMPLATE = {
    "Resources": {
        "StateAgentStateF0374D81": {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "KeySchema": [{"AttributeName": "agentArn", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "agentArn", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
            "Metadata": {"aws:cdk:path": "ConnectRealtimeState/State/AgentState/Resource"},
        },
        "AgentEventsFailedBatches1234ABCD": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",
            "Metadata": {"aws:cdk:path": "ConnectRealtimeState/AgentEvents/FailedBatches/Resource"},
        },
        "AgentEventsQuarantine2F8D9F08": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Delete"},
        "AgentEventsAgentEventStreamAE323BC0": {
            "Type": "AWS::Kinesis::Stream",
            "DeletionPolicy": "Delete",
            "Properties": {"ShardCount": 1},
        },
    }
}


class FakeCdk:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, arguments: Sequence[str]) -> int:
        self.calls.append(list(arguments))
        return 0


@pytest.fixture
def deployed(aws: None) -> dict[str, str]:
    """The stack deployed in moto, for a Connect instance of moto's account; its physical names by logical id."""
    arn = boto3.client("connect", region_name=REGION).create_instance(
        IdentityManagementType="CONNECT_MANAGED", InboundCallsEnabled=True, OutboundCallsEnabled=True
    )["Arn"]
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(StackName=STACK_NAME, TemplateBody=json.dumps(TEMPLATE))
    names = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cloudformation.list_stack_resources(StackName=STACK_NAME)["StackResourceSummaries"]
    }
    return {"instance": arn, **names}


def run(deployed: dict[str, str], *options: str, answer: str | None = None) -> tuple[int, list[str], FakeCdk]:
    cdk = FakeCdk()
    lines: list[str] = []  # printed and asked, in order

    def ask(prompt: str) -> str:
        lines.append(prompt)
        if answer is None:
            raise EOFError
        return answer

    code = teardown.main(
        [*options, "-c", f"connectInstanceArn={deployed['instance']}"], run_cdk=cdk, ask=ask, say=lines.append
    )
    return code, lines, cdk


def test_what_stays_is_named_with_its_removal_command_before_the_question(deployed: dict[str, str]) -> None:
    code, lines, cdk = run(deployed, answer="n")
    table = deployed["StateAgentStateF0374D81"]
    bucket = deployed["AgentEventsFailedBatches1234ABCD"]
    text = "\n".join(lines)
    # Then the retained table and bucket are named, by what they are and by their generated names
    assert f"State/AgentState  DynamoDB table  {table}" in text
    assert f"AgentEvents/FailedBatches  S3 bucket  {bucket}" in text
    assert f"aws dynamodb delete-table --region {REGION} --table-name {table}" in text
    assert f"aws s3 rb s3://{bucket} --force --region {REGION}" in text
    # And what is deleted with the stack is not listed as staying
    assert deployed["AgentEventsQuarantine2F8D9F08"] not in text
    assert "delete-stream" not in text
    # And the question comes after them; "n" deletes nothing
    assert lines[-2:] == [f"Delete the stack {STACK_NAME} in account 123456789012, {REGION}? [y/N] ", "not deleted"]
    assert code == 1
    assert cdk.calls == []


def test_yes_runs_cdk_destroy_and_repeats_what_stays(deployed: dict[str, str]) -> None:
    code, lines, cdk = run(deployed, answer="y")
    assert code == 0
    assert cdk.calls == [["destroy", STACK_NAME, "--force", "-c", f"connectInstanceArn={deployed['instance']}"]]
    # The commands are printed again after the deletion: the stack outputs that named them are gone now
    assert lines[-1] == f"aws s3 rb s3://{deployed['AgentEventsFailedBatches1234ABCD']} --force --region {REGION}"


def test_without_a_terminal_nothing_is_deleted_unless_auto_approved(deployed: dict[str, str]) -> None:
    code, lines, cdk = run(deployed, answer=None)
    assert code == 1
    assert cdk.calls == []
    assert any("AUTO_APPROVE=1" in line for line in lines)

    code, lines, cdk = run(deployed, "--yes", answer=None)
    assert code == 0
    assert len(cdk.calls) == 1
    assert not any(line.startswith("Delete the stack") for line in lines)


def test_a_stack_that_is_not_there_is_nothing_to_destroy(aws: None) -> None:
    arn = boto3.client("connect", region_name=REGION).create_instance(
        IdentityManagementType="CONNECT_MANAGED", InboundCallsEnabled=True, OutboundCallsEnabled=True
    )["Arn"]
    code, lines, cdk = run({"instance": arn}, answer="y")
    assert code == 0
    assert cdk.calls == []
    assert lines == [f"nothing to destroy: no stack {STACK_NAME} in account 123456789012, {REGION}"]
