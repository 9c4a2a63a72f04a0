"""The quarantine queue: bad input kept with its reason, for an operator to inspect and redrive."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# SQS takes 256 KiB per message on every account; keep room for the envelope around the raw record.
MAX_RAW_CHARS = 200_000
SEND_BATCH = 10


@dataclass(frozen=True)
class QuarantinedRecord:
    """`raw` is the record as it arrived (base64 data for Kinesis, the event for EventBridge)."""

    reason: str
    source: str
    raw: str
    origin: dict[str, Any] = field(default_factory=dict)  # where to find it again: stream, shard, sequence number


class Quarantine(Protocol):
    def send(self, records: Sequence[QuarantinedRecord]) -> list[int]:
        """Send the records; return the indexes of those that could not be sent (the caller retries them)."""
        ...


Item = TypeVar("Item")


def send_all(
    quarantine: Quarantine, entries: Sequence[tuple[Item, QuarantinedRecord]]
) -> tuple[list[tuple[Item, QuarantinedRecord]], list[Item]]:
    """Send the records; return the entries that went, and the items whose record could not (to be retried)."""
    unsent = set(quarantine.send([record for _, record in entries]))
    sent = [entry for index, entry in enumerate(entries) if index not in unsent]
    return sent, [item for index, (item, _) in enumerate(entries) if index in unsent]


class SqsQuarantine:
    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def send(self, records: Sequence[QuarantinedRecord]) -> list[int]:
        failed: list[int] = []
        for start in range(0, len(records), SEND_BATCH):
            chunk = records[start : start + SEND_BATCH]
            entries = [
                {
                    "Id": str(start + offset),
                    "MessageBody": json.dumps(_message(record)),
                    "MessageAttributes": {
                        "reason": {"DataType": "String", "StringValue": record.reason[:256]},
                        "source": {"DataType": "String", "StringValue": record.source},
                    },
                }
                for offset, record in enumerate(chunk)
            ]
            try:
                response = self._client.send_message_batch(QueueUrl=self._queue_url, Entries=entries)  # type: ignore[arg-type]
            except Exception:  # the whole call failed: every record in it goes back to Lambda for a retry
                failed.extend(range(start, start + len(chunk)))
                continue
            failed.extend(int(entry["Id"]) for entry in response.get("Failed", []))
        return failed


def original_body(body: str) -> str:
    """The record inside a quarantine / dead-letter message, so that an operator can redrive such a queue straight
    back to its source queue once the cause is fixed (README "Operations"); any other body is returned as it is."""
    if not body.startswith('{"reason"'):  # what _message writes first; real events never start so
        return body
    try:
        document = json.loads(body)
    except json.JSONDecodeError:
        return body
    if isinstance(document, dict) and isinstance(document.get("raw"), str) and not document.get("rawTruncated"):
        return str(document["raw"])
    return body


def _message(record: QuarantinedRecord) -> dict[str, Any]:
    truncated = len(record.raw) > MAX_RAW_CHARS
    return {
        "reason": record.reason,
        "source": record.source,
        "origin": record.origin,
        "raw": record.raw[:MAX_RAW_CHARS],
        "rawTruncated": truncated,
    }
