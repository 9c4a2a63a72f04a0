"""The one write both state tables use: replace an item's attributes in a single UpdateItem, only if the stored item
still carries the versions the writer last saw. On a conflict DynamoDB hands back the item it found
(ReturnValuesOnConditionCheckFailure=ALL_OLD), so the caller can merge again without another read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError

from connect_state.service.ports import ItemWrite, WriteResult

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# For the functions' DynamoDB client. botocore checks every request against the service model before sending it, and
# for a state item of nested maps that check was a third of the function's CPU per write (make bench). The requests
# here are built by TypeSerializer and fixed expressions, and DynamoDB checks each one again: a malformed one still
# fails, as a ValidationException instead of botocore's ParamValidationError, and the record is retried either way.
CLIENT_CONFIG = Config(parameter_validation=False)
_deserializer = TypeDeserializer()
_serializer = TypeSerializer()


class ConditionalWriteTable:
    """A state table written by compare-and-set, counting its DynamoDB requests (for the benchmark, the demo and the
    tests)."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name
        self.requests = 0

    def _compare_and_set(
        self, key: tuple[str, str], expected_versions: Mapping[str, str | None] | None, write: ItemWrite
    ) -> WriteResult:
        """SET every attribute of `write.item` (and `updatedAt`), REMOVE the `write.removable` ones it lacks, if each
        expected version attribute still has its value (None: is absent). `expected_versions=None`: only if there is
        no item."""
        item, removable, updated_at = write.item, write.removable, write.updated_at
        self.requests += 1
        key_name, key_value = key
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        assignments = []
        for index, (name, value) in enumerate(item.items()):
            if name == key_name:
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
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key={key_name: {"S": key_value}},
                UpdateExpression=expression,
                ConditionExpression=_version_condition(key_name, expected_versions, names, values),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not condition_failed(error):
                raise
            return WriteResult(written=False, current=old_item(error))
        return WriteResult(written=True)


def condition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def old_item(error: ClientError) -> dict[str, Any] | None:
    """The item that failed the condition, when the request asked for ALL_OLD."""
    response: Mapping[str, Any] = error.response
    found = response.get("Item")
    return {k: _deserializer.deserialize(v) for k, v in found.items()} if found else None


def _version_condition(
    key_name: str, expected: Mapping[str, str | None] | None, names: dict[str, str], values: dict[str, Any]
) -> str:
    if expected is None:
        names["#pk"] = key_name
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
