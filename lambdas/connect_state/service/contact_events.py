"""One batch of contact events (SQS messages whose bodies are EventBridge events): parse each, coalesce per contact,
one conditional write per contact, and announce abandoned contacts once.

No boto3 here: the store, the quarantine and the publisher are interfaces. The handler feeds messages in as the
BatchProcessor hands them over and reports back the messages that must be retried.

`Contact Abandoned` is claimed, then published, then confirmed (three conditional UpdateItems, only for abandoned
contacts, only once each):
1. claim: SET a token IF the stored item is abandoned and COMPLETED, not yet published, and not claimed by someone
   else within the lease (so two invocations holding the same COMPLETED twice cannot both publish);
2. PutEvents; if it fails, the claim is released and the messages retried, so the event is not lost;
3. confirm: SET `abandonedEventPublishedAt`, REMOVE the claim.
If an invocation dies between 2 and 3, its claim expires after the lease (shorter than the queue's visibility
timeout) and the redelivered message publishes again: delivery is at-least-once with duplicates only in that
window. Consumers that must be exact de-duplicate on `contactId`, which is unique per abandoned contact.
"""

from __future__ import annotations

import uuid
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from connect_state.domain import contact_state, timestamps
from connect_state.domain.contact_state import ContactObservation, ContactState, Outcome
from connect_state.domain.records import Rejected
from connect_state.models.contact_event import parse_contact_event
from connect_state.store.conditional_write import ConcurrentUpdateError
from connect_state.store.contact_state_store import PUBLISHED_AT, Claim, ContactStateStore
from connect_state.store.event_publisher import CONTACT_ABANDONED, EventPublisher
from connect_state.store.quarantine import Quarantine, QuarantinedRecord, original_body, send_all

Ref = TypeVar("Ref")  # whatever the caller needs to report a message as failed (Powertools' record object)
MAX_WRITE_ATTEMPTS = 5
CLAIM_LEASE = timedelta(minutes=2)  # must stay below the buffer queue's visibility timeout (stack: 6 minutes)
CACHE_SIZE = 10_000  # contacts remembered per container: a few MB, enough for every contact in flight
QUARANTINE_SOURCE = "contact-event-rule"


class PublicationInProgressError(RuntimeError):
    """Another invocation holds the claim to announce this contact; retried after its lease."""


@dataclass(frozen=True)
class QueueMessage(Generic[Ref]):
    ref: Ref
    body: str
    origin: dict[str, Any]


@dataclass(frozen=True)
class Known:
    """What this container believes is stored: the first guess of a compare-and-set, never trusted further."""

    state: ContactState | None
    revision: str | None = None  # the stored item's `revision`; None: no item, or one only enrichment has written
    abandoned_published: bool = False

    @classmethod
    def stored(cls, item: dict[str, Any] | None) -> Known:
        """What a failed compare-and-set found. An item without `revision` holds only enrichment: no state yet."""
        if not item or contact_state.REVISION not in item:
            return cls(None)
        return cls(contact_state.from_item(item), item[contact_state.REVISION], PUBLISHED_AT in item)


@dataclass(frozen=True)
class ContactResult:
    contact_id: str
    status: str | None = None
    outcomes: tuple[Outcome, ...] = ()
    announced: bool = False
    error: Exception | None = None


@dataclass
class BatchReport(Generic[Ref]):
    counts: Counter[str] = field(default_factory=Counter)
    failed: list[tuple[Ref, Exception]] = field(default_factory=list)
    lag_seconds: list[float] = field(default_factory=list)
    contacts: list[ContactResult] = field(default_factory=list)
    quarantined: list[tuple[str, str]] = field(default_factory=list)  # (SQS message id, reason)


class LruCache(OrderedDict[str, Known]):
    """Bounded: a container sees every contact of the instance once, and contacts end."""

    def __init__(self, max_size: int = CACHE_SIZE) -> None:
        super().__init__()
        self.max_size = max_size

    def remember(self, contact_id: str, known: Known) -> None:
        self[contact_id] = known
        self.move_to_end(contact_id)
        while len(self) > self.max_size:
            self.popitem(last=False)

    def recall(self, contact_id: str) -> Known:
        known = self.get(contact_id)
        if known is None:
            return Known(None)
        self.move_to_end(contact_id)
        return known


