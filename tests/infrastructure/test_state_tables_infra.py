"""The state tables as synthesized: recoverable, encrypted, and not deletable by one API call.

cdk-nag's DynamoDB rules do not look at AWS::DynamoDB::GlobalTable (what TableV2 synthesizes), so these tests are
the only check of point-in-time recovery, deletion protection and encryption.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.infrastructure.conftest import resources, synth

pytestmark = pytest.mark.xdist_group("cdk")
KEY = "arn:aws:kms:eu-west-2:111122223333:key/11111111-2222-3333-4444-555555555555"
STATE_TABLES = ("State/AgentState", "State/ContactState")


def state_tables(template: Any) -> dict[str, dict[str, Any]]:
    tables = {
        value["Metadata"]["aws:cdk:path"]: value["Properties"]
        for value in resources(template, "AWS::DynamoDB::GlobalTable").values()
    }
    found = {part: [t for path, t in tables.items() if f"/{part}/" in path] for part in STATE_TABLES}
    assert all(len(matches) == 1 for matches in found.values()), found.keys()
    return {part: matches[0] for part, matches in found.items()}


@pytest.mark.parametrize("context", [{}, {"kmsKeyArn": KEY}], ids=["aws-managed key", "customer key"])
def test_state_tables_are_protected_from_deletion_recoverable_and_encrypted(context: dict[str, Any]) -> None:
    _, template = synth(**context)
    for name, table in state_tables(template).items():
        (replica,) = table["Replicas"]
        assert replica["DeletionProtectionEnabled"] is True, name
        assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name
        assert table["SSESpecification"]["SSEEnabled"] is True, name
        if "kmsKeyArn" in context:
            assert table["SSESpecification"]["SSEType"] == "KMS", name
            assert replica["SSESpecification"] == {"KMSMasterKeyId": KEY}, name


def test_deletion_protection_can_be_turned_off_in_configuration() -> None:
    _, template = synth(stateTableDeletionProtection=False)
    for name, table in state_tables(template).items():
        (replica,) = table["Replicas"]
        assert replica["DeletionProtectionEnabled"] is False, name
