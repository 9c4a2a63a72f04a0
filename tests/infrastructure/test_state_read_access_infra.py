"""The read-only policy a WFM tool or a wallboard attaches: reads of the state tables and indexes, nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Annotations, Match

from tests.infrastructure.conftest import resources, synth

pytestmark = pytest.mark.xdist_group("cdk")
KEY = "arn:aws:kms:eu-west-2:111122223333:key/11111111-2222-3333-4444-555555555555"
READ_ACTIONS = {
    "dynamodb:BatchGetItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
}


def read_only_policy(template: Any) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (logical_id, resource["Properties"])
        for logical_id, resource in resources(template, "AWS::IAM::ManagedPolicy").items()
        if "StateReadAccess" in resource.get("Metadata", {}).get("aws:cdk:path", "")
    ]
    return found


def statements(template: Any) -> list[dict[str, Any]]:
    return read_only_policy(template)[1]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def arn_text(value: Any) -> str:
    """A resource ARN as the template writes it, flattened: `{"Fn::GetAtt": [id, "Arn"]}` -> `id.Arn`, joins joined."""
    if isinstance(value, str):
        return value
    if "Fn::GetAtt" in value:
        return ".".join(value["Fn::GetAtt"])
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(arn_text(part) for part in parts)
    raise AssertionError(f"unexpected resource form {value}")


def state_tables_and_indexes(template: Any) -> set[str]:
    """Every state table's ARN and every index of it, read from the synthesized tables (not from the policy)."""
    arns = set()
    for logical_id, table in resources(template, "AWS::DynamoDB::GlobalTable").items():
        if "/State/" not in table["Metadata"]["aws:cdk:path"]:
            continue  # the enrichment's call-slot table is bookkeeping, not state
        arns.add(f"{logical_id}.Arn")
        for index in table["Properties"].get("GlobalSecondaryIndexes", []):
            arns.add(f"{logical_id}.Arn/index/{index['IndexName']}")
    return arns


def test_read_only_policy_allows_only_reads_of_the_state_tables_and_their_indexes() -> None:
    _, template = synth()
    (statement,) = statements(template)
    assert statement["Effect"] == "Allow"
    assert set(as_list(statement["Action"])) == READ_ACTIONS
    resources_named = {arn_text(resource) for resource in as_list(statement["Resource"])}
    assert resources_named == state_tables_and_indexes(template)
    assert len(resources_named) == 5  # the agent table, the contact table, byQueue, byAgent and byQueueEnqueued


def test_no_action_of_the_read_only_policy_can_change_anything() -> None:
    _, template = synth(kmsKeyArn=KEY)
    actions = [action for statement in statements(template) for action in as_list(statement["Action"])]
    writes = ("Put", "Update", "Delete", "Write", "Create", "Restore", "Import", "Encrypt", "GenerateDataKey", "*")
    assert [action for action in actions if any(word in action.split(":")[1] for word in writes)] == []
    assert "dynamodb:ConditionCheckItem" not in actions  # a transaction write's condition, not a read


def test_with_a_customer_key_the_policy_may_decrypt_with_that_key_only_through_dynamodb() -> None:
    _, template = synth(kmsKeyArn=KEY)
    (kms_statement,) = [s for s in statements(template) if any(a.startswith("kms:") for a in as_list(s["Action"]))]
    assert set(as_list(kms_statement["Action"])) == {"kms:Decrypt", "kms:DescribeKey"}
    assert kms_statement["Resource"] == KEY
    assert kms_statement["Condition"] == {"StringEquals": {"kms:ViaService": "dynamodb.eu-west-2.amazonaws.com"}}


def test_without_a_customer_key_the_policy_has_no_kms_statement() -> None:
    _, template = synth()
    assert [s for s in statements(template) if any(a.startswith("kms:") for a in as_list(s["Action"]))] == []


def test_policy_is_attached_to_no_one_and_its_arn_is_an_output() -> None:
    _, template = synth()
    logical_id, policy = read_only_policy(template)
    assert not {"Roles", "Users", "Groups"} & set(policy)  # the reader's owner attaches it to the reader's role
    assert template.to_json()["Outputs"]["StateReadOnlyPolicyArn"]["Value"] == {"Ref": logical_id}


@pytest.mark.parametrize("overrides", [{}, {"kmsKeyArn": KEY}], ids=["aws-managed keys", "customer key"])
def test_cdk_nag_has_no_finding_on_the_read_only_policy_and_none_is_suppressed(overrides: dict[str, Any]) -> None:
    stack, template = synth(**overrides)
    logical_id, _ = read_only_policy(template)
    assert "cdk_nag" not in resources(template, "AWS::IAM::ManagedPolicy")[logical_id].get("Metadata", {})
    annotations = Annotations.from_stack(stack)
    findings = [
        *annotations.find_error("*", Match.string_like_regexp("AwsSolutions-.*")),
        *annotations.find_warning("*", Match.string_like_regexp("AwsSolutions-.*")),
    ]
    assert [f.id for f in findings if "StateReadAccess" in f.id] == []
