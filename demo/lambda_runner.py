"""What stands in for AWS Lambda in the demo: moto stores the stream, queues and tables but cannot run a function
without Docker. So this module does Lambda's part, and only that, in-process:

- a Kinesis poller per shard: reads the deployed stream in batches (at most `batch_size` records, like the event
  source mapping), hands them to the agent events handler in Lambda's event shape, and honours ReportBatchItemFailures
  the way Lambda does: the batch is retried from the first failed sequence number, a bounded number of times;
- an SQS poller per queue: receives up to 10 messages with their receive counts, hands them over in Lambda's event
  shape, and deletes the messages the function did not report as failed (failed ones come back after their visibility
  timeout, or the backoff the function set);
- a DynamoDB stream poller per table stream: reads every shard from TRIM_HORIZON in batches (`batch_size`, Lambda's
  default 100), hands them over in Lambda's DynamoDB event shape, and honours ReportBatchItemFailures as for Kinesis
  (retry from the first failed sequence number, a bounded number of times). How often it is polled (Lambda's
  batching window) is the caller's choice;
- each handler runs with exactly the environment variables the deployment gave its function (read back from the
  emulator), under the function's own configuration readers, in a process set up as Lambda's runtime would
  (`prepare_process`), its logs in a file and DescribeContact answered by the simulator.
It does not emulate concurrency, timeouts or scaling: one invocation at a time. What runs concurrently on Lambda (the
board function beside the others) is approximated by `after_invoke`: the caller reads the other event sources between
two invocations.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import io
import os
import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from demo.emulator import CREDENTIALS
from demo.lambda_shapes import FakeLambdaContext, function_environment, received_sqs_record
from ops.kinesis_events import StreamRecord, lambda_record

if TYPE_CHECKING:
    from demo.describe_contact import SimulatedConnect

REGION = "eu-west-2"
DEMO_ROLE = "arn:aws:iam::123456789012:role/demo"  # the invokeIdentityArn of the Kinesis records it delivers
REPO = Path(__file__).resolve().parents[1]


# --- this process, as Lambda's runtime would set it up for the functions ---------------------------------------------
def prepare_process(endpoint_url: str) -> None:
    """What Lambda's runtime would give the functions, pointed at the emulator; set before any handler import. The
    functions' clients come from the default boto3 session (see `on_each_function_call`)."""
    # Powertools warns on stderr about invocations that published no metric (an empty batch); CloudWatch would not.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    sys.path.insert(0, str(REPO / "lambdas"))
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    boto3.setup_default_session(region_name=REGION, **CREDENTIALS)  # type: ignore[arg-type]


def on_each_function_call(service: str, hook: Callable[..., None]) -> None:
    """`hook` runs before each call the functions make to `service` (their clients use the default session)."""
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register(f"before-call.{service}", hook)


def send_function_logs_to(stream: io.TextIOBase) -> None:
    """The functions' JSON logs go to a file (they are the CloudWatch Logs of the demo), not over the wallboard."""
    from connect_state.observability import logger

    handler = logger.registered_handler
    if hasattr(handler, "setStream"):
        handler.setStream(stream)


def answer_describe_contact_with(connect: SimulatedConnect) -> None:
    """The enrichment function's DescribeContact is answered by the simulator, not by AWS."""
    from connect_state.adapters.contact_api import ConnectContactApi
    from connect_state.handlers import enrichment

    api = ConnectContactApi(connect)  # type: ignore[arg-type]
    enrichment.dependencies.reset(lambda: enrichment.build(api=api))


# --- the functions and their event sources ----------------------------------------------------------------------------


@dataclass
class InProcessFunction:
    """One deployed function, run in this process with its deployed environment."""

    handler: str  # module.function, as deployed
    environment: Mapping[str, str]
    function_name: str
    output: io.TextIOBase  # where the function's stdout (EMF metrics) goes
    invocations: int = 0
    # Runs after each invocation: Lambda runs the other functions meanwhile (the demo reads the tables' streams here)
    after_invoke: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        module, _, name = self.handler.rpartition(".")
        with function_environment(self.environment):
            self._function: Callable[[dict[str, Any], Any], dict[str, Any]] = getattr(
                importlib.import_module(module), name
            )
        self._context = FakeLambdaContext.in_demo(self.function_name)

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        self.invocations += 1
        with function_environment(self.environment), contextlib.redirect_stdout(self.output):
            result = self._function(event, self._context)
        if self.after_invoke is not None:
            self.after_invoke()
        return result


