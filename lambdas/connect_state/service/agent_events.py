"""One batch of agent stream records: decode each, coalesce per agent, one conditional write per agent.

No boto3 here: the store and the quarantine are interfaces (service.ports). The handler hands over the whole batch and
gets back a report whose `failed` lists the sequence numbers Lambda must deliver again (see handlers.agent_events).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connect_state.domain import agent_state, timestamps
from connect_state.domain.agent_state import AgentObservation, AgentState
from connect_state.models.contact_record import ContactRecord
from connect_state.models.decoder import Foreign, Rejected, decode_agent_record
from connect_state.service.coalescing import BatchReport, CoalescingBatch, Known, LruCache, StateWriter
from connect_state.service.ports import AgentStateStore, ItemWrite, Quarantine, WriteResult

QUARANTINE_SOURCE = "agent-event-stream"


@dataclass(frozen=True)
class StreamRecord:
    sequence_number: str  # what Lambda's batchItemFailures names, and part of the event's order key
    data: str  # base64, as Lambda delivers it
    origin: dict[str, Any]  # where to find it again: stream, shard, sequence number


class AgentTable:
    """The agent item as the compare-and-set loop sees it: the write checks the order keys of what is remembered."""

    name = "agent"

    def __init__(self, store: AgentStateStore, ttl_days: int) -> None:
        self._store = store
        self._ttl_days = ttl_days

    def write(
        self, key: str, known: Known[AgentState], merged: AgentState, now: datetime
    ) -> tuple[WriteResult, Known[AgentState]]:
        write = ItemWrite(
            agent_state.to_item(merged, self._ttl_days),
            agent_state.OPTIONAL_ATTRIBUTES,
            timestamps.format_timestamp(now),
        )
        result = self._store.compare_and_set(key, known.state.versions() if known.state else None, write)
        return result, Known(merged)

    def read_back(self, current: dict[str, Any] | None) -> Known[AgentState]:
        return Known(agent_state.from_item(current) if current else None)


class AgentStateWriter(StateWriter[AgentState, AgentObservation]):
    def __init__(self, store: AgentStateStore, ttl_days: int, cache: LruCache | None = None) -> None:
        super().__init__(AgentTable(store, ttl_days), agent_state.merge, cache)


def process(
    records: Iterable[StreamRecord],
    writer: AgentStateWriter,
    quarantine: Quarantine,
    max_event_bytes: int,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BatchReport[AgentState]:
    """Every record ends as written, counted as a contact record or as foreign, quarantined, or failed (to be delivered
    again). Contact records are recognised and counted, not applied yet: the contact state reconciliation comes next."""
    batch: CoalescingBatch[AgentState, AgentObservation] = CoalescingBatch(
        writer, quarantine, QUARANTINE_SOURCE, lambda observation: observation.event_timestamp, clock
    )

    def take(record: StreamRecord) -> None:
        decoded = decode_agent_record(record.data, max_event_bytes)
        if isinstance(decoded, ContactRecord):
            batch.report.counts["contactRecordSkipped"] += 1
        elif isinstance(decoded, Foreign):
            batch.report.counts[f"foreign:{decoded.kind}"] += 1
        elif isinstance(decoded, Rejected):
            batch.reject(record.sequence_number, decoded.reason, record.data, record.origin)
        else:
            observation = agent_state.observe(decoded, record.sequence_number)
            batch.add(record.sequence_number, observation.agent_arn, observation)

    return batch.take_all(records, lambda record: record.sequence_number, take)
