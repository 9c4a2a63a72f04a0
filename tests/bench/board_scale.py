"""`make board-scale`: what the live wallboard costs at scale, measured through the real code, next to the naive design.

    PYTHONPATH=lambdas:. .venv/bin/python -m tests.bench.board_scale [--agents 1000 --minutes 15 --boards 100 --seed 7]

1. The simulator's deliveries (demo.simulate), in delivery order at their simulated arrival times, are folded into the
   two state tables IN MEMORY by the real services: agent_events.process (Kinesis batches as the simulator delivers
   them) and contact_events.process (SQS batches: 10 messages or 2 s, as stacks/constructs/contact_event_consumer.py
   sets). Every write that changed an item is one DynamoDB stream record (DynamoDB writes none for a write that
   changes nothing; a state write always stamps `updatedAt`, so here every successful write is one). Malformed
   records are left out (the services would quarantine them: no write, no stream record). The DescribeContact
   enrichment is not run: each contact's first COMPLETED write is followed, 2 s later, by one enrichment write (the
   completed queue's 1 s window and the call), which is one more stream record.
2. Each table's stream records are cut into the board function's invocations: 1 s batching windows of simulated
   time, at most 1,000 records each (stacks/constructs/wallboard_read_model.py), ONE shard per table stream (a
   DynamoDB stream has about one shard per table partition, and a new on-demand table starts with a few partitions
   that never split at a few hundred writes a second; with more shards, multiply the invocations and, at worst, the
   messages). The REAL BoardService.apply_changes runs per invocation on tests/fakes.py's in-memory tables, with the
   clock at the window's end; the agent invocation runs before the contact one of the same second.
3. The fakes are wrapped (subclasses: same answers) to meter what DynamoDB would charge for each call the adapter
   (adapters/board_tables.py) makes for it: BatchGetItem strongly consistent, per item (4 KB, at least one unit, also
   for a missing key); the board table's Query of the agent rows strongly consistent, per 4 KB of the items returned;
   the two index Queries eventually consistent (half), per 4 KB of the index entries (byQueue projects ALL: the whole
   item; byQueueEnqueued projects the keys and its INCLUDE attributes only); PutItem/DeleteItem/UpdateItem per started
   KB of the larger of the item before and after (tests.bench.dynamodb_units). The byQueueEnqueued index's own writes
   (a cost of the read model, paid by the contact table) are counted too.
4. Priced per month with the list prices in prices.json for the business hours `make cost` assumes (8 h x 22 days),
   the boards connected the same hours. Lambda duration: the CPU time of apply_changes in this process (with the
   in-memory fakes, so only a rough figure), scaled to the function's 512 MB share of a vCPU, plus 10 ms per DynamoDB
   request and per publish request.
5. Next to it: the NAIVE design (every stream record pushed to every board, the message being the changed item's
   JSON), and polling Amazon Connect's GetCurrentMetricData (5 requests a second per account, shared by every
   viewer).

Figures are printed, not asserted (tests/unit/test_board_scale.py checks that they are consistent), and written to
build/board-scale.json. Figures are for the simulated minutes: deliveries arriving after the end are left out.
"""

from __future__ import annotations

import argparse
import copy
import functools
import heapq
import json
import math
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from connect_state.domain import board, contact_state, timestamps
from connect_state.models.board_settings import WallboardSettings
from connect_state.service import agent_events, contact_events
from connect_state.service.board import BoardService, Change
from connect_state.service.ports import ABANDONED_PUBLISHED_AT, Claim, ItemWrite, StoredRow, WriteResult
from demo.contact_centre import SimulationConfig, shard_of
from demo.simulate import AGENT, CONTACT, Disorder, Run, generate
from tests.bench import dynamodb_units
from tests.bench.cost import AWS_CALL_SECONDS, DAYS_PER_MONTH, FULL_VCPU_MB, HOURS_PER_DAY, PRICES
from tests.fakes import InMemoryAgentStateStore, InMemoryBoardRows, InMemoryBoardState, RecordingChannelPublisher

# The stack's settings (the board function's event source mappings, the contact consumer's, the function's memory).
BOARD_WINDOW_MS = 1_000  # wallboard_read_model.BATCHING_WINDOW
BOARD_BATCH_SIZE = 1_000  # wallboard_read_model.BATCH_SIZE
CONTACT_BATCH_SIZE = 10  # contact_event_consumer.BATCH_SIZE
CONTACT_WINDOW_MS = 2_000  # contact_event_consumer.MAX_BATCHING_WINDOW
BOARD_MEMORY_MB = 512  # LambdaRuntime.function's default
ENRICHMENT_DELAY_MS = 2_000
TTL_DAYS = 90
MAX_AGENT_EVENT_BYTES = 131_072
ENQUEUED_INDEX_KEYS = ("contactId", "queueArn", "enqueuedAt")
QUERY_PAGE_BYTES = 1024 * 1024
BATCH_GET_KEYS = 100
# AppSync Events (prices.json): every event published and every event delivered to a subscriber is one operation
# per started 5 KB; connecting and subscribing are operations too (each board: one connection, two subscriptions
# a day).
EVENT_OPERATION_BYTES = 5 * 1024
OPERATIONS_PER_BOARD_DAY = 3
# Amazon Connect GetCurrentMetricData: 5 requests a second per account (Service Quotas), shared by every caller;
# one request covers up to 100 queues (its Filters).
CONNECT_METRIC_REQUESTS_PER_SECOND = 5
CONNECT_QUEUES_PER_REQUEST = 100
BUSINESS_SECONDS = HOURS_PER_DAY * DAYS_PER_MONTH * 3600
_serializer = TypeSerializer()


