"""Call slots: the shared ledger that keeps every container together under one DescribeContact rate.

Time is cut into slots of 1/rate seconds; a call may only be made by whoever claims its slot, and a claim is a
conditional PutItem (the slot must not exist yet), so two containers can never use the same slot. Slot items expire
through the table's TTL an hour later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from connect_state.adapters.conditional_write import condition_failed

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SLOT_LIFETIME_SECONDS = 3600


class DynamoDBCallSlots:
    def __init__(self, client: DynamoDBClient, table_name: str, api_name: str = "DescribeContact") -> None:
        self._client = client
        self._table_name = table_name
        self._api_name = api_name
        self.requests = 0

    def claim(self, slot: int, now_epoch_seconds: int) -> bool:
        self.requests += 1
        try:
            self._client.put_item(
                TableName=self._table_name,
                Item={
                    "slot": {"S": f"{self._api_name}#{slot}"},
                    "ttl": {"N": str(now_epoch_seconds + SLOT_LIFETIME_SECONDS)},
                },
                ConditionExpression="attribute_not_exists(#slot)",
                ExpressionAttributeNames={"#slot": "slot"},
            )
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True
