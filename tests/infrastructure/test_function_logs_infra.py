"""Each function writes only to its own log group, which keeps its logs a month, under kmsKeyArn when it is set."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infrastructure.conftest import project_functions, resources, synth

pytestmark = pytest.mark.xdist_group("cdk")
KEY = "arn:aws:kms:eu-west-2:111122223333:key/11111111-2222-3333-4444-555555555555"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(template: Any, role_id: str) -> list[dict[str, Any]]:
    """Every statement that applies to the role: its inline policies and the AWS::IAM::Policy resources on it."""
    role = resources(template, "AWS::IAM::Role")[role_id]["Properties"]
    statements = [s for policy in role.get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]
    for policy in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"].get("Roles", []):
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


@pytest.mark.parametrize("context", [{}, {"kmsKeyArn": KEY}], ids=["aws-managed key", "customer key"])
def test_every_function_logs_to_its_own_log_group_kept_a_month_and_under_the_customer_key(
    context: dict[str, Any],
) -> None:
    _, template = synth(**context)
    functions = project_functions(template)
    log_groups = resources(template, "AWS::Logs::LogGroup")
    assert len(functions) == 5
    used = []
    for name, function in functions.items():
        log_group_ref = function["Properties"]["LoggingConfig"]["LogGroup"]
        (log_group_id,) = [key for key in log_groups if log_group_ref == {"Ref": key}]
        used.append(log_group_id)
        log_group = log_groups[log_group_id]["Properties"]
        assert log_group["RetentionInDays"] == 30, name
        if "kmsKeyArn" in context:
            assert log_group["KmsKeyId"] == KEY, name
        else:
            assert "KmsKeyId" not in log_group, name
    assert len(set(used)) == len(functions)


@pytest.mark.parametrize("context", [{}, {"kmsKeyArn": KEY}], ids=["aws-managed key", "customer key"])
def test_a_function_may_write_log_events_to_its_own_log_group_only(context: dict[str, Any]) -> None:
    # AWSLambdaBasicExecutionRole would let it create and write to any log group of the account.
    _, template = synth(**context)
    for name, function in resources(template, "AWS::Lambda::Function").items():
        role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
        role = resources(template, "AWS::IAM::Role")[role_id]["Properties"]
        assert "ManagedPolicyArns" not in role, name
        log_group_id = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        logs = [s for s in role_statements(template, role_id) if any(a.startswith("logs:") for a in _list(s["Action"]))]
        granted = sorted((a, json.dumps(s["Resource"])) for s in logs for a in _list(s["Action"]))
        own = json.dumps({"Fn::GetAtt": [log_group_id, "Arn"]})
        assert granted == [("logs:CreateLogStream", own), ("logs:PutLogEvents", own)], name
