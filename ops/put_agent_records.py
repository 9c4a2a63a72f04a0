"""Put quarantined agent records back on the agent stream, byte for byte, once the cause is fixed.

    python -m ops.put_agent_records

A quarantine message's `raw` is the record's data as Lambda delivered it, base64-encoded. Kinesis must be given the
decoded bytes: `aws kinesis put-record --data <raw>` with AWS CLI v1 base64-encodes that text once more, and the record
comes back quarantined as "not JSON". This tool decodes `raw` once and puts the bytes with the SDK (which encodes them
once on the wire), with the record's own partition key, then deletes the message.

A record too long for the quarantine message (`rawTruncated`) is read back from the stream by its shard and sequence
number (`origin`) while the stream retains it (24 hours by default). Quarantined records are not failures, so no
on-failure record holds them: after that, the message is kept and the tool says so.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from ops.adapters import KinesisRecords, SqsQueue
from ops.aws import OperationError, aws_for, parser
from ops.ports import Message, Queue, RecordStream


@dataclass
class PutReport:
    put: int = 0
    kept: dict[str, str] = field(default_factory=dict)  # message id -> why it stays in the quarantine queue


def record_data(message: Message, stream: RecordStream) -> tuple[bytes, str]:
    """The record's exact bytes and partition key; raises ValueError with the reason when there are none."""
    try:
        document = json.loads(message.body)
        origin = document["origin"]
        partition_key = str(origin["partitionKey"])
        raw = str(document["raw"])
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"not an agent quarantine message ({type(error).__name__})") from None
    if not document.get("rawTruncated"):
        try:
            return base64.b64decode(raw, validate=True), partition_key
        except binascii.Error:
            raise ValueError("its raw record is not base64") from None
    shard_id = str(origin.get("eventID", "")).split(":", 1)[0]
    data = stream.get(shard_id, str(origin.get("sequenceNumber")))
    if data is None:
        raise ValueError(
            f"the quarantine message holds only the start of it, and the stream no longer has {shard_id} "
            f"sequence number {origin.get('sequenceNumber')}"
        )
    return data, partition_key


def put_back(quarantine: Queue, stream: RecordStream, progress: Callable[[str], None] = print) -> PutReport:
    report = PutReport()
    seen: set[str] = set()
    kept: list[Message] = []
    while messages := [m for m in quarantine.receive() if m.message_id not in seen]:
        seen.update(m.message_id for m in messages)
        done: list[Message] = []
        for message in messages:
            try:
                data, partition_key = record_data(message, stream)
            except ValueError as error:
                report.kept[message.message_id] = str(error)
                kept.append(message)
                progress(f"  kept {message.message_id}: {error}")
                continue
            stream.put(data, partition_key)
            done.append(message)
        quarantine.delete(done)
        report.put += len(done)
    quarantine.release(kept)  # visible again at once: the queue's alarm and the console show what is left
    return report


def main(argv: Sequence[str] | None = None) -> int:
    args = parser("ops.put_agent_records", "Put quarantined agent records back on the stream.").parse_args(argv)
    try:
        aws = aws_for(args)
        outputs = aws.outputs(args.stack)
        quarantine = SqsQueue(aws.client("sqs"), outputs["AgentEventsQuarantineQueueUrl"])
        stream = KinesisRecords(aws.client("kinesis"), outputs["AgentEventStreamArn"])
        print(f"putting the records in {quarantine.url} back on {stream.stream_arn}")
        report = put_back(quarantine, stream)
    except (OperationError, BotoCoreError, ClientError) as error:
        # a record put but not yet deleted is put again next time: a duplicate, which changes nothing
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"put {report.put} record(s) back on the stream; {len(report.kept)} kept in the quarantine queue")
    return 1 if report.kept else 0


if __name__ == "__main__":
    sys.exit(main())
