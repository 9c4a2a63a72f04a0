"""The AWS calls of the operations tools, one adapter per service: the tools' logic only sees their ports."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.config import Config

from ops.aws import OperationError
from ops.kinesis_events import StreamRecord
from ops.ports import Invocation, Message, Position

if TYPE_CHECKING:
    from mypy_boto3_kinesis import KinesisClient
    from mypy_boto3_sqs import SQSClient

# Seconds between two empty reads of a shard that is not caught up yet (Lambda polls each shard once a second).
IDLE_READ_SECONDS = 1.0


class LambdaFunction:
    """The deployed agent events function: its live stream mapping, and synchronous invocations."""

    # A synchronous invocation returns when the function does: up to its timeout (at most 15 minutes).
    CLIENT_CONFIG = Config(read_timeout=905, connect_timeout=10, tcp_keepalive=True)

    def __init__(self, client: Any, function_name: str) -> None:
        self._client = client
        self.function_name = function_name

    def invoke(self, event: Mapping[str, Any]) -> Invocation:
        response = self._client.invoke(
            FunctionName=self.function_name,
            InvocationType="RequestResponse",
            Payload=json.dumps(event).encode(),
        )
        body = response["Payload"].read()
        return Invocation(json.loads(body) if body else None, response.get("FunctionError"))

    def stream_mapping(self, stream_arn: str) -> dict[str, Any]:
        """The one event source mapping from `stream_arn` to this function (read, never changed)."""
        mappings = [
            mapping
            for page in self._client.get_paginator("list_event_source_mappings").paginate(
                FunctionName=self.function_name, EventSourceArn=stream_arn
            )
            for mapping in page["EventSourceMappings"]
        ]
        if len(mappings) != 1:
            raise OperationError(
                f"expected one event source mapping from {stream_arn} to {self.function_name}, found {len(mappings)}"
            )
        return dict(mappings[0])

    def role_arn(self) -> str:
        """The execution role: Lambda puts it in every Kinesis record as `invokeIdentityArn`."""
        return str(self._client.get_function_configuration(FunctionName=self.function_name)["Role"])


class KinesisStream:
    """Reads a stream's shards with shard iterators (the shared 5 reads/s per shard; throttling is retried)."""

    def __init__(self, client: KinesisClient, stream_arn: str, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self.stream_arn = stream_arn
        self._sleep = sleep

    def shard_ids(self) -> list[str]:
        """Every shard, closed ones included: their records stay readable for the retention period."""
        return [
            shard["ShardId"]
            for page in self._client.get_paginator("list_shards").paginate(StreamARN=self.stream_arn)
            for shard in page["Shards"]
        ]

    def read(self, shard_id: str, position: Position, limit: int) -> Iterator[list[StreamRecord]]:
        arguments: dict[str, Any] = {
            "StreamARN": self.stream_arn,
            "ShardId": shard_id,
            "ShardIteratorType": position.iterator_type,
        }
        if position.timestamp is not None:
            arguments["Timestamp"] = position.timestamp
        if position.sequence_number is not None:
            arguments["StartingSequenceNumber"] = position.sequence_number
        iterator: str | None = self._client.get_shard_iterator(**arguments)["ShardIterator"]
        while iterator:
            response = self._client.get_records(ShardIterator=iterator, Limit=limit, StreamARN=self.stream_arn)
            records = [StreamRecord.from_get_records(shard_id, record) for record in response["Records"]]
            if records:
                yield records
            elif response.get("MillisBehindLatest", 0) == 0:
                return  # caught up with the shard
            else:
                self._sleep(IDLE_READ_SECONDS)
            iterator = response.get("NextShardIterator")  # none once a closed shard is read to its end


class S3FailedBatches:
    """The on-failure records Lambda writes to the failed-batch bucket (one object per failed batch)."""

    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = prefix

    def names(self) -> Iterator[str]:
        for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=self._prefix):
            for item in page.get("Contents", []):
                yield str(item["Key"])

    def read(self, name: str) -> dict[str, Any]:
        body = self._client.get_object(Bucket=self._bucket, Key=name)["Body"].read()
        document: dict[str, Any] = json.loads(body)
        return document

    def delete(self, name: str) -> None:
        self._client.delete_object(Bucket=self._bucket, Key=name)