# --- sizes -----------------------------------------------------------------------------------------------------------
def _dynamo_value(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, Mapping):
        return {k: _dynamo_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_dynamo_value(v) for v in value]
    return value


def item_size(item: Mapping[str, Any]) -> int:
    """An item of plain Python values (as the fakes hold it), sized by DynamoDB's rules (tests.bench.dynamodb_units)."""
    typed = {name: _serializer.serialize(_dynamo_value(value)) for name, value in item.items()}
    return dynamodb_units.item_size(typed)


def json_bytes(document: Any) -> int:
    """The event as the channel publisher sends it (adapters/channel_publisher.publish_body)."""
    return len(json.dumps(document, separators=(",", ":"), sort_keys=True, default=str).encode())


def plain_copy(value: Any) -> Any:
    """copy.deepcopy for the JSON-like values the tables hold, several times faster (see MeteredBoardState)."""
    if isinstance(value, dict):
        return {k: plain_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_copy(v) for v in value]
    if isinstance(value, set):
        return set(value)  # a contact's stagesSeen
    return value


def event_operations(size: int) -> int:
    return max(1, math.ceil(size / EVENT_OPERATION_BYTES))


def _read_units(total_bytes: int, *, consistent: bool) -> float:
    """One Query's units: per started 4 KB of what it returns, a page at a time, at least one (half if eventual)."""
    pages = max(1, math.ceil(total_bytes / QUERY_PAGE_BYTES))
    units = 0
    left = total_bytes
    for _ in range(pages):
        units += max(1, math.ceil(min(left, QUERY_PAGE_BYTES) / (4 * 1024)))
        left -= QUERY_PAGE_BYTES
    return float(units) if consistent else units / 2


# --- the state tables, in memory, writing stream records -------------------------------------------------------------
@dataclass(frozen=True)
class StreamRecord:
    table: str  # "agent" / "contact"
    at_ms: int
    change: Change | None  # None: the board function has nothing to recompute (handlers.board_changes.change_of)
    image_bytes: int  # the changed item's JSON (the new image, or the old one when removed): the naive design's message


