"""Contact state persistence (service.ports.ContactStateStore and EnrichmentStore): every DynamoDB expression for the
contact table lives here.

The table (see stacks/constructs/state_tables.py) has partition key `contactId` and two sparse indexes:
`byQueue` (queueArn, queuedSince) holds only contacts waiting in a queue; `byAgent` (agentArn,
connectedToAgentTimestamp) holds contacts that reached an agent.

Three kinds of write, each one UpdateItem:
- the state: compare-and-set on `revision` (a hash of the merged state), so concurrent writers never lose an event;
- the `Contact Abandoned` publication: a claim with a lease, then a confirmation (see service.contact_events);
- the DescribeContact enrichment: conditional on its own `enrichmentVersion` (see domain.enrichment).
None of them checks another's attributes, so they never conflict. Enrichment may create the item before any contact
event is written: the state's first write then expects "no `revision` yet", not "no item".
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from connect_state.adapters.conditional_write import ConditionalWriteTable, condition_failed, old_item
from connect_state.domain.enrichment import ENRICHMENT_ONLY, SHARED_WITH_CONTACT_EVENTS, Enrichment
from connect_state.service.ports import ABANDONED_PUBLISHED_AT, Claim, ItemWrite, WriteResult

_serializer = TypeSerializer()
CLAIM = "abandonedEventClaim"
CLAIMED_AT = "abandonedEventClaimedAt"
ENRICHMENT_STATUS = "enrichmentStatus"
ENRICHMENT_VERSION = "enrichmentVersion"


class DynamoDBContactStateStore(ConditionalWriteTable):
    def compare_and_set(self, contact_id: str, expected_revision: str | None, write: ItemWrite) -> WriteResult:
        # "no revision" rather than "no item": enrichment may have created the item first.
        return self._compare_and_set(("contactId", contact_id), {"revision": expected_revision}, write)

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
                    "#publishedAt": ABANDONED_PUBLISHED_AT,
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
            if ABANDONED_PUBLISHED_AT in found:
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
                ExpressionAttributeNames={
                    "#publishedAt": ABANDONED_PUBLISHED_AT,
                    "#claim": CLAIM,
                    "#claimedAt": CLAIMED_AT,
                },
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

    def enrichment_status(self, contact_id: str) -> str | None:
        self.requests += 1
        response = self._client.get_item(
            TableName=self._table_name,
            Key={"contactId": {"S": contact_id}},
            ProjectionExpression="#status",
            ExpressionAttributeNames={"#status": ENRICHMENT_STATUS},
        )
        status = response.get("Item", {}).get(ENRICHMENT_STATUS, {})
        return status.get("S")

    def write_enrichment(self, enrichment: Enrichment, ttl: int, updated_at: str) -> bool:
        """One UpdateItem: the enrichment's own attributes are replaced, the ones the COMPLETED event also carries are
        only filled in (`if_not_exists`), `ttl` only set if no contact event set it; all if the stored version is not
        newer. The same answer twice writes the same values."""
        names = {"#version": ENRICHMENT_VERSION, "#updatedAt": "updatedAt"}
        values: dict[str, Any] = {":version": {"S": enrichment.version}, ":updatedAt": {"S": updated_at}}
        # Not which trigger asked: the fallback may run before COMPLETED or after it, so that would record processing
        # order, not the contact (whether COMPLETED came is in `stagesSeen`).
        own = {ENRICHMENT_STATUS: enrichment.status.value, "enrichedAt": enrichment.enriched_at}
        own.update({name: enrichment.fields[name] for name in ENRICHMENT_ONLY if name in enrichment.fields})
        assignments = ["#version = :version", "#updatedAt = :updatedAt"]
        for index, (name, value) in enumerate(own.items()):
            names[f"#e{index}"] = name
            values[f":e{index}"] = _serializer.serialize(value)
            assignments.append(f"#e{index} = :e{index}")
        filled = {name: enrichment.fields[name] for name in SHARED_WITH_CONTACT_EVENTS if name in enrichment.fields}
        filled["ttl"] = ttl
        for index, (name, value) in enumerate(filled.items()):
            names[f"#f{index}"] = name
            values[f":f{index}"] = _serializer.serialize(value)
            assignments.append(f"#f{index} = if_not_exists(#f{index}, :f{index})")
        try:
            self._update(
                Key={"contactId": {"S": enrichment.contact_id}},
                UpdateExpression="SET " + ", ".join(assignments),
                ConditionExpression="attribute_not_exists(#version) OR #version <= :version",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if not condition_failed(error):
                raise
            return False
        return True

    def _update(self, **request: Any) -> None:
        self.requests += 1
        self._client.update_item(TableName=self._table_name, **request)
