"""Contact state persistence: every DynamoDB expression for the contact table lives here.

The table (see stacks/constructs/state_tables.py) has partition key `contactId` and two sparse indexes:
`byQueue` (queueArn, queuedSince) holds only contacts waiting in a queue; `byAgent` (agentArn,
connectedToAgentTimestamp) holds contacts that reached an agent.

Two kinds of write, each one UpdateItem:
- the state: compare-and-set on `revision` (a hash of the merged state), so concurrent writers never lose an event;
- the `Contact Abandoned` publication: a claim with a lease, then a confirmation (see service.contact_events).
Neither touches the other's attributes, so they never conflict.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from connect_state.store.agent_state_store import WriteResult

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PUBLISHED_AT = "abandonedEventPublishedAt"
CLAIM = "abandonedEventClaim"
CLAIMED_AT = "abandonedEventClaimedAt"


class Claim(StrEnum):
    CLAIMED = "claimed"
    ALREADY_PUBLISHED = "already-published"
    IN_PROGRESS = "in-progress"  # another invocation holds an unexpired claim
    NOT_ABANDONED = "not-abandoned"  # the stored item is not a completed abandoned contact (any more)


class ContactStateStore(Protocol):
    def compare_and_set(
        self,
        contact_id: str,
        expected_revision: str | None,
        item: Mapping[str, Any],
        removable: tuple[str, ...],
        updated_at: str,
    ) -> WriteResult:
        """Write `item` only if the stored item has `expected_revision` (None: only if there is no item)."""
        ...

    def claim_abandoned_publication(
        self, contact_id: str, token: str, now: str, lease_expired_before: str
    ) -> Claim: ...

    def confirm_abandoned_publication(self, contact_id: str, token: str, published_at: str) -> None: ...

    def release_abandoned_publication(self, contact_id: str, token: str) -> None: ...


_deserializer = TypeDeserializer()
_serializer = TypeSerializer()


class DynamoDBContactStateStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name
        self.requests = 0  # DynamoDB requests made, for the benchmark and the tests

    def compare_and_set(
        self,
        contact_id: str,
        expected_revision: str | None,
        item: Mapping[str, Any],
        removable: tuple[str, ...],
        updated_at: str,
    ) -> WriteResult:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        assignments = []
        for index, (name, value) in enumerate(item.items()):
            if name == "contactId":
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
        if expected_revision is None:
            names["#pk"] = "contactId"
            condition = "attribute_not_exists(#pk)"
        else:
            names["#revision"] = "revision"
            values[":expected"] = {"S": expected_revision}
            condition = "#revision = :expected"
        try:
            self._update(
                Key={"contactId": {"S": contact_id}},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise
            return WriteResult(written=False, current=_old_item(error))
        return WriteResult(written=True)

    def claim_abandoned_publication(self, contact_id: str, token: str, now: str, lease_expired_before: str) -> Claim:
        try:
            self._update(
                Key={"contactId": {"S": contact_id}},
                UpdateExpression="SET #claim = :token, #claimedAt = :now",
                ConditionExpression=(
                    "#abandoned = :true AND #status = :completed AND attribute_not_exists(#publishedAt) "
                    "AND (attribute_not_exists(#claimedAt) OR #claimedAt < :expired)"
                ),
                ExpressionAttributeNames={
                    "#claim": CLAIM,
                    "#claimedAt": CLAIMED_AT,
                    "#publishedAt": PUBLISHED_AT,
                    "#abandoned": "abandoned",
                    "#status": "status",
                },
                ExpressionAttributeValues={
                    ":token": {"S": token},
                    ":now": {"S": now},
                    ":expired": {"S": lease_expired_before},
                    ":true": {"BOOL": True},
                    ":completed": {"S": "COMPLETED"},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise
            found = _old_item(error) or {}
            if PUBLISHED_AT in found:
                return Claim.ALREADY_PUBLISHED
            if found.get("abandoned") is True and found.get("status") == "COMPLETED":
                return Claim.IN_PROGRESS
            return Claim.NOT_ABANDONED
        return Claim.CLAIMED

    def confirm_abandoned_publication(self, contact_id: str, token: str, published_at: str) -> None:
        """Record the publication; a lost claim (the lease expired and another invocation took it) is not an error:
        the event went out, and the other invocation will find it published or publish a duplicate."""
        try:
            self._update(
                Key={"contactId": {"S": contact_id}},
                UpdateExpression="SET #publishedAt = :publishedAt REMOVE #claim, #claimedAt",
                ConditionExpression="#claim = :token",
                ExpressionAttributeNames={"#publishedAt": PUBLISHED_AT, "#claim": CLAIM, "#claimedAt": CLAIMED_AT},
                ExpressionAttributeValues={":publishedAt": {"S": published_at}, ":token": {"S": token}},
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise

    def release_abandoned_publication(self, contact_id: str, token: str) -> None:
        """Give the claim back after a failed publication, so the retry need not wait for the lease to expire."""
        try:
            self._update(
                Key={"contactId": {"S": contact_id}},
                UpdateExpression="REMOVE #claim, #claimedAt",
                ConditionExpression="#claim = :token",
                ExpressionAttributeNames={"#claim": CLAIM, "#claimedAt": CLAIMED_AT},
                ExpressionAttributeValues={":token": {"S": token}},
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise

    def _update(self, **request: Any) -> None:
        self.requests += 1
        self._client.update_item(TableName=self._table_name, **request)


def _condition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _old_item(error: ClientError) -> dict[str, Any] | None:
    response: Mapping[str, Any] = error.response
    found = response.get("Item")
    return {k: _deserializer.deserialize(v) for k, v in found.items()} if found else None
