"""The demo's stand-in for Lambda's DynamoDB stream event source mapping (demo.lambda_runner.DynamoDbStreamPoller):
the records reach the function in Lambda's event shape, in order, and a reported failure is retried from the first
failed record, as Lambda does with ReportBatchItemFailures."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel
from botocore.config import Config

from demo.lambda_runner import DynamoDbStreamPoller

pytestmark = pytest.mark.usefixtures("aws")
REGION = "eu-west-2"


class RecordingFunction:
    """An InProcessFunction stand-in: keeps each event and fails the records it is told to, once each."""

    def __init__(self, fail_once: set[str] | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.fail_once = set(fail_once or ())

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        failed = [
            r["dynamodb"]["SequenceNumber"]
            for r in event["Records"]
            if r["dynamodb"]["Keys"]["pk"]["S"] in self.fail_once
        ]
        for record in event["Records"]:
            self.fail_once.discard(record["dynamodb"]["Keys"]["pk"]["S"])
        return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}


@pytest.fixture
def table() -> Any:
    dynamodb = boto3.resource("dynamodb", region_name=REGION)
    return dynamodb.create_table(
        TableName="state",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def poller(table: Any, function: RecordingFunction, batch_size: int = 100) -> DynamoDbStreamPoller:
    # botocore sends calls naming a stream to <account>.streams-ddb.<region>: a host moto's mock does not know (the
    # demo's clients have an endpoint_url, which bypasses it)
    config = Config(account_id_endpoint_mode="disabled")
    streams = boto3.client("dynamodbstreams", region_name=REGION, config=config)
    return DynamoDbStreamPoller(streams, table.latest_stream_arn, function, batch_size=batch_size)  # type: ignore[arg-type]


def test_changes_reach_the_function_in_lambdas_event_shape_in_order_once(table: Any) -> None:
    # Given an insert, a modification (with a binary attribute) and a removal
    table.put_item(Item={"pk": "agent-1", "status": "Available"})
    table.put_item(Item={"pk": "agent-1", "status": "Break", "blob": b"\x00\x01"})
    table.delete_item(Key={"pk": "agent-1"})
    function = RecordingFunction()
    stream = poller(table, function, batch_size=2)
    # When the stream is polled, then polled again with nothing new
    delivered = stream.poll()
    again = stream.poll()
    # Then each change is delivered once, in order, in batches of at most 2, as Powertools' model reads Lambda's events
    assert (delivered, again) == (3, 0)
    assert [len(event["Records"]) for event in function.events] == [2, 1]
    records = [r for event in function.events for r in DynamoDBStreamModel.model_validate(event).Records]
    assert [r.eventName for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert records[1].dynamodb.NewImage == {"pk": "agent-1", "status": "Break", "blob": "AAE="}  # B: base64 text
    assert records[1].dynamodb.OldImage == {"pk": "agent-1", "status": "Available"}
    assert {r.eventSourceARN for r in records} == {table.latest_stream_arn}
    assert {r.awsRegion for r in records} == {REGION}
    first = function.events[0]["Records"][0]
    assert isinstance(first["dynamodb"]["ApproximateCreationDateTime"], float)
    assert first["eventSource"] == "aws:dynamodb"


def test_a_reported_failure_is_retried_from_the_first_failed_record(table: Any) -> None:
    # Given three changes, the second of which the function fails once
    for name in ("a", "b", "c"):
        table.put_item(Item={"pk": name})
    function = RecordingFunction(fail_once={"b"})
    # When the stream is polled
    stream = poller(table, function)
    stream.poll()
    # Then the batch is handed over again from "b" (not "a"), and nothing is given up
    keys = [[r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]] for event in function.events]
    assert keys == [["a", "b", "c"], ["b", "c"]]
    assert stream.given_up == 0
    assert stream.invocations == 2
