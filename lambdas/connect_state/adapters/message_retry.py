"""Retry with backoff through SQS: a message reported as failed comes back when its visibility timeout ends, so
setting that timeout is how the enrichment waits (seconds to minutes) without holding a function."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_VISIBILITY_TIMEOUT = 43_200  # SQS's limit: 12 hours


class SqsMessageRetry:
    def __init__(self, client: SQSClient, queue_urls: Mapping[str, str]) -> None:
        self._client = client
        self._queue_urls = queue_urls  # queue ARN (what Lambda's event says) → URL (what SQS's API wants)

    def postpone(self, queue_arn: str, receipt_handle: str, seconds: int) -> None:
        """Best effort: if this fails, the message still comes back after the queue's own visibility timeout."""
        queue_url = self._queue_urls.get(queue_arn)
        if queue_url is None:
            return
        self._client.change_message_visibility(
            QueueUrl=queue_url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=max(0, min(seconds, MAX_VISIBILITY_TIMEOUT)),
        )