class StreamLog:
    """Every change of a state item, as the table's stream would carry it."""

    def __init__(self) -> None:
        self.now_ms = 0
        self.records: dict[str, list[StreamRecord]] = {AGENT: [], CONTACT: []}
        self.completed: list[str] = []  # contacts whose COMPLETED was just written (enriched shortly after)

    def changed(self, table: str, key: str, before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> None:
        change: Change | None
        if table == AGENT:
            change = Change.agent(key)
        else:
            change = (
                Change.contact(key, (before or {}).get("queueArn"), after.get("queueArn"))
                if board.queue_figures_changed(before, after)
                else None
            )
            if after.get("status") == "COMPLETED" and (before or {}).get("status") != "COMPLETED":
                self.completed.append(key)
        self.records[table].append(StreamRecord(table, self.now_ms, change, json_bytes(after)))


class RecordingAgentStore(InMemoryAgentStateStore):
    """tests/fakes.py's agent table, writing a stream record for every write that changed the item."""

    def __init__(self, log: StreamLog) -> None:
        super().__init__()
        self.generation: Counter[str] = Counter()
        self._log = log

    def compare_and_set(
        self, agent_arn: str, expected_versions: Mapping[str, str | None] | None, write: ItemWrite
    ) -> WriteResult:
        before = self.items.get(agent_arn)
        result = super().compare_and_set(agent_arn, expected_versions, write)
        after = self.items.get(agent_arn)
        if result.written and after is not None and after != before:
            after.setdefault("agentArn", agent_arn)
            self.generation[agent_arn] += 1
            self._log.changed(AGENT, agent_arn, before, after)
        return result


class RecordingContactStore:
    """The contact table in memory (service.ports.ContactStateStore) with the conditions of
    adapters/contact_state_store.py, writing a stream record for every write that changed the item. The bench's own:
    tests/fakes.py has no contact table."""

    def __init__(self, log: StreamLog) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.generation: Counter[str] = Counter()
        self._log = log
        self.index_write_units = 0  # byQueueEnqueued's own writes
        self.by_queue: dict[str, set[str]] = defaultdict(set)  # queueArn -> contact ids (for the fast reads)
        self.order: dict[str, int] = {}  # contact id -> its place in `items` (dicts keep the first insertion)

    def compare_and_set(self, contact_id: str, expected_revision: str | None, write: ItemWrite) -> WriteResult:
        current = self.items.get(contact_id)
        if (current or {}).get(contact_state.REVISION) != expected_revision:
            return WriteResult(written=False, current=copy.deepcopy(current))
        stored = {k: v for k, v in (current or {}).items() if k not in write.removable}
        stored.update(copy.deepcopy(dict(write.item)))
        stored["contactId"] = contact_id
        stored["updatedAt"] = write.updated_at
        self._store(contact_id, current, stored)
        return WriteResult(written=True)

    def claim_abandoned_publication(self, contact_id: str, token: str, now: str, lease_expired_before: str) -> Claim:
        current = self.items.get(contact_id) or {}
        if ABANDONED_PUBLISHED_AT in current:
            return Claim.ALREADY_PUBLISHED
        if current.get("abandoned") is not True or current.get("status") != "COMPLETED":
            return Claim.NOT_ABANDONED
        claimed_at = current.get("abandonedEventClaimedAt")
        if claimed_at is not None and claimed_at >= lease_expired_before:
            return Claim.IN_PROGRESS
        self._store(contact_id, current, {**current, "abandonedEventClaim": token, "abandonedEventClaimedAt": now})
        return Claim.CLAIMED

    def confirm_abandoned_publication(self, contact_id: str, token: str, published_at: str) -> None:
        current = self.items.get(contact_id) or {}
        if current.get("abandonedEventClaim") == token:
            after = {k: v for k, v in current.items() if k not in ("abandonedEventClaim", "abandonedEventClaimedAt")}
            self._store(contact_id, current, {**after, ABANDONED_PUBLISHED_AT: published_at})

    def release_abandoned_publication(self, contact_id: str, token: str) -> None:
        current = self.items.get(contact_id) or {}
        if current.get("abandonedEventClaim") == token:
            after = {k: v for k, v in current.items() if k not in ("abandonedEventClaim", "abandonedEventClaimedAt")}
            self._store(contact_id, current, after)

    def enrich(self, contact_id: str, at: str) -> None:
        """The enrichment's one UpdateItem, approximated: its status and version (not DescribeContact's fields)."""
        current = self.items.get(contact_id) or {"contactId": contact_id}
        extra = {"enrichmentStatus": "ENRICHED", "enrichedAt": at, "enrichmentVersion": at, "updatedAt": at}
        self._store(contact_id, self.items.get(contact_id), {**current, **extra})

    def _store(self, contact_id: str, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
        if after == before:
            return
        self.items[contact_id] = after
        self.order.setdefault(contact_id, len(self.order))
        old_queue, new_queue = (before or {}).get("queueArn"), after.get("queueArn")
        if old_queue != new_queue:
            if old_queue:
                self.by_queue[old_queue].discard(contact_id)
            if new_queue:
                self.by_queue[new_queue].add(contact_id)
        self.generation[contact_id] += 1
        self.index_write_units += dynamodb_units.index_write_units(
            _typed_projection(before), _typed_projection(after), [("queueArn", "enqueuedAt")]
        )
        self._log.changed(CONTACT, contact_id, before, after)


def enqueued_projection(item: Mapping[str, Any]) -> dict[str, Any]:
    """A contact's entry in the byQueueEnqueued index: the keys and the INCLUDE attributes."""
    return {k: item[k] for k in ENQUEUED_INDEX_KEYS + board.QUEUE_ENQUEUED_INDEX_ATTRIBUTES if k in item}


def _typed_projection(item: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {k: _serializer.serialize(_dynamo_value(v)) for k, v in enqueued_projection(item).items()}


class _NoEvents:
    def publish(self, detail_type: str, detail: Mapping[str, Any], resources: list[str]) -> None:
        return None


class _NoQuarantine:
    def send(self, records: Sequence[Any]) -> list[int]:
        return []


# --- the read model's DynamoDB bill, metered around the fakes --------------------------------------------------------
@dataclass
class Meter:
    read_units: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))  # per request kind
    write_units: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    overhead_seconds: float = 0.0  # CPU spent metering: not the function's
    _sizes: dict[tuple[str, str, int], int] = field(default_factory=dict)

    def size(self, kind: str, key: str, generation: int, item: Callable[[], Mapping[str, Any]]) -> int:
        cached = self._sizes.get((kind, key, generation))
        if cached is None:
            cached = self._sizes[(kind, key, generation)] = item_size(item())
        return cached


class _Metered:
    def __init__(self, meter: Meter) -> None:
        self.meter = meter
        self._started = 0.0

    def _start(self) -> None:
        self._started = time.process_time()

    def _stop(self) -> None:
        self.meter.overhead_seconds += time.process_time() - self._started


class MeteredBoardState(InMemoryBoardState):
    """InMemoryBoardState's answers, charged as the adapter's requests would be.

    The two index reads and the item reads return exactly what the fake's own methods return (the same lists, in the
    same order, as fresh copies: tests/unit/test_board_scale.py compares them), but from a per-queue index and with
    plain_copy instead of scanning every contact and deep-copying: the fake's way made a 1,000-agent run take many
    minutes, nearly all of it in copy.deepcopy."""

    def __init__(self, meter: Meter, agents: RecordingAgentStore, contacts: RecordingContactStore) -> None:
        super().__init__()
        self.agents = agents.items  # the same dicts: the board reads the state as the services left it
        self.contacts = contacts.items
        self._meter = _Metered(meter)
        self._agent_table = agents
        self._contact_table = contacts

    def agent_items(self, agent_arns: Sequence[str]) -> dict[str, dict[str, Any]]:
        return self._batch_get("agent", self.agents, agent_arns, self._agent_size)

    def contact_items(self, contact_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return self._batch_get("contact", self.contacts, contact_ids, self._contact_size)

    def _batch_get(
        self, table: str, items: Mapping[str, dict[str, Any]], keys: Sequence[str], size_of: Callable[[str], int]
    ) -> dict[str, dict[str, Any]]:
        """BatchGetItem, strongly consistent: a request per 100 keys, per key a unit per started 4 KB (one for none)."""
        found = {key: plain_copy(items[key]) for key in keys if key in items}
        m = self._meter
        m._start()
        m.meter.requests[f"BatchGetItem {table} table"] += math.ceil(len(keys) / BATCH_GET_KEYS)
        for key in keys:
            size = size_of(key) if key in found else 0
            m.meter.read_units[f"BatchGetItem {table} items"] += max(1, math.ceil(size / 4096))
        m._stop()
        return found

    def waiting_contacts(self, queue_arn: str) -> list[dict[str, Any]]:
        found = self._in_queue(queue_arn, "queuedSince", lambda c: "queuedSince" in c)
        m = self._meter
        m._start()
        total = sum(self._contact_size(c["contactId"]) for c in found)  # byQueue projects ALL
        m.meter.requests["Query byQueue"] += max(1, math.ceil(total / QUERY_PAGE_BYTES))
        m.meter.read_units["Query byQueue (waiting)"] += _read_units(total, consistent=False)
        m._stop()
        return found

    def enqueued_contacts(self, queue_arn: str, since: str) -> list[dict[str, Any]]:
        found = self._in_queue(queue_arn, "enqueuedAt", lambda c: c.get("enqueuedAt", "") >= since)
        m = self._meter
        m._start()
        total = 0
        for contact in found:
            cid = contact["contactId"]
            projected = functools.partial(enqueued_projection, contact)
            total += m.meter.size("enqueued", cid, self._contact_table.generation[cid], projected)
        m.meter.requests["Query byQueueEnqueued"] += max(1, math.ceil(total / QUERY_PAGE_BYTES))
        m.meter.read_units["Query byQueueEnqueued (interval)"] += _read_units(total, consistent=False)
        m._stop()
        return found

    def _in_queue(
        self, queue_arn: str, sort_key: str, wanted: Callable[[Mapping[str, Any]], bool]
    ) -> list[dict[str, Any]]:
        """The fake's filter and stable sort (ties in the table's insertion order), over the queue's contacts only."""
        order = self._contact_table.order
        ids = [cid for cid in self._contact_table.by_queue.get(queue_arn, ()) if wanted(self.contacts[cid])]
        ids.sort(key=lambda cid: (self.contacts[cid][sort_key], order[cid]))
        return [plain_copy(self.contacts[cid]) for cid in ids]

    def _agent_size(self, arn: str) -> int:
        return self._meter.meter.size("agent", arn, self._agent_table.generation[arn], lambda: self.agents[arn])

    def _contact_size(self, cid: str) -> int:
        return self._meter.meter.size("contact", cid, self._contact_table.generation[cid], lambda: self.contacts[cid])


def _copied_row(stored: StoredRow) -> StoredRow:
    return StoredRow(stored.agent_arn, plain_copy(stored.row), dict(stored.versions), stored.ttl)


def board_row_item(stored: StoredRow) -> dict[str, Any]:
    """The board table item of an agent row, as adapters/board_tables.DynamoDBBoardRows.put_row writes it."""
    item: dict[str, Any] = {"pk": "AGENT", "sk": stored.agent_arn, "row": dict(stored.row)}
    item.update({name: value for name, value in stored.versions.items() if value is not None})
    if stored.ttl is not None:
        item["ttl"] = stored.ttl
    return item


def channel_item(channel: str, seq: int, queue_arn: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {"pk": "CHANNEL", "sk": channel, "seq": seq}
    if queue_arn is not None:
        item["queueArn"] = queue_arn
    return item


class MeteredBoardRows(InMemoryBoardRows):
    """InMemoryBoardRows' behaviour, charged as the adapter's requests would be; the reads return what the fake's
    return, copied with plain_copy (see MeteredBoardState)."""

    def __init__(self, meter: Meter) -> None:
        super().__init__()
        self._meter = _Metered(meter)
        self.generation: Counter[str] = Counter()

    def rows(self, agent_arns: Sequence[str]) -> dict[str, StoredRow]:
        found = {arn: _copied_row(self.stored[arn]) for arn in agent_arns if arn in self.stored}
        m = self._meter
        m._start()
        m.meter.requests["BatchGetItem board rows"] += math.ceil(len(agent_arns) / BATCH_GET_KEYS)
        for arn in agent_arns:
            size = self._row_size(arn) if arn in found else 0
            m.meter.read_units["BatchGetItem board rows"] += max(1, math.ceil(size / 4096))
        m._stop()
        return found

    def all_rows(self) -> list[StoredRow]:
        found = [_copied_row(self.stored[arn]) for arn in sorted(self.stored)]
        m = self._meter
        m._start()
        total = sum(self._row_size(stored.agent_arn) for stored in found)
        m.meter.requests["Query board rows"] += max(1, math.ceil(total / QUERY_PAGE_BYTES))
        m.meter.read_units["Query all agent rows"] += _read_units(total, consistent=True)
        m._stop()
        return found

    def put_row(self, stored: StoredRow) -> bool:
        m = self._meter
        m._start()
        before = item_size(board_row_item(self.stored[stored.agent_arn])) if stored.agent_arn in self.stored else 0
        m._stop()
        written = super().put_row(stored)
        m._start()
        after = item_size(board_row_item(stored)) if written else before
        m.meter.requests["PutItem board row"] += 1
        m.meter.write_units["PutItem agent rows"] += max(1, math.ceil(max(before, after) / 1024))
        if written:
            self.generation[stored.agent_arn] += 1
        m._stop()
        return written

    def delete_row(self, stored: StoredRow) -> bool:
        m = self._meter
        m._start()
        before = item_size(board_row_item(self.stored[stored.agent_arn])) if stored.agent_arn in self.stored else 0
        m._stop()
        deleted = super().delete_row(stored)
        m._start()
        m.meter.requests["DeleteItem board row"] += 1
        m.meter.write_units["DeleteItem agent rows"] += max(1, math.ceil(before / 1024))
        if deleted:
            self.generation[stored.agent_arn] += 1
        m._stop()
        return deleted

    def next_seq(self, channel: str, queue_arn: str | None = None) -> int:
        held = self.sequences.get(channel)
        seq = super().next_seq(channel, queue_arn)
        m = self._meter
        m._start()
        before = item_size(channel_item(channel, held.seq, held.queue_arn)) if held else 0
        after = item_size(channel_item(channel, seq, queue_arn))
        m.meter.requests["UpdateItem channel seq"] += 1
        m.meter.write_units["UpdateItem sequence numbers"] += max(1, math.ceil(max(before, after) / 1024))
        m._stop()
        return seq

    def _row_size(self, arn: str) -> int:
        return self._meter.meter.size("row", arn, self.generation[arn], lambda: board_row_item(self.stored[arn]))


# --- the run ---------------------------------------------------------------------------------------------------------
@dataclass
class Second:
    """One simulated second: what the board function did in the invocations at its end."""

    records: Counter[str] = field(default_factory=Counter)  # per table
    invocations: int = 0
    messages: Counter[str] = field(default_factory=Counter)  # "agents" / "queues"
    message_operations: int = 0  # AppSync operations of one publish (5 KB increments), summed
    naive_operations: int = 0  # the same for the naive design's messages


@dataclass
class Measurement:
    agents: int
    minutes: float
    seed: int
    boards: int
    seconds: list[Second]
    message_bytes: dict[str, list[int]]  # per kind
    naive_bytes: list[int]
    meter: Meter
    index_write_units: int
    cpu_seconds: list[float]  # apply_changes per invocation, metering excluded
    publish_requests: int
    queues: int  # queue channels the board published
    skipped_malformed: int
    state_records: Counter[str]  # per table, the whole run (== sum over seconds)
    channels_per_invocation_max: int
    state: MeteredBoardState = field(repr=False)  # the tables as the run left them (for the tests)
    rows: MeteredBoardRows = field(repr=False)

    @property
    def duration_seconds(self) -> int:
        return len(self.seconds)


def _agent_batches(run: Run, end_ms: int) -> Iterable[tuple[int, str, list[Any]]]:
    """The simulator's Kinesis batches: records of one shard that arrived together."""
    shards = Disorder().shards
    batches: dict[tuple[int, int], list[agent_events.StreamRecord]] = defaultdict(list)
    for delivery in run.deliveries:
        if delivery.kind != AGENT or delivery.malformed or delivery.arrival_ms >= end_ms:
            continue
        line = delivery.line
        record = agent_events.StreamRecord(line["sequenceNumber"], line["data"], {})
        batches[(delivery.arrival_ms, shard_of(line["partitionKey"], shards))].append(record)
    for (arrival, _), records in sorted(batches.items()):
        yield arrival, AGENT, records


def _contact_batches(run: Run, end_ms: int) -> Iterable[tuple[int, str, list[Any]]]:
    """SQS batches: they open at the first message and close when full or when the batching window ends."""
    messages = [
        (d.arrival_ms, d.line["event"])
        for d in run.deliveries
        if d.kind == CONTACT and not d.malformed and d.arrival_ms < end_ms
    ]
    messages.sort(key=lambda message: message[0])
    index = 0
    while index < len(messages):
        opened = messages[index][0]
        batch: list[contact_events.QueueMessage] = []
        while (
            index < len(messages)
            and len(batch) < CONTACT_BATCH_SIZE
            and messages[index][0] <= opened + CONTACT_WINDOW_MS
        ):
            event = messages[index][1]
            body = event if isinstance(event, str) else json.dumps(event)
            batch.append(contact_events.QueueMessage(f"m{index}", body, {}))
            index += 1
        closed = messages[index - 1][0] if len(batch) == CONTACT_BATCH_SIZE else opened + CONTACT_WINDOW_MS
        yield closed, CONTACT, batch


def measure(agents: int, minutes: float, boards: int, seed: int = 7) -> Measurement:
    run = generate(SimulationConfig(agents=agents, minutes=minutes, seed=seed))
    start_ms = run.simulation.start_ms
    end_ms = start_ms + round(minutes * 60_000)
    log = StreamLog()
    agent_store, contact_store = RecordingAgentStore(log), RecordingContactStore(log)
    agent_writer = agent_events.AgentStateWriter(agent_store, TTL_DAYS)
    contact_writer = contact_events.ContactStateWriter(contact_store, _NoEvents(), TTL_DAYS)
    meter = Meter()
    state = MeteredBoardState(meter, agent_store, contact_store)
    rows = MeteredBoardRows(meter)
    publisher = RecordingChannelPublisher()
    board_now = [start_ms]
    service = BoardService(state, rows, publisher, WallboardSettings(), lambda: _iso(board_now[0]))

    # The state writes, in time order: the services' batches and the enrichment writes they lead to.
    pending: list[tuple[int, int, str, Any]] = []
    for number, (at, kind, batch) in enumerate([*_agent_batches(run, end_ms), *_contact_batches(run, end_ms)]):
        pending.append((at, number, kind, batch))
    heapq.heapify(pending)
    sequence = len(pending)

    def write_state(at: int, kind: str, batch: Any) -> None:
        nonlocal sequence
        log.now_ms = at
        clock = lambda: datetime.fromtimestamp(at / 1000, tz=UTC)  # noqa: E731
        if kind == AGENT:
            agent_events.process(batch, agent_writer, _NoQuarantine(), MAX_AGENT_EVENT_BYTES, clock)
        elif kind == CONTACT:
            contact_events.process(batch, contact_writer, _NoQuarantine(), clock)
        else:
            contact_store.enrich(batch, _iso(at))
        for contact_id in log.completed:
            sequence += 1
            heapq.heappush(pending, (at + ENRICHMENT_DELAY_MS, sequence, "enrichment", contact_id))
        log.completed.clear()

    seconds: list[Second] = []
    message_bytes: dict[str, list[int]] = {"agents": [], "groups": [], "queues": []}
    naive_bytes: list[int] = []
    cpu: list[float] = []
    publish_requests = 0
    channels_max = 0
    state_records: Counter[str] = Counter()
    for window_end in range(start_ms + BOARD_WINDOW_MS, end_ms + 1, BOARD_WINDOW_MS):
        while pending and pending[0][0] < window_end:
            at, _, kind, batch = heapq.heappop(pending)
            write_state(at, kind, batch)
        second = Second()
        board_now[0] = window_end
        for table in (AGENT, CONTACT):
            records, log.records[table] = log.records[table], []
            state_records[table] += len(records)
            second.records[table] += len(records)
            for record in records:
                naive_bytes.append(record.image_bytes)
                second.naive_operations += event_operations(record.image_bytes)
            for start in range(0, len(records), BOARD_BATCH_SIZE):
                changes = [r.change for r in records[start : start + BOARD_BATCH_SIZE] if r.change is not None]
                overhead = meter.overhead_seconds
                started = time.process_time()
                published = service.apply_changes(changes)
                cpu.append(time.process_time() - started - (meter.overhead_seconds - overhead))
                second.invocations += 1
                channels_max = max(channels_max, len(published))
                publish_requests += len(published)  # one channel a request (<= 5 events each)
                for message in published:
                    kind = _kind(message["channel"])
                    size = json_bytes(message)
                    message_bytes[kind].append(size)
                    second.messages[kind] += 1
                    second.message_operations += event_operations(size)
        seconds.append(second)
    return Measurement(
        agents=agents,
        minutes=minutes,
        seed=seed,
        boards=boards,
        seconds=seconds,
        message_bytes=message_bytes,
        naive_bytes=naive_bytes,
        meter=meter,
        index_write_units=contact_store.index_write_units,
        cpu_seconds=cpu,
        publish_requests=publish_requests,
        queues=len(rows.queue_channels()),
        skipped_malformed=sum(1 for d in run.deliveries if d.malformed),
        state_records=state_records,
        channels_per_invocation_max=channels_max,
        state=state,
        rows=rows,
    )


def _kind(channel: str) -> str:
    if channel == board.AGENTS_CHANNEL:
        return "agents"
    return "groups" if channel.startswith(board.AGENT_GROUP_CHANNEL_PREFIX) else "queues"


def _iso(epoch_ms: int) -> str:
    return timestamps.format_timestamp(datetime.fromtimestamp(epoch_ms / 1000, tz=UTC))


# --- figures ---------------------------------------------------------------------------------------------------------
def _percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)])