@dataclass
class KinesisPoller:
    """Lambda's Kinesis event source mapping for one stream: every shard from TRIM_HORIZON, in order."""

    kinesis: Any  # a boto3 Kinesis client
    stream_name: str
    function: InProcessFunction
    batch_size: int = 100
    max_retries: int = 5
    delivered: int = 0
    given_up: int = 0  # records Lambda would send to the on-failure destination
    _iterators: dict[str, str] = field(default_factory=dict)

    def poll(self) -> int:
        """Deliver everything readable now; returns the records delivered."""
        before = self.delivered
        stream = self.kinesis.describe_stream(StreamName=self.stream_name)["StreamDescription"]
        for shard in stream["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self.kinesis.get_shard_iterator(
                    StreamName=self.stream_name, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            while True:
                response = self.kinesis.get_records(ShardIterator=self._iterators[shard_id], Limit=self.batch_size)
                self._iterators[shard_id] = response["NextShardIterator"]
                if not response["Records"]:
                    break
                self._deliver(stream["StreamARN"], shard_id, response["Records"])
        return self.delivered - before

    def _deliver(self, stream_arn: str, shard_id: str, records: list[dict[str, Any]]) -> None:
        for _ in range(self.max_retries + 1):
            event = {
                "Records": [
                    lambda_record(StreamRecord.from_get_records(shard_id, record), stream_arn, DEMO_ROLE)
                    for record in records
                ]
            }
            failures = self.function.invoke(event).get("batchItemFailures", [])
            self.delivered += len(records)
            if not failures:
                return
            # Lambda's checkpoint: retry from the first failed record (everything before it succeeded).
            first = min(int(failure["itemIdentifier"]) for failure in failures)
            records = [r for r in records if int(r["SequenceNumber"]) >= first]
        self.given_up += len(records)


@dataclass
class SqsPoller:
    """Lambda's SQS event source mapping for one queue."""

    sqs: Any  # a boto3 SQS client
    queue_url: str
    queue_arn: str
    function: InProcessFunction
    batch_size: int = 10
    delivered: int = 0
    failed: int = 0  # reported as failed: back after the visibility timeout or the function's backoff

    def poll(self) -> int:
        before = self.delivered
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size, MessageSystemAttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                return self.delivered - before
            event = {"Records": [received_sqs_record(message, self.queue_arn) for message in messages]}
            failures = {f["itemIdentifier"] for f in self.function.invoke(event).get("batchItemFailures", [])}
            self.delivered += len(messages)
            self.failed += len(failures)
            done = [m for m in messages if m["MessageId"] not in failures]
            if done:
                self.sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
                )


@dataclass
class DynamoDbStreamPoller:
    """Lambda's DynamoDB stream event source mapping for one table's stream: every shard from TRIM_HORIZON, in order
    (a parent shard before its children), `batch_size` records per invocation."""

    streams: Any  # a boto3 DynamoDB Streams client
    stream_arn: str
    function: InProcessFunction
    batch_size: int = 100
    max_retries: int = 5
    delivered: int = 0
    invocations: int = 0
    given_up: int = 0  # records Lambda would send to the on-failure destination
    _iterators: dict[str, str] = field(default_factory=dict)

    def poll(self) -> int:
        """Deliver everything readable now; returns the records delivered."""
        before = self.delivered
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        for shard in _parents_first(shards):
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            while self._iterators.get(shard_id):
                response = self.streams.get_records(ShardIterator=self._iterators[shard_id], Limit=self.batch_size)
                self._iterators[shard_id] = response.get("NextShardIterator", "")  # none: a closed shard, read
                if not response["Records"]:
                    break
                self._deliver(response["Records"])
        return self.delivered - before

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        for _ in range(self.max_retries + 1):
            event = {"Records": [dynamodb_stream_record(record, self.stream_arn) for record in records]}
            self.invocations += 1
            failures = self.function.invoke(event).get("batchItemFailures") or []
            self.delivered += len(records)
            if not failures:
                return
            # Lambda's checkpoint: retry from the first failed record (everything before it succeeded).
            first = min(int(failure["itemIdentifier"]) for failure in failures)
            records = [r for r in records if int(r["dynamodb"]["SequenceNumber"]) >= first]
        self.given_up += len(records)


def dynamodb_stream_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """A record of a DynamoDB Streams GetRecords response (as boto3's client returns it) as Lambda hands it over:
    `eventSourceARN` added, the stream's Region as `awsRegion`, the creation time in epoch seconds, binary attribute
    values base64-encoded again (boto3 decoded them; Lambda's event is JSON)."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = round(created.timestamp(), 3)
    for image in ("Keys", "NewImage", "OldImage"):
        if image in change:
            change[image] = {name: _json_attribute(value) for name, value in change[image].items()}
    shaped: dict[str, Any] = {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": stream_arn.split(":")[3],
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in record:  # a deletion by TTL
        shaped["userIdentity"] = record["userIdentity"]
    return shaped


def _json_attribute(value: Any) -> Any:
    """One attribute value in DynamoDB's JSON form: bytes (B, BS, nested) back to base64 text."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Mapping):
        return {key: _json_attribute(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_attribute(item) for item in value]
    return value


def _parents_first(shards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Shards ordered so that a parent is read before its children (Lambda's order across a shard split)."""
    by_id = {shard["ShardId"]: shard for shard in shards}
    ordered: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(shard: dict[str, Any]) -> None:
        if shard["ShardId"] in seen:
            return
        seen.add(shard["ShardId"])
        parent = by_id.get(shard.get("ParentShardId", ""))
        if parent is not None:
            visit(parent)
        ordered.append(shard)

    for shard in shards:
        visit(shard)
    return ordered
