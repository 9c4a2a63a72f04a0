"""One batch of agent stream records: classify each, coalesce per agent, one conditional write per agent.

No boto3 here: the store and the quarantine are interfaces. The handler feeds records in as the BatchProcessor
hands them over and reports back the records that must be retried.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from connect_state.domain import agent_state, timestamps
from connect_state.domain.agent_state import AgentObservation, AgentState, Outcome
from connect_state.domain.records import Foreign, Rejected, decode_agent_record
from connect_state.store.agent_state_store import AgentStateStore
from connect_state.store.conditional_write import ConcurrentUpdateError
from connect_state.store.quarantine import Quarantine, QuarantinedRecord, send_all

Ref = TypeVar("Ref")  # whatever the caller needs to report a record as failed (Powertools' record object)
MAX_WRITE_ATTEMPTS = 5


@dataclass(frozen=True)
class StreamRecord(Generic[Ref]):
    ref: Ref
    data: str
    sequence_number: str | None
    origin: dict[str, Any]


@dataclass(frozen=True)
class AgentResult:
    """What a batch did to one agent: for logs correlated by agent ARN."""

    agent_arn: str
    events: int
    outcomes: tuple[Outcome, ...] = ()
    error: Exception | None = None


@dataclass
class BatchReport(Generic[Ref]):
    counts: Counter[str] = field(default_factory=Counter)
    failed: list[tuple[Ref, Exception]] = field(default_factory=list)
    lag_seconds: list[float] = field(default_factory=list)
    agents: list[AgentResult] = field(default_factory=list)
    quarantined: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # (origin, reason)


class AgentStateWriter:
    """Merges observations into an agent's item with compare-and-set, trusting nothing it has not seen.

    The first attempt assumes the item is as this container last wrote it (Kinesis keeps an agent on one shard, so
    usually it is); a wrong guess costs one failed write that returns the real item, and the merge is redone on it.
    The cache is only that guess: a batch that adds nothing to what it remembers is still written, because the
    conditional write is what checks the item is still there as remembered (a table cleared for a rebuild is not).
    Only the item DynamoDB returned can show that there is nothing to write.
    """

    def __init__(self, store: AgentStateStore, ttl_days: int, cache: MutableMapping[str, AgentState]) -> None:
        self._store = store
        self._ttl_days = ttl_days
        self._cache = cache

    def apply(self, agent_arn: str, observations: list[AgentObservation], now: datetime) -> list[Outcome]:
        known = self._cache.get(agent_arn)
        from_table = False  # whether `known` is what DynamoDB returned, or only what the cache remembers
        for _ in range(MAX_WRITE_ATTEMPTS):
            merged, outcomes = agent_state.merge(known, observations)
            if from_table and merged == known:
                self._cache[agent_arn] = merged
                return outcomes  # the stored item already holds every one of these events
            result = self._store.compare_and_set(
                agent_arn,
                known.versions() if known else None,
                agent_state.to_item(merged, self._ttl_days),
                agent_state.OPTIONAL_ATTRIBUTES,
                timestamps.format_timestamp(now),
            )
            if result.written:
                self._cache[agent_arn] = merged
                return outcomes
            known = agent_state.from_item(result.current) if result.current else None
            from_table = True
        self._cache.pop(agent_arn, None)
        raise ConcurrentUpdateError(f"agent item kept changing during {MAX_WRITE_ATTEMPTS} attempts")


class AgentEventBatch(Generic[Ref]):
    def __init__(
        self,
        writer: AgentStateWriter,
        quarantine: Quarantine,
        max_event_bytes: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._writer = writer
        self._quarantine = quarantine
        self._max_event_bytes = max_event_bytes
        self._clock = clock
        self._by_agent: dict[str, list[tuple[StreamRecord[Ref], AgentObservation]]] = defaultdict(list)
        self._rejected: list[tuple[StreamRecord[Ref], QuarantinedRecord]] = []
        self.report: BatchReport[Ref] = BatchReport()

    def accept(self, record: StreamRecord[Ref]) -> str:
        """Classify one record; returns what it is (for the BatchProcessor's success result and logs)."""
        decoded = decode_agent_record(record.data, self._max_event_bytes)
        if isinstance(decoded, Foreign):
            self.report.counts[f"foreign:{decoded.kind}"] += 1
            return f"skipped {decoded.kind}"
        if isinstance(decoded, Rejected):
            self._rejected.append(
                (record, QuarantinedRecord(decoded.reason, "agent-event-stream", record.data, record.origin))
            )
            return f"quarantined: {decoded.reason}"
        observation = agent_state.observe(decoded, record.sequence_number)
        self._by_agent[observation.agent_arn].append((record, observation))
        return f"agent event {decoded.event_type}"

    def flush(self) -> BatchReport[Ref]:
        """Write every agent touched by the batch (one write each) and quarantine the rejects."""
        now = self._clock()
        for agent_arn, entries in self._by_agent.items():
            try:
                outcomes = self._writer.apply(agent_arn, [observation for _, observation in entries], now)
            except Exception as error:  # throttling, timeouts, conflicts: Lambda retries these records
                self.report.failed.extend((record.ref, error) for record, _ in entries)
                self.report.agents.append(AgentResult(agent_arn, len(entries), error=error))
                continue
            self.report.agents.append(AgentResult(agent_arn, len(entries), tuple(outcomes)))
            self.report.counts.update(outcome.value for outcome in outcomes)
            self.report.lag_seconds.extend(
                (now - timestamps.parse(observation.event_timestamp)).total_seconds() for _, observation in entries
            )
        if self._rejected:
            sent, unsent = send_all(self._quarantine, self._rejected)
            self.report.failed.extend((record.ref, RuntimeError("quarantine queue unavailable")) for record in unsent)
            self.report.counts["quarantined"] += len(sent)
            self.report.quarantined.extend((record.origin, quarantined.reason) for record, quarantined in sent)
        self._by_agent.clear()
        self._rejected.clear()
        return self.report
