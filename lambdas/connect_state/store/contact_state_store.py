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

from botocore.exceptions import ClientError

from connect_state.store import conditional_write
from connect_state.store.conditional_write import WriteResult, condition_failed, old_item

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
        self.requests += 1
        expected = None if expected_revision is None else {"revision": expected_revision}
        return conditional_write.compare_and_set(
            self._client, self._table_name, ("contactId", contact_id), expected, item, removable, updated_at
        )

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
            if not condition_failed(error):
                raise
            found = old_item(error) or {}
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
            if not condition_failed(error):
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
            if not condition_failed(error):
                raise

    def _update(self, **request: Any) -> None:
        self.requests += 1
        self._client.update_item(TableName=self._table_name, **request)
