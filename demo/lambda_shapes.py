"""What Lambda hands a function, for code that stands in for Lambda (the demo, the cost measurement, the tests): the
context object, the records of an SQS event, and the function's environment variables for one invocation. No
dependencies, so tests import it without the demo's.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass
class FakeLambdaContext:
    """The attributes of the Lambda context object that Powertools reads (the defaults are the tests')."""

    function_name: str = "connect-realtime-state-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-2:111122223333:function:connect-realtime-state-test"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    log_group_name: str = "/aws/lambda/connect-realtime-state-test"
    log_stream_name: str = "test"
    timeout_seconds: int = 60

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_seconds * 1000

    @classmethod
    def in_demo(cls, function_name: str) -> FakeLambdaContext:
        """The context the demo and the cost measurement give a function: its name, no deployed ARN or log group."""
        return cls(
            function_name, aws_request_id="demo", invoked_function_arn="", log_group_name="", log_stream_name="demo"
        )


@contextlib.contextmanager
def function_environment(values: Mapping[str, str]) -> Iterator[None]:
    """`values` set in os.environ for the block (a function's configuration); what was there before is put back."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def sqs_record(
    body: str,
    queue_arn: str,
    *,
    message_id: str,
    receipt_handle: str,
    attributes: Mapping[str, str],
    md5_of_body: str = "",
) -> dict[str, Any]:
    """One record of the event Lambda's SQS event source mapping delivers (`awsRegion` is the queue's)."""
    return {
        "messageId": message_id,
        "receiptHandle": receipt_handle,
        "body": body,
        "attributes": dict(attributes),
        "messageAttributes": {},
        "md5OfBody": md5_of_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }


def received_sqs_record(message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
    """The record of a message as SQS ReceiveMessage returned it (with `MessageSystemAttributeNames=["All"]`)."""
    return sqs_record(
        message["Body"],
        queue_arn,
        message_id=message["MessageId"],
        receipt_handle=message["ReceiptHandle"],
        attributes=message.get("Attributes", {}),
        md5_of_body=message.get("MD5OfBody", ""),
    )
