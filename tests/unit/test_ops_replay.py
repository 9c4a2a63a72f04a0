"""The replay tool's logic (ops.replay_stream), against fakes: the live mapping's failure handling, batching, the
event shape Lambda delivers, and the on-failure records Lambda writes."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import KinesisDataStreamModel
from botocore.response import StreamingBody
from botocore.stub import Stubber

from ops.adapters import LambdaFunction, SqsQueue
from ops.kinesis_events import StreamRecord, batches, lambda_record, parse_failed_batch
from ops.ports import Invocation, Position
from ops.replay_stream import DeliverySettings, Replayer, replay_failed_batches, replay_range
from tests.samples import SHARED
from tests.service_model import assert_valid_request

STREAM = "arn:aws:kinesis:eu-west-2:111122223333:stream/agent-events"
ROLE = "arn:aws:iam::111122223333:role/AgentEventsFunctionRole"
START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
REAL_ENVELOPE = SHARED / "lambda_envelopes/le01_real-test_lambda-kinesis-event_agent-event_producer-partitionkey.json"


def record(sequence: int, shard: str = "shardId-000000000000", seconds: int = 0) -> StreamRecord:
    data = json.dumps({"EventId": str(sequence), "AgentARN": f"agent-{sequence % 3}"}).encode()
    return StreamRecord(shard, str(sequence), f"agent-{sequence % 3}", data, START + timedelta(seconds=seconds))


def shaped(*sequences: int) -> list[dict[str, Any]]:
    return [lambda_record(record(s), STREAM, ROLE) for s in sequences]


class FakeFunction:
    """Answers each invocation with `answer(sequence numbers)`; remembers every batch it was given."""

    def __init__(self, answer: Callable[[list[int]], Invocation]) -> None:
        self._answer = answer
        self.batches: list[list[int]] = []

    def invoke(self, event: Mapping[str, Any]) -> Invocation:
        sequences = [int(r["kinesis"]["sequenceNumber"]) for r in event["Records"]]
        self.batches.append(sequences)
        return self._answer(sequences)


def applied_once(function: FakeFunction) -> list[int]:
    return sorted({s for batch in function.batches for s in batch})


def test_the_event_has_the_shape_lambda_delivers_and_the_handlers_model_accepts() -> None:
    # Given a record read with GetRecords
    event = {"Records": [lambda_record(record(7), STREAM, ROLE)]}
    # Then it has exactly the keys of a real Lambda Kinesis event, the data base64-encoded once
    real = json.loads(REAL_ENVELOPE.read_text())["Records"][0]
    (ours,) = event["Records"]
    assert set(ours) == set(real)
    assert set(ours["kinesis"]) == set(real["kinesis"])
    assert base64.b64decode(ours["kinesis"]["data"]) == record(7).data
    assert ours["eventID"] == "shardId-000000000000:7"
    assert ours["kinesis"]["approximateArrivalTimestamp"] == round(START.timestamp(), 3)
    assert (ours["awsRegion"], ours["invokeIdentityArn"]) == ("eu-west-2", ROLE)
    # and Powertools' model (what the handler's BatchProcessor reads) accepts it
    assert KinesisDataStreamModel.model_validate(event).Records[0].kinesis.data == record(7).data


def test_batches_keep_order_and_stay_under_the_record_count_and_the_payload_limit() -> None:
    records = shaped(*range(1, 251))
    assert [len(b) for b in batches(records, 100)] == [100, 100, 50]
    size = len(json.dumps({"Records": records[:10]}))
    small = list(batches(records[:30], 100, max_bytes=size))
    assert all(len(json.dumps({"Records": b})) <= size for b in small)
    assert [r for b in small for r in b] == records[:30]


def test_a_partial_batch_failure_is_retried_from_the_lowest_failed_sequence_number() -> None:
    # Given a function that reports records 3 and 5 as failed once
    failed_once: set[int] = {3, 5}

    def answer(sequences: list[int]) -> Invocation:
        failures = [{"itemIdentifier": str(s)} for s in sequences if s in failed_once]
        failed_once.difference_update(sequences)
        return Invocation({"batchItemFailures": failures})

    function = FakeFunction(answer)
    replayer = Replayer(function, DeliverySettings(), sleep=lambda _: None)
    # When six records are replayed
    assert replayer.deliver(shaped(1, 2, 3, 4, 5, 6)) is True
    # Then the retry starts at 3, as Lambda's checkpoint does, and everything is applied
    assert function.batches == [[1, 2, 3, 4, 5, 6], [3, 4, 5, 6]]
    assert (replayer.report.records, replayer.report.retries, replayer.report.failed) == (6, 1, [])


def test_a_function_error_bisects_the_batch_and_only_the_bad_record_is_left_after_its_retries() -> None:
    # Given a function that fails (raises) on any batch holding record 6
    def answer(sequences: list[int]) -> Invocation:
        if 6 in sequences:
            return Invocation({"errorType": "ValidationError", "errorMessage": "..."}, "Unhandled")
        return Invocation({"batchItemFailures": []})

    function = FakeFunction(answer)
    replayer = Replayer(function, DeliverySettings(maximum_retry_attempts=2), sleep=lambda _: None)
    # When eight records are replayed
    assert replayer.deliver(shaped(*range(1, 9))) is False
    # Then halves are tried until record 6 is alone, retried twice, and reported; every other record got through
    assert function.batches[:4] == [[1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4], [5, 6, 7, 8], [5, 6]]
    assert function.batches.count([6]) == 3
    (failed,) = replayer.report.failed
    assert (failed.first_sequence_number, failed.last_sequence_number, failed.records) == ("6", "6", 1)
    assert "Unhandled: ValidationError" in failed.reason
    assert applied_once(function) == list(range(1, 9))


def test_without_bisect_a_failing_batch_is_retried_whole_and_reported_whole() -> None:
    function = FakeFunction(lambda _: Invocation(None, "Unhandled"))
    settings = DeliverySettings(maximum_retry_attempts=1, bisect_batch_on_function_error=False)
    replayer = Replayer(function, settings, sleep=lambda _: None)
    assert replayer.deliver(shaped(1, 2, 3)) is False
    assert function.batches == [[1, 2, 3], [1, 2, 3]]
    assert str(replayer.report.failed[0]).startswith("shardId-000000000000 sequence numbers 1..3 (3 records)")


@pytest.mark.parametrize(
    "item", [{"itemIdentifier": ""}, {"itemIdentifier": None}, {"id": "2"}, {"itemIdentifier": "99"}]
)
def test_a_batch_item_failure_that_cannot_be_read_fails_the_whole_batch(item: dict[str, Any]) -> None:
    calls = iter([Invocation({"batchItemFailures": [item]}), Invocation({"batchItemFailures": []})])
    function = FakeFunction(lambda _: next(calls))
    replayer = Replayer(function, DeliverySettings(), sleep=lambda _: None)
    assert replayer.deliver(shaped(1, 2, 3)) is True
    assert function.batches == [[1, 2, 3], [1, 2, 3]]


def test_the_live_mappings_settings_are_applied() -> None:
    # Given the live mapping as ListEventSourceMappings returns it
    mapping = {
        "BatchSize": 7,
        "MaximumRetryAttempts": 3,
        "BisectBatchOnFunctionError": True,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "MaximumRecordAgeInSeconds": 3600,
        "ParallelizationFactor": 1,
    }
    settings = DeliverySettings.from_mapping(mapping)
    assert settings == DeliverySettings(7, 3, True, True)
    function = FakeFunction(lambda _: Invocation(None))
    Replayer(function, settings, sleep=lambda _: None).deliver(shaped(*range(1, 16)))
    assert [len(b) for b in function.batches] == [7, 7, 1]
    # an unlimited retry setting (-1) still ends
    assert DeliverySettings.from_mapping({**mapping, "MaximumRetryAttempts": -1}).maximum_retry_attempts == 10


class FakeStream:
    stream_arn = STREAM

    def __init__(self, shards: dict[str, list[StreamRecord]]) -> None:
        self._shards = shards
        self.positions: list[Position] = []

    def shard_ids(self) -> list[str]:
        return list(self._shards)

    def read(self, shard_id: str, position: Position, limit: int) -> Iterator[list[StreamRecord]]:
        self.positions.append(position)
        records = [
            r
            for r in self._shards[shard_id]
            if (position.timestamp is None or r.arrival >= position.timestamp)
            and int(r.sequence_number) >= int(position.sequence_number or 0)
        ]
        for start in range(0, len(records), limit):
            yield records[start : start + limit]


def test_a_time_range_is_read_from_every_shard_up_to_its_end() -> None:
    # Given two shards with a record every second
    shards = {
        shard: [record(n, shard, seconds=n) for n in range(1, 21)]
        for shard in ("shardId-000000000000", "shardId-000000000001")
    }
    stream = FakeStream(shards)
    function = FakeFunction(lambda _: Invocation(None))
    replayer = Replayer(function, DeliverySettings(batch_size=4), sleep=lambda _: None)
    # When seconds 5 to 12 are replayed
    replay_range(
        stream, replayer, Position("AT_TIMESTAMP", START + timedelta(seconds=5)), START + timedelta(seconds=12), ROLE
    )
    # Then each shard's records 5..12 are applied, in batches of the mapping's size, and nothing after
    assert function.batches == [[5, 6, 7, 8], [9, 10, 11, 12]] * 2
    assert replayer.report.shards == set(shards)


# The S3 on-failure record as the AWS Lambda Developer Guide shows it ("Retain discarded batch records for a Kinesis
# Data Streams event source in Lambda", "Example Amazon S3 invocation record"): the SQS/SNS record plus `payload`,
# "the original invocation record as an escaped JSON string". Values are the guide's; the payload is our own event.
DOCS_RECORD: dict[str, Any] = {
    "requestContext": {
        "requestId": "c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5",
        "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 1,
    },
    "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
    "version": "1.0",
    "timestamp": "2019-11-14T00:38:06.021Z",
    "KinesisBatchInfo": {
        "shardId": "shardId-000000000001",
        "startSequenceNumber": "49601189658422359378836298521827638475320189012309704722",
        "endSequenceNumber": "49601189658422359378836298522902373528957594348623495186",
        "approximateArrivalOfFirstRecord": "2019-11-14T00:38:04.835Z",
        "approximateArrivalOfLastRecord": "2019-11-14T00:38:05.580Z",
        "batchSize": 500,
        "streamArn": "arn:aws:kinesis:us-east-2:123456789012:stream/mystream",
    },
}


def test_an_s3_on_failure_record_gives_back_its_original_records_and_an_sqs_one_only_its_range() -> None:
    event = {"Records": shaped(1, 2)}
    s3_record = parse_failed_batch(
        "aws/lambda/uuid/shardId-000000000001/key", {**DOCS_RECORD, "payload": json.dumps(event)}
    )
    assert s3_record.records == event["Records"]
    assert (s3_record.shard_id, s3_record.stream_arn) == (
        "shardId-000000000001",
        DOCS_RECORD["KinesisBatchInfo"]["streamArn"],
    )
    sqs_record = parse_failed_batch("message", DOCS_RECORD)
    assert sqs_record.records is None
    assert (sqs_record.start_sequence_number, sqs_record.end_sequence_number) == (
        "49601189658422359378836298521827638475320189012309704722",
        "49601189658422359378836298522902373528957594348623495186",
    )
    with pytest.raises(ValueError, match="not a Kinesis on-failure record"):
        parse_failed_batch("other", {"requestContext": {}})


def test_the_invoke_call_is_valid_for_lambdas_service_model() -> None:
    # moto cannot run our function (it needs Docker): the call is checked against botocore's model instead.
    client = boto3.client("lambda", region_name="eu-west-2")
    function = LambdaFunction(client, "ConnectRealtimeState-AgentEventsFunction1A2B3C-abcdef123456")
    event = {"Records": shaped(1)}
    expected = {
        "FunctionName": function.function_name,
        "InvocationType": "RequestResponse",
        "Payload": json.dumps(event).encode(),
    }
    assert_valid_request("lambda", "Invoke", expected)
    answer = json.dumps({"batchItemFailures": [{"itemIdentifier": "1"}]}).encode()
    with Stubber(client) as stubber:
        stubber.add_response(
            "invoke",
            {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(answer), len(answer))},
            expected,
        )
        assert function.invoke(event) == Invocation({"batchItemFailures": [{"itemIdentifier": "1"}]}, None)
        stubber.add_response(
            "invoke",
            {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": StreamingBody(io.BytesIO(b"{}"), 2)},
            expected,
        )
        assert function.invoke(event).function_error == "Unhandled"


def test_sqs_redrive_calls_are_valid_for_sqss_service_model() -> None:
    # moto 5.2.5 has no StartMessageMoveTask: the calls are checked against botocore's model instead.
    client = boto3.client("sqs", region_name="eu-west-2")
    url = "https://sqs.eu-west-2.amazonaws.com/111122223333/ConnectRealtimeState-ContactEventsBufferDeadLetter"
    source_arn = "arn:aws:sqs:eu-west-2:111122223333:ConnectRealtimeState-ContactEventsBufferDeadLetter"
    destination_arn = "arn:aws:sqs:eu-west-2:111122223333:ConnectRealtimeState-ContactEventsBuffer"
    queue = SqsQueue(client, url)
    move = {"SourceArn": source_arn, "DestinationArn": destination_arn}
    listing = {"SourceArn": source_arn, "MaxResults": 1}
    assert_valid_request("sqs", "StartMessageMoveTask", move)
    assert_valid_request("sqs", "ListMessageMoveTasks", listing)
    attributes = {"Attributes": {"QueueArn": source_arn}}
    with Stubber(client) as stubber:
        stubber.add_response("get_queue_attributes", attributes, {"QueueUrl": url, "AttributeNames": ["QueueArn"]})
        stubber.add_response("start_message_move_task", {"TaskHandle": "handle"}, move)
        stubber.add_response("get_queue_attributes", attributes, {"QueueUrl": url, "AttributeNames": ["QueueArn"]})
        stubber.add_response("list_message_move_tasks", {"Results": [{"Status": "COMPLETED"}]}, listing)
        assert queue.start_move_task(destination_arn) == "handle"
        assert queue.latest_move_task()["Status"] == "COMPLETED"


class FakeStore:
    def __init__(self, documents: dict[str, Any]) -> None:
        self.documents = documents

    def names(self) -> Iterator[str]:
        yield from list(self.documents)

    def read(self, name: str) -> dict[str, Any]:
        document = self.documents[name]
        if isinstance(document, bytes):
            return json.loads(document)  # type: ignore[no-any-return]
        return document  # type: ignore[no-any-return]

    def delete(self, name: str) -> None:
        del self.documents[name]


def test_failed_batches_are_applied_and_deleted_and_what_cannot_be_replayed_stays() -> None:
    # Given a record with its payload, one whose range the stream still has, one whose range it no longer has, and junk
    info = DOCS_RECORD["KinesisBatchInfo"]

    def ranged(first: int, last: int) -> dict[str, Any]:
        batch_info = {**info, "streamArn": STREAM, "shardId": "shardId-000000000000"}
        return {
            **DOCS_RECORD,
            "KinesisBatchInfo": {**batch_info, "startSequenceNumber": str(first), "endSequenceNumber": str(last)},
        }

    store = FakeStore(
        {
            "with-payload": {**ranged(1, 2), "payload": json.dumps({"Records": shaped(1, 2)})},
            "in-stream": ranged(11, 12),
            "expired": ranged(1000, 1001),
            "junk": b"[]",
        }
    )
    stream = FakeStream({"shardId-000000000000": [record(n, seconds=n) for n in (11, 12, 13)]})
    function = FakeFunction(lambda _: Invocation(None))
    replayer = Replayer(function, DeliverySettings(), sleep=lambda _: None)
    # When they are replayed, deleting what was applied
    left = replay_failed_batches(store, stream, replayer, ROLE, delete_replayed=True, progress=lambda _: None)
    # Then the first two are applied (the second read back from the stream, up to its end) and deleted
    assert function.batches == [[1, 2], [11, 12]]
    assert sorted(left) == ["expired", "junk"]
    assert sorted(store.documents) == ["expired", "junk"]