class ContactStateWriter:
    """Merges observations into a contact's item with compare-and-set; announces it once if it ends abandoned.

    The first attempt assumes the item is as this container last wrote it (or absent, which is right for a contact's
    first event); a wrong guess costs one failed write that returns the real item, and the merge is redone on it.
    The cache is only that guess: a batch that adds nothing to what it remembers is still written, because the
    conditional write is what checks the item is still there as remembered (a table cleared for a rebuild is not).
    """

    def __init__(
        self, store: ContactStateStore, publisher: EventPublisher, ttl_days: int, cache: LruCache | None = None
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._ttl_days = ttl_days
        self._cache = cache if cache is not None else LruCache()

    def apply(self, contact_id: str, observations: list[ContactObservation], now: datetime) -> ContactResult:
        known = self._cache.recall(contact_id)
        from_table = False  # whether `known` is what DynamoDB returned, or only what the cache remembers
        for _ in range(MAX_WRITE_ATTEMPTS):
            merged, outcomes = contact_state.merge(known.state, observations)
            if from_table and merged == known.state:
                break  # the stored item already holds every one of these events
            item = contact_state.to_item(merged, self._ttl_days, int(now.timestamp()))
            result = self._store.compare_and_set(
                contact_id,
                known.revision,
                item,
                contact_state.REMOVABLE_ATTRIBUTES,
                timestamps.format_timestamp(now),
            )
            if result.written:
                known = Known(merged, item[contact_state.REVISION], known.abandoned_published)
                break
            known = Known.stored(result.current)
            from_table = True
        else:
            self._cache.pop(contact_id, None)
            raise ConcurrentUpdateError(f"contact item kept changing during {MAX_WRITE_ATTEMPTS} attempts")
        self._cache.remember(contact_id, known)
        announced = False
        if merged.abandoned and merged.completed and not known.abandoned_published:
            announced = self._announce(merged, now)
            self._cache.remember(contact_id, Known(merged, known.revision, abandoned_published=True))
        return ContactResult(contact_id, merged.status, tuple(outcomes), announced)

    def _announce(self, state: ContactState, now: datetime) -> bool:
        token = uuid.uuid4().hex
        claim = self._store.claim_abandoned_publication(
            state.contact_id,
            token,
            timestamps.format_timestamp(now),
            timestamps.format_timestamp(now - CLAIM_LEASE),
        )
        if claim is Claim.IN_PROGRESS:
            raise PublicationInProgressError("another invocation is announcing this abandoned contact")
        if claim is not Claim.CLAIMED:
            return False  # already published, or the stored item says it is not abandoned after all
        try:
            self._publisher.publish(CONTACT_ABANDONED, contact_state.abandoned_event_detail(state), [])
        except Exception:
            self._store.release_abandoned_publication(state.contact_id, token)
            raise
        self._store.confirm_abandoned_publication(state.contact_id, token, timestamps.format_timestamp(now))
        return True


class ContactEventBatch(Generic[Ref]):
    def __init__(
        self,
        writer: ContactStateWriter,
        quarantine: Quarantine,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._writer = writer
        self._quarantine = quarantine
        self._clock = clock
        self._by_contact: dict[str, list[tuple[QueueMessage[Ref], ContactObservation]]] = defaultdict(list)
        self._rejected: list[tuple[QueueMessage[Ref], QuarantinedRecord]] = []
        self.report: BatchReport[Ref] = BatchReport()

    def accept(self, message: QueueMessage[Ref]) -> str:
        """Parse one message; returns what it is (for the BatchProcessor's success result)."""
        body = original_body(message.body)  # a quarantined message redriven here by an operator
        parsed = parse_contact_event(body)
        if isinstance(parsed, Rejected):
            self._rejected.append((message, QuarantinedRecord(parsed.reason, QUARANTINE_SOURCE, body, message.origin)))
            return f"quarantined: {parsed.reason}"
        if parsed.envelope_missing:
            self.report.counts["no_envelope"] += 1
        if parsed.detail.event_type not in contact_state.KNOWN_EVENT_TYPES:
            self.report.counts["unknown_event_type"] += 1  # kept: it may still carry fields, never moves status
        observation = contact_state.observe(parsed)
        self._by_contact[observation.contact_id].append((message, observation))
        return f"contact event {parsed.detail.event_type}"

    def flush(self) -> BatchReport[Ref]:
        """Write every contact touched by the batch (one write each, usually) and quarantine the rejects."""
        now = self._clock()
        for contact_id, entries in self._by_contact.items():
            try:
                result = self._writer.apply(contact_id, [observation for _, observation in entries], now)
            except Exception as error:  # throttling, timeouts, conflicts, PutEvents: these messages are retried
                self.report.failed.extend((message.ref, error) for message, _ in entries)
                self.report.contacts.append(ContactResult(contact_id, error=error))
                continue
            self.report.contacts.append(result)
            self.report.counts.update(outcome.value for outcome in result.outcomes)
            if result.announced:
                self.report.counts["abandoned"] += 1
            self.report.lag_seconds.extend(
                (now - timestamps.parse(observation.event_time)).total_seconds()
                for _, observation in entries
                if observation.event_time
            )
        if self._rejected:
            sent, unsent = send_all(self._quarantine, self._rejected)
            self.report.failed.extend((message.ref, RuntimeError("quarantine queue unavailable")) for message in unsent)
            self.report.counts["quarantined"] += len(sent)
            self.report.quarantined.extend(
                (str(message.origin.get("messageId")), quarantined.reason) for message, quarantined in sent
            )
        self._by_contact.clear()
        self._rejected.clear()
        return self.report
