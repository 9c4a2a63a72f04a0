"""Replay agent events through the deployed agent events function, without a second event source mapping.

    python -m ops.replay_stream --from 2026-11-20T08:00:00Z [--to 2026-11-20T18:00:00Z]   # a time range
    python -m ops.replay_stream --from trim-horizon                                        # all the stream retains
    python -m ops.replay_stream --failed-batches [--delete-replayed]                       # the S3 on-failure records

Why not a temporary event source mapping: Lambda refuses a second mapping from the same stream to the same function
(ResourceConflictException), and a mapping on an alias would run beside the live one with its own checkpoints and
on-failure records. This tool reads the range itself (ListShards, GetShardIterator AT_TIMESTAMP or TRIM_HORIZON,
GetRecords up to `--to`, by default the moment it started) and invokes the function synchronously (Invoke,
RequestResponse) with exactly the event the live mapping would deliver. It creates nothing and changes no mapping.

Failure handling is the live mapping's, read from it (ListEventSourceMappings): its batch size, retry attempts,
bisect on function error and partial batch responses (`batchItemFailures`: the batch is retried from the lowest
failed sequence number). Where a replay differs, on purpose:
- no maximum record age: a replay reads old records by design; the mapping's limit would discard all of them;
- one batch at a time, shards one after another (no parallelization factor): order per shard is kept either way, and
  a replay should not take the live mapping's concurrency or the table's capacity;
- no batching window: the records are already in the stream;
- batches are also split below Lambda's 6 MB synchronous payload limit;
- what still fails is printed (shard and sequence range) and the exit code is 1, instead of an on-failure record:
  run the same command again once the cause is fixed (replays are idempotent).
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ops.adapters import KinesisStream, LambdaFunction, S3FailedBatches
from ops.aws import OperationError, aws_for, parser
from ops.kinesis_events import (
    FailedBatch,
    StreamRecord,
    batches,
    lambda_record,
    parse_failed_batch,
    sequence_number,
)
from ops.ports import FailedBatchStore, FunctionInvoker, Invocation, Position, StreamReader

TRIM_HORIZON = "trim-horizon"
# A live mapping with infinite retries (-1) would make a command that never ends; the replay stops at this many.
RETRIES_WHEN_UNLIMITED = 10
MAX_BACKOFF_SECONDS = 30.0


@dataclass(frozen=True)
class DeliverySettings:
    """The live event source mapping's failure handling, which the replay applies too."""

    batch_size: int = 100
    maximum_retry_attempts: int = 5
    bisect_batch_on_function_error: bool = True
    report_batch_item_failures: bool = True

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> DeliverySettings:
        retries = int(mapping.get("MaximumRetryAttempts", -1))
        return cls(
            batch_size=int(mapping.get("BatchSize", 100)),
            maximum_retry_attempts=RETRIES_WHEN_UNLIMITED if retries < 0 else retries,
            bisect_batch_on_function_error=bool(mapping.get("BisectBatchOnFunctionError", False)),
            report_batch_item_failures="ReportBatchItemFailures" in mapping.get("FunctionResponseTypes", []),
        )

    def describe(self) -> str:
        return (
            f"batches of up to {self.batch_size}, {self.maximum_retry_attempts} retries, "
            f"bisect on function error {'on' if self.bisect_batch_on_function_error else 'off'}, "
            f"batch item failures {'honoured' if self.report_batch_item_failures else 'not reported'}"
        )


@dataclass(frozen=True)
class FailedRange:
    shard_id: str
    first_sequence_number: str
    last_sequence_number: str
    records: int
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.shard_id} sequence numbers {self.first_sequence_number}..{self.last_sequence_number} "
            f"({self.records} records): {self.reason}"
        )


@dataclass
class ReplayReport:
    records: int = 0
    invocations: int = 0
    retries: int = 0
    shards: set[str] = field(default_factory=set)
    failed: list[FailedRange] = field(default_factory=list)

    def summary(self) -> str:
        failed = sum(f.records for f in self.failed)
        return (
            f"replayed {self.records:,} records from {len(self.shards)} shard(s) in {self.invocations:,} "
            f"invocation(s), {self.retries} retried; {failed} not applied"
        )


