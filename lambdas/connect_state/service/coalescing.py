"""One write per agent or contact per batch: a batch's observations grouped by key, merged into what is stored with
compare-and-set, and its bad records quarantined. The agent and contact event services (and the consumers still to
come) share this, so the retry loop and the batch bookkeeping exist once.

The compare-and-set loop: the first attempt assumes the item is as this container last wrote it (Kinesis keeps an
agent on one shard, the buffer queue usually holds a contact's events together; a contact's first event finds no
item, which is right too); a wrong guess costs one failed write that returns the real item, and the merge is redone
on it. The cache is only that guess: a batch that adds nothing to what it remembers is still written, because the
conditional write is what checks the item is still there as remembered (a table cleared for a rebuild is not). Only
the item DynamoDB returned can show that there is nothing to write.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from connect_state.domain import timestamps
from connect_state.domain.versioned import Outcome
from connect_state.service.ports import ConcurrentUpdateError, Quarantine, QuarantinedRecord, WriteResult, send_all

S = TypeVar("S")  # a merged state: AgentState, ContactState
Obs = TypeVar("Obs")  # an observation: AgentObservation, ContactObservation
T = TypeVar("T")  # what a batch delivers: a stream record, a queue message
MAX_WRITE_ATTEMPTS = 5
CACHE_SIZE = 10_000  # agents or contacts remembered per container: a few MB, enough for every one in flight


@dataclass(frozen=True)
class Known(Generic[S]):
    """What this container believes is stored: the first guess of a compare-and-set, never trusted further."""

    state: S | None = None
    expected: Any = None  # what the conditional write checks is still stored (the contact's revision)
    announced: bool = False  # the contact's `Contact Abandoned` went out


class LruCache(OrderedDict[str, Known[Any]]):
    """Bounded: a container sees every agent and contact of the instance, and contacts end."""

    def __init__(self, max_size: int = CACHE_SIZE) -> None:
        super().__init__()
        self.max_size = max_size

    def remember(self, key: str, known: Known[Any]) -> None:
        self[key] = known
        self.move_to_end(key)
        while len(self) > self.max_size:
            self.popitem(last=False)

    def recall(self, key: str) -> Known[Any]:
        known = self.get(key)
        if known is None:
            return Known()
        self.move_to_end(key)
        return known


class StateTable(Protocol[S]):
    """One kind of state as the compare-and-set loop sees it."""

    name: str

    def write(self, key: str, known: Known[S], merged: S, now: datetime) -> tuple[WriteResult, Known[S]]:
        """Write `merged` only if the stored item is still `known`; also returns what is stored if it was written."""
        ...

    def read_back(self, current: dict[str, Any] | None) -> Known[S]:
        """What a failed write found stored."""
        ...


@dataclass(frozen=True)
class Applied(Generic[S]):
    state: S
    outcomes: tuple[Outcome, ...]
    announced: bool = False


class StateWriter(Generic[S, Obs]):
    """Merges observations into a key's item with compare-and-set, trusting nothing it has not seen (see above)."""

    def __init__(
        self,
        table: StateTable[S],
        merge: Callable[[S | None, list[Obs]], tuple[S, list[Outcome]]],
        cache: LruCache | None = None,
    ) -> None:
        self._table = table
        self._merge = merge
        self._cache = cache if cache is not None else LruCache()

    def apply(self, key: str, observations: list[Obs], now: datetime) -> Applied[S]:
        _, merged, outcomes = self.merge_and_write(key, observations, now)
        return Applied(merged, tuple(outcomes))

    def merge_and_write(self, key: str, observations: list[Obs], now: datetime) -> tuple[Known[S], S, list[Outcome]]:
        """The compare-and-set loop; returns what is now stored, as remembered."""
        known: Known[S] = self._cache.recall(key)
        from_table = False  # whether `known` is what DynamoDB returned, or only what the cache remembers
        for _ in range(MAX_WRITE_ATTEMPTS):
            merged, outcomes = self._merge(known.state, observations)
            if from_table and merged == known.state:
                break  # the stored item already holds every one of these events
            result, written = self._table.write(key, known, merged, now)
            if result.written:
                known = written
                break
            known, from_table = self._table.read_back(result.current), True
        else:
            self._cache.pop(key, None)
            raise ConcurrentUpdateError(f"{self._table.name} item kept changing during {MAX_WRITE_ATTEMPTS} attempts")
        self._cache.remember(key, known)
        return known, merged, outcomes


