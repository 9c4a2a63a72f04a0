"""What the operations tools need from AWS, as small interfaces; ops.adapters implements them with boto3, and the
tests run the tools' logic against the emulator (and an in-process function where the emulator cannot run Lambda)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ops.kinesis_events import StreamRecord


@dataclass(frozen=True)
class Invocation:
    """What a synchronous invocation returned: the function's response, and Lambda's FunctionError if it raised."""

    response: Any
    function_error: str | None = None


class FunctionInvoker(Protocol):
    def invoke(self, event: Mapping[str, Any]) -> Invocation: ...


@dataclass(frozen=True)
class Position:
    """Where to start reading a shard: Kinesis's ShardIteratorType and its argument."""

    iterator_type: str  # TRIM_HORIZON, AT_TIMESTAMP or AT_SEQUENCE_NUMBER
    timestamp: datetime | None = None
    sequence_number: str | None = None


class StreamReader(Protocol):
    stream_arn: str

    def shard_ids(self) -> list[str]: ...

    def read(self, shard_id: str, position: Position, limit: int) -> Iterator[list[StreamRecord]]:
        """Records from `position` in order, up to `limit` per chunk, until the reader has caught up with the shard."""
        ...


class FailedBatchStore(Protocol):
    def names(self) -> Iterator[str]: ...

    def read(self, name: str) -> dict[str, Any]: ...

    def delete(self, name: str) -> None: ...


@dataclass(frozen=True)
class Message:
    message_id: str
    receipt_handle: str
    body: str


class Queue(Protocol):
    url: str

    def receive(self) -> list[Message]:
        """Up to 10 messages, hidden from other readers for a while; empty when the queue is."""
        ...

    def send(self, bodies: Sequence[str]) -> list[int]:
        """Send up to 10 bodies; returns the indexes of those not taken."""
        ...

    def delete(self, messages: Sequence[Message]) -> None: ...

    def release(self, messages: Sequence[Message]) -> None:
        """Make messages visible again at once (those left in the queue)."""
        ...


class RecordStream(Protocol):
    def put(self, data: bytes, partition_key: str) -> str:
        """Put the bytes as one record; returns its sequence number."""
        ...

    def get(self, shard_id: str, sequence_number: str) -> bytes | None:
        """A record's data while the stream retains it, else None."""
        ...