def figures(m: Measurement) -> dict[str, Any]:
    """Per second (mean, p95, max over the simulated seconds) and per month, our design and the naive one."""
    n = max(1, m.duration_seconds)
    records = [sum(s.records.values()) for s in m.seconds]
    messages = [sum(s.messages.values()) for s in m.seconds]
    total_records = sum(records)
    total_messages = sum(messages)
    total_invocations = sum(s.invocations for s in m.seconds)
    publish_operations = sum(s.message_operations for s in m.seconds)
    naive_publish_operations = sum(s.naive_operations for s in m.seconds)
    read_units = sum(m.meter.read_units.values())
    write_units = sum(m.meter.write_units.values())
    dynamo_requests = sum(m.meter.requests.values())
    all_bytes = [size for sizes in m.message_bytes.values() for size in sizes]

    def per_second(total: float) -> float:
        return total / n

    month = BUSINESS_SECONDS / n  # measured run -> a month of business hours
    board_days = m.boards * DAYS_PER_MONTH
    connection_minutes = m.boards * HOURS_PER_DAY * 60 * DAYS_PER_MONTH
    cpu_factor = FULL_VCPU_MB / BOARD_MEMORY_MB
    billed_seconds = sum(m.cpu_seconds) * cpu_factor + (dynamo_requests + m.publish_requests) * AWS_CALL_SECONDS
    gb_seconds = billed_seconds * BOARD_MEMORY_MB / 1024
    # Naive: the same stream records, each pushed as it is (5 events per publish request) to every board.
    naive_publish_requests = sum(math.ceil(sum(s.records.values()) / 5) for s in m.seconds)
    naive_gb_seconds = naive_publish_requests * AWS_CALL_SECONDS * BOARD_MEMORY_MB / 1024

    def price(name: str, quantity: float) -> float:
        return quantity * PRICES[name].usd

    ours = {
        "appsync_operations": (publish_operations * (1 + m.boards)) * month + board_days * OPERATIONS_PER_BOARD_DAY,
        "appsync_connection_minutes": connection_minutes,
        "dynamodb_read_units": read_units * month,
        "dynamodb_write_units": (write_units + m.index_write_units) * month,
        "lambda_requests": total_invocations * month,
        "lambda_gb_seconds": gb_seconds * month,
    }
    naive = {
        "appsync_operations": naive_publish_operations * (1 + m.boards) * month + board_days * OPERATIONS_PER_BOARD_DAY,
        "appsync_connection_minutes": connection_minutes,
        "dynamodb_read_units": 0.0,
        "dynamodb_write_units": 0.0,
        "lambda_requests": total_invocations * month,
        "lambda_gb_seconds": naive_gb_seconds * month,
    }
    price_names = {
        "appsync_operations": "appsync_events_operation",
        "appsync_connection_minutes": "appsync_events_connection_minute",
        "dynamodb_read_units": "dynamodb_rru",
        "dynamodb_write_units": "dynamodb_wru",
        "lambda_requests": "lambda_request",
        "lambda_gb_seconds": "lambda_arm_gb_second",
    }
    ours_usd = {k: price(price_names[k], v) for k, v in ours.items()}
    naive_usd = {k: price(price_names[k], v) for k, v in naive.items()}
    metric_interval = (
        m.boards * math.ceil(max(1, m.queues) / CONNECT_QUEUES_PER_REQUEST) / CONNECT_METRIC_REQUESTS_PER_SECOND
    )
    return {
        "run": {
            "agents": m.agents,
            "minutes": m.minutes,
            "seed": m.seed,
            "boards": m.boards,
            "simulatedSeconds": n,
            "queues": m.queues,
            "malformedSkipped": m.skipped_malformed,
            "assumptions": {
                "streamShardsPerTable": 1,
                "batchingWindowSeconds": BOARD_WINDOW_MS / 1000,
                "businessSecondsPerMonth": BUSINESS_SECONDS,
                "eventOperationBytes": EVENT_OPERATION_BYTES,
                "lambdaMemoryMb": BOARD_MEMORY_MB,
                "cpu": "apply_changes in-process with in-memory fakes (rough)",
            },
        },
        "perSecond": {
            "streamRecords": {
                "mean": per_second(total_records),
                "p95": _percentile(records, 0.95),
                "max": max(records, default=0),
                "agent": per_second(m.state_records[AGENT]),
                "contact": per_second(m.state_records[CONTACT]),
            },
            "invocations": per_second(total_invocations),
            "messagesPublished": {
                "mean": per_second(total_messages),
                "p95": _percentile(messages, 0.95),
                "max": max(messages, default=0),
                "agents": per_second(len(m.message_bytes["agents"])),
                "agentGroups": per_second(len(m.message_bytes["groups"])),
                "queues": per_second(len(m.message_bytes["queues"])),
            },
            "messagesDelivered": per_second(total_messages * m.boards),
            "naiveMessagesDelivered": per_second(total_records * m.boards),
            "readUnits": per_second(read_units),
            "writeUnits": per_second(write_units),
            "indexWriteUnits": per_second(m.index_write_units),
            "dynamodbRequests": per_second(dynamo_requests),
        },
        "messageBytes": {
            kind: {
                "mean": sum(sizes) / len(sizes) if sizes else 0,
                "p95": _percentile(sizes, 0.95),
                "max": max(sizes, default=0),
                "over5KB": sum(1 for s in sizes if s > EVENT_OPERATION_BYTES),
            }
            for kind, sizes in (
                ("agents", m.message_bytes["agents"]),
                ("groups", m.message_bytes["groups"]),
                ("queues", m.message_bytes["queues"]),
                ("all", all_bytes),
                ("naive", m.naive_bytes),
            )
        },
        "readUnitsByRequest": {k: per_second(v) for k, v in sorted(m.meter.read_units.items())},
        "writeUnitsByRequest": {k: per_second(v) for k, v in sorted(m.meter.write_units.items())},
        "lambda": {
            "cpuMsPerInvocation": {
                "mean": 1000 * sum(m.cpu_seconds) / max(1, len(m.cpu_seconds)),
                "p95": 1000 * _percentile(m.cpu_seconds, 0.95),
            },
            "billedMsPerInvocation": 1000 * billed_seconds / max(1, total_invocations),
        },
        "totals": {
            "streamRecords": total_records,
            "invocations": total_invocations,
            "messagesPublished": total_messages,
            "messagesDelivered": total_messages * m.boards,
            "naiveMessagesDelivered": total_records * m.boards,
            "channelsPerInvocationMax": m.channels_per_invocation_max,
        },
        "monthly": {"ours": ours, "naive": naive, "oursUsd": ours_usd, "naiveUsd": naive_usd},
        "polling": {
            "requestsPerSecondPerAccount": CONNECT_METRIC_REQUESTS_PER_SECOND,
            "secondsBetweenRefreshes": metric_interval,
            "boardsAtOneRefreshPerSecond": CONNECT_METRIC_REQUESTS_PER_SECOND,
        },
        "prices": {
            name: {
                "usd": PRICES[name].usd,
                "per": PRICES[name].per,
                "source": PRICES[name].source,
                "date": PRICES[name].date,
            }
            for name in sorted(set(price_names.values()))
        },
    }


