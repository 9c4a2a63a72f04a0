"""Agent state persistence: every DynamoDB expression for the agent table lives here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class WriteResult:
    """`written` is False when the item was not what the writer expected; `current` is then what it found."""

    written: bool
    current: dict[str, Any] | None = None


class AgentStateStore(Protocol):
    def compare_and_set(
        self,
        agent_arn: str,
        expected_versions: Mapping[str, str | None] | None,
        item: Mapping[str, Any],
        removable: tuple[str, ...],
        updated_at: str,
    ) -> WriteResult:
        """Write `item` only if the stored item still has `expected_versions` (None: only if there is no item)."""
        ...


_deserializer = TypeDeserializer()
_serializer = TypeSerializer()


class DynamoDBAgentStateStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name
        self.requests = 0  # DynamoDB requests made, for the benchmark and the demo

    def compare_and_set(
        self,
        agent_arn: str,
        expected_versions: Mapping[str, str | None] | None,
        item: Mapping[str, Any],
        removable: tuple[str, ...],
        updated_at: str,
    ) -> WriteResult:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        assignments = []
        for index, (name, value) in enumerate(item.items()):
            if name == "agentArn":
                continue
            names[f"#a{index}"] = name
            values[f":a{index}"] = _serializer.serialize(value)
            assignments.append(f"#a{index} = :a{index}")
        names["#updatedAt"] = "updatedAt"
        values[":updatedAt"] = {"S": updated_at}
        assignments.append("#updatedAt = :updatedAt")
        removals = []
        for index, name in enumerate(n for n in removable if n not in item):
            names[f"#r{index}"] = name
            removals.append(f"#r{index}")
        expression = "SET " + ", ".join(assignments) + (" REMOVE " + ", ".join(removals) if removals else "")
        condition = _version_condition(expected_versions, names, values)
        self.requests += 1
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key={"agentArn": {"S": agent_arn}},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            # ReturnValuesOnConditionCheckFailure=ALL_OLD: the item that failed the condition, without another read.
            found: dict[str, Any] = error.response.get("Item", {})  # type: ignore[assignment]
            current = {k: _deserializer.deserialize(v) for k, v in found.items()} or None
            return WriteResult(written=False, current=current)
        return WriteResult(written=True)


def _version_condition(expected: Mapping[str, str | None] | None, names: dict[str, str], values: dict[str, Any]) -> str:
    if expected is None:
        names["#pk"] = "agentArn"
        return "attribute_not_exists(#pk)"
    clauses = []
    for index, (name, version) in enumerate(expected.items()):
        names[f"#v{index}"] = name
        if version is None:
            clauses.append(f"attribute_not_exists(#v{index})")
        else:
            values[f":v{index}"] = {"S": version}
            clauses.append(f"#v{index} = :v{index}")
    return " AND ".join(clauses)
