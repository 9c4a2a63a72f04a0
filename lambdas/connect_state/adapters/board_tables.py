"""The wallboard's DynamoDB requests (service.ports.BoardStateReader and BoardRowStore): every expression the board
function sends is here.

Constraints checked against DynamoDB's documentation and botocore's service model: BatchGetItem takes at most 100
keys per request and may answer part of them (`UnprocessedKeys`, retried here with backoff); a Query answers at most
1 MB per page (`LastEvaluatedKey`, followed here); a global secondary index cannot be read with ConsistentRead (the
service overlays the triggering contacts read from the table itself); the board table's key is `pk`/`sk`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from connect_state.adapters.conditional_write import condition_failed
from connect_state.domain.board import ENQUEUED_ATTRIBUTES, QUEUE_CHANNEL_PREFIX, WAITING_ATTRIBUTES
from connect_state.service.ports import ChannelSequence, StoredRow

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

QUEUE_INDEX = "byQueue"  # stacks/constructs/state_tables.py
QUEUE_ENQUEUED_INDEX = "byQueueEnqueued"
AGENT_ROWS = "AGENT"  # pk of the agent rows (sk: agentArn)
CHANNELS = "CHANNEL"  # pk of the channel sequence numbers (sk: channel name)
BATCH_GET_LIMIT = 100  # keys per BatchGetItem request
UNPROCESSED_ATTEMPTS = 6
ROW_VERSION_NAMES = ("orderKey", "loginOrderKey", "afterContactWorkOrderKey")
_deserializer = TypeDeserializer()
_serializer = TypeSerializer()


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


class _Requests:
    def __init__(self, client: DynamoDBClient, sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self._sleep = sleep
        self.requests = 0  # counted for the demo's and the cost tool's read figures

    def _batch_get(self, table: str, keys: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every key's item (strongly consistent), 100 keys a request, unprocessed keys asked again with backoff."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            pending: dict[str, Any] = {
                table: {"Keys": list(keys[start : start + BATCH_GET_LIMIT]), "ConsistentRead": True}
            }
            for attempt in range(UNPROCESSED_ATTEMPTS):
                self.requests += 1
                answer = self._client.batch_get_item(RequestItems=pending)
                found.extend(_plain(item) for item in answer.get("Responses", {}).get(table, []))
                pending = dict(answer.get("UnprocessedKeys") or {})
                if not pending:
                    break
                self._sleep(0.05 * 2**attempt)
            else:
                raise RuntimeError(f"BatchGetItem left keys unprocessed after {UNPROCESSED_ATTEMPTS} attempts")
        return found

    def _query(self, **request: Any) -> Iterator[dict[str, Any]]:
        while True:
            self.requests += 1
            page = self._client.query(**request)
            yield from (_plain(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _projection(names: Sequence[str]) -> dict[str, Any]:
    return {
        "ProjectionExpression": ", ".join(f"#p{i}" for i in range(len(names))),
        "ExpressionAttributeNames": {f"#p{i}": name for i, name in enumerate(names)},
    }


class DynamoDBBoardState(_Requests):
    """The agent and contact state tables, read (never written) by the board."""

    def __init__(
        self, client: DynamoDBClient, agent_table: str, contact_table: str, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        super().__init__(client, sleep)
        self._agent_table = agent_table
        self._contact_table = contact_table

    def agent_items(self, agent_arns: Sequence[str]) -> dict[str, dict[str, Any]]:
        keys = [{"agentArn": {"S": arn}} for arn in agent_arns]
        return {str(item["agentArn"]): item for item in self._batch_get(self._agent_table, keys)}

    def contact_items(self, contact_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        keys = [{"contactId": {"S": contact_id}} for contact_id in contact_ids]
        return {str(item["contactId"]): item for item in self._batch_get(self._contact_table, keys)}

    def waiting_contacts(self, queue_arn: str) -> list[dict[str, Any]]:
        projection = _projection(WAITING_ATTRIBUTES)
        return list(
            self._query(
                TableName=self._contact_table,
                IndexName=QUEUE_INDEX,
                KeyConditionExpression="#q = :q",
                ExpressionAttributeNames={**projection["ExpressionAttributeNames"], "#q": "queueArn"},
                ExpressionAttributeValues={":q": {"S": queue_arn}},
                ProjectionExpression=projection["ProjectionExpression"],
                ScanIndexForward=True,
            )
        )

    def enqueued_contacts(self, queue_arn: str, since: str) -> list[dict[str, Any]]:
        projection = _projection(ENQUEUED_ATTRIBUTES)
        return list(
            self._query(
                TableName=self._contact_table,
                IndexName=QUEUE_ENQUEUED_INDEX,
                KeyConditionExpression="#q = :q AND #e >= :since",
                ExpressionAttributeNames={
                    **projection["ExpressionAttributeNames"],
                    "#q": "queueArn",
                    "#e": "enqueuedAt",
                },
                ExpressionAttributeValues={":q": {"S": queue_arn}, ":since": {"S": since}},
                ProjectionExpression=projection["ProjectionExpression"],
            )
        )


class DynamoDBBoardRows(_Requests):
    """The board table: agent rows (pk AGENT, sk agentArn) and channel sequence numbers (pk CHANNEL, sk channel)."""

    def __init__(self, client: DynamoDBClient, table: str, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(client, sleep)
        self._table = table

    def rows(self, agent_arns: Sequence[str]) -> dict[str, StoredRow]:
        keys = [{"pk": {"S": AGENT_ROWS}, "sk": {"S": arn}} for arn in agent_arns]
        return {row.agent_arn: row for row in map(_stored_row, self._batch_get(self._table, keys))}

    def all_rows(self) -> list[StoredRow]:
        return [
            _stored_row(item)
            for item in self._query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": AGENT_ROWS}},
                ConsistentRead=True,
            )
        ]

    def put_row(self, stored: StoredRow) -> bool:
        """One conditional PutItem: for each order key, the stored one is absent or not above the new one (a key the
        new row lacks must be absent), so a stale row never replaces a newer one; an equal row may be rewritten."""
        item: dict[str, Any] = {"pk": AGENT_ROWS, "sk": stored.agent_arn, "row": dict(stored.row)}
        item.update({name: value for name, value in stored.versions.items() if value is not None})
        if stored.ttl is not None:
            item["ttl"] = stored.ttl
        request: dict[str, Any] = {
            "TableName": self._table,
            "Item": {name: _serializer.serialize(value) for name, value in item.items()},
            **_versions_condition(stored, "(attribute_not_exists({name}) OR {name} <= {value})"),
        }
        return self._conditional(lambda: self._client.put_item(**request))

    def delete_row(self, stored: StoredRow) -> bool:
        """Delete only the row that was read (its order keys unchanged): never one written since."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"pk": {"S": AGENT_ROWS}, "sk": {"S": stored.agent_arn}},
            **_versions_condition(stored, "{name} = {value}", exists="pk"),
        }
        return self._conditional(lambda: self._client.delete_item(**request))

    def next_seq(self, channel: str, queue_arn: str | None = None) -> int:
        """UpdateItem ADD: atomic, so two invocations never get the same number (a sequence, not a figure)."""
        self.requests += 1
        values: dict[str, Any] = {":one": {"N": "1"}}
        expression = "ADD #seq :one"
        names = {"#seq": "seq"}
        if queue_arn is not None:
            expression += " SET #queue = :queue"
            names["#queue"] = "queueArn"
            values[":queue"] = {"S": queue_arn}
        answer = self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": CHANNELS}, "sk": {"S": channel}},
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["seq"]["N"])

    def current_seq(self, channel: str) -> int:
        self.requests += 1
        answer = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": CHANNELS}, "sk": {"S": channel}}, ConsistentRead=True
        )
        return int(answer["Item"]["seq"]["N"]) if "Item" in answer else 0

    def queue_channels(self) -> list[ChannelSequence]:
        items = self._query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": CHANNELS}, ":prefix": {"S": QUEUE_CHANNEL_PREFIX}},
            ConsistentRead=True,
        )
        return [ChannelSequence(str(i["sk"]), int(i["seq"]), i.get("queueArn")) for i in items]

    def _conditional(self, send: Callable[[], Any]) -> bool:
        self.requests += 1
        try:
            send()
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True