def report(f: dict[str, Any]) -> str:
    run, ps, mb, mo = f["run"], f["perSecond"], f["messageBytes"], f["monthly"]
    ours, naive, ours_usd, naive_usd = mo["ours"], mo["naive"], mo["oursUsd"], mo["naiveUsd"]
    lines = [
        f"wallboard at scale: {run['agents']} agents, {run['minutes']:g} simulated minutes "
        f"({run['simulatedSeconds']} s, seed {run['seed']}), {run['boards']} boards, {run['queues']} queues; "
        f"one shard per table stream, 1 s batching windows",
        "",
        "per second (mean / p95 / max)",
        f"  stream records          {ps['streamRecords']['mean']:8.1f} / {ps['streamRecords']['p95']:g} / "
        f"{ps['streamRecords']['max']:g}   (agent {ps['streamRecords']['agent']:.1f}, "
        f"contact {ps['streamRecords']['contact']:.1f})",
        f"  board invocations       {ps['invocations']:8.2f}",
        f"  messages published      {ps['messagesPublished']['mean']:8.2f} / {ps['messagesPublished']['p95']:g} / "
        f"{ps['messagesPublished']['max']:g}   (agents deltas {ps['messagesPublished']['agents']:.2f}, "
        f"agent group deltas {ps['messagesPublished']['agentGroups']:.2f}, "
        f"queue views {ps['messagesPublished']['queues']:.2f})",
        f"  message bytes (mean/p95/max)  agents {mb['agents']['mean']:.0f}/{mb['agents']['p95']:.0f}/"
        f"{mb['agents']['max']:.0f}, queues {mb['queues']['mean']:.0f}/{mb['queues']['p95']:.0f}/"
        f"{mb['queues']['max']:.0f}; over 5 KB: {mb['all']['over5KB']}",
        f"  read units (RRU)        {ps['readUnits']:8.1f}   "
        + ", ".join(f"{k} {v:.1f}" for k, v in f["readUnitsByRequest"].items()),
        f"  write units (WRU)       {ps['writeUnits']:8.2f}   "
        + ", ".join(f"{k} {v:.2f}" for k, v in f["writeUnitsByRequest"].items())
        + f"; byQueueEnqueued index {ps['indexWriteUnits']:.2f}",
        f"  apply_changes CPU       {f['lambda']['cpuMsPerInvocation']['mean']:8.1f} ms mean, "
        f"{f['lambda']['cpuMsPerInvocation']['p95']:.1f} ms p95 per invocation (in-process, in-memory fakes)",
        "",
        f"{'':34}{'this design':>16}{'naive':>16}",
        f"{'messages delivered / s':34}{ps['messagesDelivered']:16,.0f}{ps['naiveMessagesDelivered']:16,.0f}",
        f"{'AppSync Events operations / month':34}{ours['appsync_operations']:16,.0f}"
        f"{naive['appsync_operations']:16,.0f}",
    ]
    labels = {
        "appsync_operations": "AppSync Events operations",
        "appsync_connection_minutes": "AppSync Events connection-minutes",
        "dynamodb_read_units": "DynamoDB reads (read model)",
        "dynamodb_write_units": "DynamoDB writes (read model)",
        "lambda_requests": "Lambda requests",
        "lambda_gb_seconds": "Lambda duration",
    }
    for key, label in labels.items():
        lines.append(f"  USD/month {label:<40}{ours_usd[key]:10,.2f}{naive_usd[key]:16,.2f}")
    lines.append(f"  USD/month {'total':<40}{sum(ours_usd.values()):10,.2f}{sum(naive_usd.values()):16,.2f}")
    polling = f["polling"]
    lines += [
        "",
        f"polling GetCurrentMetricData instead ({polling['requestsPerSecondPerAccount']} requests/s per account, "
        f"shared): {run['boards']} boards can each refresh at best every {polling['secondsBetweenRefreshes']:g} s; "
        f"a refresh every second serves {polling['boardsAtOneRefreshPerSecond']} boards",
        f"month = {HOURS_PER_DAY} h x {DAYS_PER_MONTH} days, boards connected the same hours; list prices (US East) "
        "from tests/bench/prices.json",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=1_000)
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--boards", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("build/board-scale.json"))
    args = parser.parse_args(argv)
    measured = measure(args.agents, args.minutes, args.boards, args.seed)
    result = figures(measured)
    print(report(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