class SqsQueue:
    """One queue, addressed by URL: receive, send, delete, and SQS's own dead-letter redrive."""

    # Long enough to move a receive's messages; a message that is skipped reappears after it.
    VISIBILITY_TIMEOUT_SECONDS = 120

    def __init__(self, client: SQSClient, url: str) -> None:
        self._client = client
        self.url = url

    @property
    def arn(self) -> str:
        attributes = self._client.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]
        return attributes["QueueArn"]

    def dead_letter_sources(self) -> list[str]:
        """The queues whose redrive policy sends their failures here (empty: not a dead-letter queue)."""
        return [
            url
            for page in self._client.get_paginator("list_dead_letter_source_queues").paginate(QueueUrl=self.url)
            for url in page.get("queueUrls", [])
        ]

    def receive(self, wait_seconds: int = 1) -> list[Message]:
        messages = self._client.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,  # a long poll asks every SQS server: an empty answer means empty
            VisibilityTimeout=self.VISIBILITY_TIMEOUT_SECONDS,
        ).get("Messages", [])
        return [Message(m["MessageId"], m["ReceiptHandle"], m["Body"]) for m in messages]

    def send(self, bodies: Sequence[str]) -> list[int]:
        """Send up to 10 bodies; returns the indexes of those SQS did not take."""
        if not bodies:
            return []
        response = self._client.send_message_batch(
            QueueUrl=self.url, Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)]
        )
        return [int(failure["Id"]) for failure in response.get("Failed", [])]

    def delete(self, messages: Sequence[Message]) -> None:
        if messages:
            self._client.delete_message_batch(
                QueueUrl=self.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(messages)],
            )

    def release(self, messages: Sequence[Message]) -> None:
        for start in range(0, len(messages), 10):
            self._client.change_message_visibility_batch(
                QueueUrl=self.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0}
                    for i, m in enumerate(messages[start : start + 10])
                ],
            )

    def start_move_task(self, destination_arn: str) -> str:
        """SQS's own redrive (StartMessageMoveTask) from this dead-letter queue to `destination_arn`."""
        response = self._client.start_message_move_task(SourceArn=self.arn, DestinationArn=destination_arn)
        return response["TaskHandle"]

    def latest_move_task(self) -> dict[str, Any]:
        results = self._client.list_message_move_tasks(SourceArn=self.arn, MaxResults=1)["Results"]
        if not results:
            raise OperationError(f"no message move task on {self.url}")
        return dict(results[0])


class KinesisRecords:
    """Puts records on the stream, and reads one back by its shard and sequence number."""

    def __init__(self, client: KinesisClient, stream_arn: str) -> None:
        self._client = client
        self.stream_arn = stream_arn

    def put(self, data: bytes, partition_key: str) -> str:
        # boto3 takes the bytes and base64-encodes them once on the wire: Kinesis stores exactly `data`.
        response = self._client.put_record(StreamARN=self.stream_arn, Data=data, PartitionKey=partition_key)
        return response["SequenceNumber"]

    def get(self, shard_id: str, sequence_number: str) -> bytes | None:
        """The record's data while the stream retains it, else None."""
        try:
            iterator = self._client.get_shard_iterator(
                StreamARN=self.stream_arn,
                ShardId=shard_id,
                ShardIteratorType="AT_SEQUENCE_NUMBER",
                StartingSequenceNumber=sequence_number,
            )["ShardIterator"]
        except (self._client.exceptions.InvalidArgumentException, self._client.exceptions.ResourceNotFoundException):
            return None
        records = self._client.get_records(ShardIterator=iterator, Limit=1, StreamARN=self.stream_arn)["Records"]
        if not records or records[0]["SequenceNumber"] != sequence_number:
            return None
        return records[0]["Data"]
