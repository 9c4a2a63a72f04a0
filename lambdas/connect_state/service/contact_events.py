"""One batch of contact events (SQS messages whose bodies are EventBridge events): parse each, coalesce per contact,
one conditional write per contact, and announce abandoned contacts once.

No boto3 here: the store, the quarantine and the publisher are interfaces (service.ports). The handler hands over the
whole batch and gets back a report whose `failed` lists the message ids SQS must deliver again.

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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from connect_state.domain import contact_state, timestamps
from connect_state.domain.contact_state import ContactObservation, ContactState
from connect_state.models.decoder import Rejected, parse_contact_event
from connect_state.service.coalescing import Applied, BatchReport, CoalescingBatch, Known, LruCache, StateWriter
from connect_state.service.ports import (
    ABANDONED_PUBLISHED_AT,
    CONTACT_ABANDONED,
    Claim,
    ContactStateStore,
    EventPublisher,
    ItemWrite,
    Quarantine,
    WriteResult,
    original_body,
)

CLAIM_LEASE = timedelta(minutes=2)  # must stay below the buffer queue's visibility timeout (stack: 6 minutes)
QUARANTINE_SOURCE = "contact-event-rule"


class PublicationInProgressError(RuntimeError):
    """Another invocation holds the claim to announce this contact; retried after its lease."""


@dataclass(frozen=True)
class QueueMessage:
    message_id: str  # what Lambda's batchItemFailures names
    body: str
    origin: dict[str, Any]


class ContactTable:
    """The contact item as the compare-and-set loop sees it: the write checks the remembered `revision`. An item
    without `revision` holds only enrichment: no state yet."""

    name = "contact"

    def __init__(self, store: ContactStateStore, ttl_days: int) -> None:
        self._store = store
        self._ttl_days = ttl_days

    def write(
        self, key: str, known: Known[ContactState], merged: ContactState, now: datetime
    ) -> tuple[WriteResult, Known[ContactState]]:
        item = contact_state.to_item(merged, self._ttl_days, int(now.timestamp()))
        write = ItemWrite(item, contact_state.REMOVABLE_ATTRIBUTES, timestamps.format_timestamp(now))
        result = self._store.compare_and_set(key, known.expected, write)
        return result, Known(merged, item[contact_state.REVISION], known.announced)

    def read_back(self, current: dict[str, Any] | None) -> Known[ContactState]:
        if not current or contact_state.REVISION not in current:
            return Known()
        return Known(
            contact_state.from_item(current), current[contact_state.REVISION], ABANDONED_PUBLISHED_AT in current
        )


class ContactStateWriter(StateWriter[ContactState, ContactObservation]):
    """Merges observations into a contact's item with compare-and-set; announces it once if it ends abandoned."""

    def __init__(
        self, store: ContactStateStore, publisher: EventPublisher, ttl_days: int, cache: LruCache | None = None
    ) -> None:
        super().__init__(ContactTable(store, ttl_days), contact_state.merge, cache)
        self._store = store
        self._publisher = publisher

    def apply(self, key: str, observations: list[ContactObservation], now: datetime) -> Applied[ContactState]:
        known, merged, outcomes = self.merge_and_write(key, observations, now)
        announced = False
        if merged.abandoned and merged.completed and not known.announced:
            announced = self._announce(merged, now)
            self._cache.remember(key, Known(merged, known.expected, announced=True))
        return Applied(merged, tuple(outcomes), announced)

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


def process(
    messages: Iterable[QueueMessage],
    writer: ContactStateWriter,
    quarantine: Quarantine,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BatchReport[ContactState]:
    """Every message ends as written, quarantined, or failed (to be delivered again)."""
    batch: CoalescingBatch[ContactState, ContactObservation] = CoalescingBatch(
        writer, quarantine, QUARANTINE_SOURCE, lambda observation: observation.event_time, clock
    )

    def take(message: QueueMessage) -> None:
        body = original_body(message.body)  # a quarantined message redriven here by an operator
        parsed = parse_contact_event(body)
        if isinstance(parsed, Rejected):
            batch.reject(message.message_id, parsed.reason, body, message.origin)
            return
        if parsed.detail.event_type not in contact_state.KNOWN_EVENT_TYPES:
            batch.report.counts["unknown_event_type"] += 1  # kept: it may still carry fields, never moves status
        observation = contact_state.observe(parsed)
        batch.add(message.message_id, observation.contact_id, observation)

    report = batch.take_all(messages, lambda message: message.message_id, take)
    announced = sum(1 for result in report.results if result.applied and result.applied.announced)
    if announced:
        report.counts["abandoned"] += announced
    return report
