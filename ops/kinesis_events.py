"""Agent stream records in the event shape Lambda's Kinesis event source mapping delivers, and the on-failure records
Lambda writes when it gives up on a batch. Pure: no AWS calls.

The on-failure record (AWS Lambda Developer Guide, "Retain discarded batch records for a Kinesis Data Streams event
source"): `requestContext`, `responseContext`, `version`, `timestamp` and `KinesisBatchInfo` (`shardId`,
`startSequenceNumber`, `endSequenceNumber`, `approximateArrivalOfFirstRecord`, `approximateArrivalOfLastRecord`,
`batchSize`, `streamArn`); an S3 destination adds `payload`, the original invocation event as an escaped JSON string.
SQS and SNS destinations carry no records: the range must then be read from the stream while it retains it.
Objects are named `aws/lambda/<mapping UUID>/<shard id>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<random UUID>`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# A synchronous invocation's request payload may be at most 6 MB; a batch is split below it.
MAX_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024
_EVENT_OVERHEAD_BYTES = len('{"Records": []}')


@dataclass(frozen=True)
class StreamRecord:
    """One record as Kinesis GetRecords returns it (boto3 has already decoded `Data` to bytes)."""

    shard_id: str
    sequence_number: str
    partition_key: str
    data: bytes
    arrival: datetime

    @classmethod
    def from_get_records(cls, shard_id: str, record: Mapping[str, Any]) -> StreamRecord:
        """A record of a GetRecords response, as boto3 returns it."""
        return cls(
            shard_id,
            record["SequenceNumber"],
            record["PartitionKey"],
            record["Data"],
            record["ApproximateArrivalTimestamp"],
        )


def lambda_record(record: StreamRecord, stream_arn: str, invoke_identity_arn: str) -> dict[str, Any]:
    """The record as the live mapping hands it to the function: data base64-encoded once, arrival in epoch seconds
    with milliseconds, `eventID` `<shard id>:<sequence number>`, the function's role as `invokeIdentityArn`."""
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record.partition_key,
            "sequenceNumber": record.sequence_number,
            "data": base64.b64encode(record.data).decode("ascii"),
            "approximateArrivalTimestamp": round(record.arrival.timestamp(), 3),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{record.shard_id}:{record.sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": invoke_identity_arn,
        "awsRegion": stream_arn.split(":")[3],
        "eventSourceARN": stream_arn,
    }


def sequence_number(record: Mapping[str, Any]) -> int:
    return int(record["kinesis"]["sequenceNumber"])


def batches(
    records: Sequence[dict[str, Any]], max_records: int, max_bytes: int = MAX_INVOKE_PAYLOAD_BYTES
) -> Iterator[list[dict[str, Any]]]:
    """Consecutive batches of at most `max_records` records whose event (`{"Records": [...]}`) stays within
    `max_bytes` of JSON, in order. A record too large for any batch is still sent alone: Lambda would refuse it, and
    the replay then reports it as failed rather than dropping it silently."""
    batch: list[dict[str, Any]] = []
    size = _EVENT_OVERHEAD_BYTES
    for record in records:
        record_size = len(json.dumps(record)) + 2  # and its ", "
        if batch and (len(batch) >= max_records or size + record_size > max_bytes):
            yield batch
            batch, size = [], _EVENT_OVERHEAD_BYTES
        batch.append(record)
        size += record_size
    if batch:
        yield batch


@dataclass(frozen=True)
class FailedBatch:
    """One on-failure record: where the batch was in the stream, and its records when Lambda kept them (S3)."""

    name: str  # the S3 key (or message id) it was read from
    stream_arn: str
    shard_id: str
    start_sequence_number: str
    end_sequence_number: str
    records: list[dict[str, Any]] | None


def parse_failed_batch(name: str, document: Mapping[str, Any]) -> FailedBatch:
    """Raises ValueError when the document is not a Kinesis on-failure record."""
    info = document.get("KinesisBatchInfo") if isinstance(document, Mapping) else None
    if not isinstance(info, Mapping):
        raise ValueError(f"{name}: not a Kinesis on-failure record (no KinesisBatchInfo)")
    payload = document.get("payload")
    if isinstance(payload, str):
        payload = json.loads(payload)
    records = payload.get("Records") if isinstance(payload, Mapping) else None
    return FailedBatch(
        name=name,
        stream_arn=str(info["streamArn"]),
        shard_id=str(info["shardId"]),
        start_sequence_number=str(info["startSequenceNumber"]),
        end_sequence_number=str(info["endSequenceNumber"]),
        records=list(records) if isinstance(records, list) else None,
    )