class Replayer:
    """Delivers one shard's records to the function the way the live mapping does (see the module docstring)."""

    def __init__(
        self, invoker: FunctionInvoker, settings: DeliverySettings, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._invoker = invoker
        self.settings = settings
        self._sleep = sleep
        self.report = ReplayReport()

    def deliver(self, records: Sequence[dict[str, Any]]) -> bool:
        """Deliver Lambda-shaped records of one shard, in order; False if some could not be applied."""
        failed_before = len(self.report.failed)
        for batch in batches(records, self.settings.batch_size):
            self._deliver_batch(batch)
        return len(self.report.failed) == failed_before

    def _deliver_batch(self, batch: list[dict[str, Any]]) -> None:
        self.report.records += len(batch)
        self.report.shards.add(_shard_of(batch[0]))
        work: deque[tuple[list[dict[str, Any]], int]] = deque([(batch, 0)])  # (records, retries used)
        while work:
            records, retries = work.popleft()
            invocation = self._invoker.invoke({"Records": records})
            self.report.invocations += 1
            if invocation.function_error is not None:
                if self.settings.bisect_batch_on_function_error and len(records) > 1:
                    half = len(records) // 2  # as Lambda bisects: the halves keep the batch's retries
                    work.extendleft([(records[half:], retries), (records[:half], retries)])
                    continue
                remaining, reason = records, _error_reason(invocation)
            else:
                remaining = self._unapplied(records, invocation.response)
                reason = "reported as batch item failures"
            if not remaining:
                continue
            if retries < self.settings.maximum_retry_attempts:
                self.report.retries += 1
                self._sleep(min(2.0**retries, MAX_BACKOFF_SECONDS))
                work.appendleft((remaining, retries + 1))
            else:
                self.report.failed.append(
                    FailedRange(
                        _shard_of(remaining[0]),
                        remaining[0]["kinesis"]["sequenceNumber"],
                        remaining[-1]["kinesis"]["sequenceNumber"],
                        len(remaining),
                        f"{reason}, after {retries} retries",
                    )
                )

    def _unapplied(self, records: list[dict[str, Any]], response: Any) -> list[dict[str, Any]]:
        """Lambda's reading of a partial batch response: none or an empty list is success; otherwise everything from
        the lowest failed sequence number is retried, and an item it cannot read fails the whole batch."""
        if not self.settings.report_batch_item_failures or not isinstance(response, Mapping):
            return []
        failures = response.get("batchItemFailures") or []
        in_batch = {r["kinesis"]["sequenceNumber"] for r in records}
        identifiers = [f.get("itemIdentifier") if isinstance(f, Mapping) else None for f in failures]
        if not identifiers:
            return []
        if any(not isinstance(i, str) or i not in in_batch for i in identifiers):
            return records
        first = min(int(str(i)) for i in identifiers)
        return [r for r in records if sequence_number(r) >= first]


def replay_range(
    reader: StreamReader,
    replayer: Replayer,
    start: Position,
    until: datetime | None,
    invoke_identity_arn: str,
    progress: Callable[[str], None] = print,
) -> None:
    """Every shard (closed ones too) from `start` to the last record that arrived at or before `until`."""
    for shard_id in reader.shard_ids():
        before = replayer.report.records
        for chunk in reader.read(shard_id, start, replayer.settings.batch_size):
            in_range = [r for r in chunk if until is None or r.arrival <= until]
            replayer.deliver([lambda_record(r, reader.stream_arn, invoke_identity_arn) for r in in_range])
            if len(in_range) < len(chunk):
                break  # a shard's records arrive in sequence order: the rest are later still
        progress(f"  {shard_id}: {replayer.report.records - before:,} records")


def replay_failed_batches(
    store: FailedBatchStore,
    reader: StreamReader,
    replayer: Replayer,
    invoke_identity_arn: str,
    delete_replayed: bool,
    progress: Callable[[str], None] = print,
) -> list[str]:
    """Every on-failure record in the store; returns the names of those that could not be replayed."""
    left: list[str] = []
    for name in store.names():
        try:
            batch = parse_failed_batch(name, store.read(name))
            records = batch.records if batch.records is not None else _read_back(batch, reader, invoke_identity_arn)
        except ValueError as error:  # not JSON, not an on-failure record, another stream's
            progress(f"  {name}: skipped, {error}")
            left.append(name)
            continue
        if records is None:
            progress(f"  {name}: its records are no longer in the stream and the record has no payload")
            left.append(name)
            continue
        applied = replayer.deliver(records)
        progress(f"  {name}: {len(records)} records {'applied' if applied else 'NOT all applied'}")
        if not applied:
            left.append(name)
        elif delete_replayed:
            store.delete(name)
    return left


def _read_back(batch: FailedBatch, reader: StreamReader, invoke_identity_arn: str) -> list[dict[str, Any]] | None:
    """The batch's records from the stream (an SQS/SNS on-failure record carries none), while it still holds them."""
    if batch.stream_arn != reader.stream_arn:
        raise ValueError(f"its records are from {batch.stream_arn}, not from {reader.stream_arn}")
    end = int(batch.end_sequence_number)
    records: list[StreamRecord] = []
    for chunk in reader.read(batch.shard_id, Position("AT_SEQUENCE_NUMBER", None, batch.start_sequence_number), 1000):
        records.extend(r for r in chunk if int(r.sequence_number) <= end)
        if any(int(r.sequence_number) >= end for r in chunk):
            break
    if not records or records[0].sequence_number != batch.start_sequence_number:
        return None
    return [lambda_record(r, reader.stream_arn, invoke_identity_arn) for r in records]


def _shard_of(record: Mapping[str, Any]) -> str:
    return str(record["eventID"]).split(":", 1)[0]


def _error_reason(invocation: Invocation) -> str:
    error_type = invocation.response.get("errorType") if isinstance(invocation.response, Mapping) else None
    return f"the function failed ({invocation.function_error}{': ' + str(error_type) if error_type else ''})"


def parse_time(text: str) -> datetime:
    """ISO 8601; a time without an offset is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise OperationError(f"not a time: {text!r} (expected e.g. 2026-11-20T08:00:00Z, or {TRIM_HORIZON})") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main(
    argv: Sequence[str] | None = None,
    *,
    invoker: FunctionInvoker | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """`invoker` stands in for Lambda's Invoke where Lambda cannot run (the emulator); None invokes the deployed
    function."""
    args = _parser().parse_args(argv)
    started = datetime.now(UTC)
    replayer: Replayer | None = None
    left: list[str] = []
    try:
        aws = aws_for(args)
        outputs = aws.outputs(args.stack)
        function_name, stream_arn = outputs["AgentEventsFunctionName"], outputs["AgentEventStreamArn"]
        function = LambdaFunction(aws.client("lambda", LambdaFunction.CLIENT_CONFIG), function_name)
        mapping = function.stream_mapping(stream_arn)
        settings = DeliverySettings.from_mapping(mapping)
        print(
            f"{function_name}: the live mapping {mapping['UUID']} ({mapping.get('State')}) is left as it is; "
            f"the replay invokes the function itself with {settings.describe()}"
        )
        replayer = Replayer(invoker or function, settings, sleep)
        reader = KinesisStream(aws.client("kinesis"), stream_arn, sleep=sleep)
        identity = function.role_arn()
        if args.failed_batches:
            bucket = args.bucket or outputs["AgentEventsFailedBatchBucketName"]
            print(f"replaying the failed batches in s3://{bucket}/{args.prefix}")
            store = S3FailedBatches(aws.client("s3"), bucket, args.prefix)
            left = replay_failed_batches(store, reader, replayer, identity, args.delete_replayed)
            if left:
                print(f"{len(left)} on-failure record(s) left in the bucket: {', '.join(left)}")
        else:
            start = (
                Position("TRIM_HORIZON")
                if args.from_ == TRIM_HORIZON
                else Position("AT_TIMESTAMP", parse_time(args.from_))
            )
            until = parse_time(args.to) if args.to else started
            print(f"replaying {stream_arn} from {args.from_} to {until.isoformat()}")
            replay_range(reader, replayer, start, until, identity)
    except (OperationError, BotoCoreError, ClientError) as error:
        print(f"error: {error}", file=sys.stderr)
        if replayer is not None:
            _print_report(replayer.report)  # what was applied before it stopped
        return 2
    _print_report(replayer.report)
    return 1 if replayer.report.failed or left else 0


def _print_report(report: ReplayReport) -> None:
    print(report.summary())
    for failed in report.failed:
        print(f"  not applied: {failed}")


def _parser() -> Any:
    result = parser("ops.replay_stream", "Replay agent events through the agent events function.")
    source = result.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--from", dest="from_", metavar="TIME", help=f"the range's start (ISO 8601, UTC by default) or {TRIM_HORIZON}"
    )
    source.add_argument(
        "--failed-batches", action="store_true", help="replay the on-failure records in the failed-batch bucket"
    )
    result.add_argument("--to", metavar="TIME", help="the range's end (default: when the command started)")
    result.add_argument("--bucket", help="default: the stack's AgentEventsFailedBatchBucketName output")
    result.add_argument("--prefix", default="aws/lambda/", help="where Lambda writes them (default: %(default)s)")
    result.add_argument("--delete-replayed", action="store_true", help="delete each record once fully applied")
    return result


if __name__ == "__main__":
    sys.exit(main())
