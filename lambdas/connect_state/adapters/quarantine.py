"""The quarantine queue: bad input kept with its reason, for an operator to inspect and redrive (the message format is
service.ports.quarantine_message)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from connect_state.service.ports import QuarantinedRecord, quarantine_message

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SEND_BATCH = 10


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
                    "MessageBody": json.dumps(quarantine_message(record)),
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