@dataclass(frozen=True)
class KeyResult(Generic[S]):
    """What a batch did to one agent or contact: for logs correlated by its id."""

    key: str
    events: int
    applied: Applied[S] | None = None
    error: Exception | None = None


@dataclass
class BatchReport(Generic[S]):
    counts: Counter[str] = field(default_factory=Counter)
    failed: list[str] = field(default_factory=list)  # the item ids Lambda must deliver again (batchItemFailures)
    lag_seconds: list[float] = field(default_factory=list)
    results: list[KeyResult[S]] = field(default_factory=list)
    quarantined: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # (origin, reason)


class CoalescingBatch(Generic[S, Obs]):
    """Collects a batch's observations by key, then writes each key once; an item whose write (or quarantine) failed
    is reported by its id, so that Lambda delivers it again."""

    def __init__(
        self,
        writer: StateWriter[S, Obs],
        quarantine: Quarantine,
        quarantine_source: str,
        event_time: Callable[[Obs], str | None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._writer = writer
        self._quarantine = quarantine
        self._quarantine_source = quarantine_source
        self._event_time = event_time
        self._clock = clock
        self._by_key: dict[str, list[tuple[str, Obs]]] = defaultdict(list)
        self._rejected: list[tuple[str, QuarantinedRecord]] = []
        self.report: BatchReport[S] = BatchReport()

    def add(self, item_id: str, key: str, observation: Obs) -> None:
        self._by_key[key].append((item_id, observation))

    def reject(self, item_id: str, reason: str, raw: str, origin: dict[str, Any]) -> None:
        self._rejected.append((item_id, QuarantinedRecord(reason, self._quarantine_source, raw, origin)))

    def fail(self, item_id: str, error: Exception) -> None:
        """An item that could not even be read (a defect): delivered again rather than lost."""
        self.report.failed.append(item_id)
        self.report.results.append(KeyResult(item_id, 1, error=error))

    def take_all(self, items: Iterable[T], item_id: Callable[[T], str], take: Callable[[T], None]) -> BatchReport[S]:
        """`take` each item (it calls add or reject), then flush; an item `take` raised on is failed, not the batch."""
        for item in items:
            try:
                take(item)
            except Exception as error:  # a defect on one item must not fail the others
                self.fail(item_id(item), error)
        return self.flush()

    def flush(self) -> BatchReport[S]:
        """Write every key touched by the batch (one write each, usually) and quarantine the rejects."""
        now = self._clock()
        for key, entries in self._by_key.items():
            try:
                applied = self._writer.apply(key, [observation for _, observation in entries], now)
            except Exception as error:  # throttling, timeouts, conflicts, PutEvents: Lambda retries these items
                self.report.failed.extend(item_id for item_id, _ in entries)
                self.report.results.append(KeyResult(key, len(entries), error=error))
                continue
            self.report.results.append(KeyResult(key, len(entries), applied))
            self.report.counts.update(outcome.value for outcome in applied.outcomes)
            self.report.lag_seconds.extend(
                (now - timestamps.parse(moment)).total_seconds()
                for _, observation in entries
                if (moment := self._event_time(observation))
            )
        if self._rejected:
            sent, unsent = send_all(self._quarantine, self._rejected)
            self.report.failed.extend(unsent)
            self.report.counts["quarantined"] += len(sent)
            self.report.quarantined.extend((record.origin, record.reason) for _, record in sent)
        self._by_key.clear()
        self._rejected.clear()
        return self.report