def _stored_row(item: Mapping[str, Any]) -> StoredRow:
    ttl = item.get("ttl")
    return StoredRow(
        agent_arn=str(item["sk"]),
        row=item.get("row", {}),
        versions={name: item.get(name) for name in ROW_VERSION_NAMES},
        ttl=int(ttl) if ttl is not None else None,
    )


def _versions_condition(stored: StoredRow, held: str, exists: str | None = None) -> dict[str, Any]:
    """The condition on a row's order keys: for each, `held` (a template of `{name}` and `{value}`) when the row has
    that key, else the key must be absent; `exists`: an attribute the item must have. Returns the request's
    ConditionExpression and its names and values (none when empty: DynamoDB refuses an empty
    ExpressionAttributeValues)."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    clauses = []
    if exists is not None:
        names["#exists"] = exists
        clauses.append("attribute_exists(#exists)")
    for index, attribute in enumerate(ROW_VERSION_NAMES):
        name, value = f"#v{index}", f":v{index}"
        names[name] = attribute
        version = stored.versions.get(attribute)
        if version is None:
            clauses.append(f"attribute_not_exists({name})")
        else:
            values[value] = {"S": version}
            clauses.append(held.format(name=name, value=value))
    condition: dict[str, Any] = {"ConditionExpression": " AND ".join(clauses), "ExpressionAttributeNames": names}
    if values:
        condition["ExpressionAttributeValues"] = values
    return condition
