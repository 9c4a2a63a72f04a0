"""Enrich finished contacts with DescribeContact, never faster than the configured rate, never losing a contact.

A batch holds SQS messages whose bodies are COMPLETED contact events (sent at once) or DISCONNECTED ones (sent after
the delay queue's delay). Per contact:
1. skip if the stored item needs nothing more (one GetItem: a duplicate COMPLETED, or a fallback after COMPLETED);
2. wait for a call slot (service.rate_gate.RateGate: every container shares one ledger of slots, 1/rate seconds each);
3. DescribeContact, then one conditional UpdateItem (see store.contact_state_store.write_enrichment).
Failures are retried through the queue: the message is reported failed and its visibility timeout set to an
exponential backoff, so it comes back later without holding a function. Throttling and 5xx go to the dead-letter queue
with their reason after `max_attempts`; ResourceNotFoundException is recorded as `enrichmentStatus: NOT_FOUND` after
`not_found_attempts` (a new contact can take minutes to appear, an old one has expired); a message that is not a
valid trigger goes to the dead-letter queue at once, with its reason.

No boto3 here: the API, the stores, the queues and the clock are interfaces (service.ports).
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from connect_state.domain import enrichment, timestamps
from connect_state.domain.enrichment import EnrichmentRequest, Trigger
from connect_state.models.decoder import Rejected, parse_contact_event
from connect_state.service.ports import (
    ApiThrottledError,
    ContactApi,
    ContactApiError,
    ContactNotFoundError,
    EnrichmentStore,
    MessageRetry,
    Quarantine,
    QuarantinedRecord,
    RequestRejectedError,
    original_body,
    send_all,
)
from connect_state.service.rate_gate import RateGate

DEAD_LETTER_SOURCE = "contact-enrichment"
TRIGGER_PRIORITY = {Trigger.COMPLETED: 0, Trigger.DISCONNECTED: 1}  # COMPLETED decides when both are in a batch


class Outcome(StrEnum):
    ENRICHED = "enriched"
    ACW_IN_PROGRESS = "acw_in_progress"
    NOT_FOUND = "not_found"  # recorded on the item after the last not-found attempt
    SKIPPED = "skipped"  # the item already had what this trigger would fetch: no call
    SUPERSEDED = "superseded"  # answered, but a newer or more complete answer was already stored
    RETRIED = "retried"  # reported failed, back after a backoff
    DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int  # throttling, 5xx: then the dead-letter queue, with the reason (the stack's setting)
    not_found_attempts: int  # ResourceNotFoundException: then enrichmentStatus NOT_FOUND (the stack's setting)
    backoff_base_seconds: int = 30
    backoff_cap_seconds: int = 900
    time_reserve_seconds: float = 10.0  # stop taking slots this close to the function's timeout


@dataclass(frozen=True)
class EnrichmentMessage:
    body: str
    attempt: int  # SQS ApproximateReceiveCount: 1 on the first delivery
    queue_arn: str
    receipt_handle: str
    message_id: str  # what Lambda's batchItemFailures names


@dataclass(frozen=True)
class ContactEnrichmentResult:
    contact_id: str
    outcome: Outcome
    reason: str | None = None  # an error code or a validation summary; never a value from the answer


@dataclass
class BatchReport:
    counts: Counter[str] = field(default_factory=Counter)
    failed: list[str] = field(default_factory=list)  # the message ids SQS must deliver again (after a backoff)
    contacts: list[ContactEnrichmentResult] = field(default_factory=list)
    dead_lettered: list[tuple[str, str]] = field(default_factory=list)  # (SQS message id, reason)


class EnrichmentBatch:
    def __init__(
        self,
        api: ContactApi,
        store: EnrichmentStore,
        gate: RateGate,
        dead_letters: Quarantine,
        retry: MessageRetry,
        ttl_days: int,
        policy: RetryPolicy,
        clock: Callable[[], float] = time.time,
        deadline: float = math.inf,
        jitter: random.Random | None = None,
    ) -> None:
        self._api = api
        self._store = store
        self._gate = gate
        self._dead_letters = dead_letters
        self._retry = retry
        self._ttl_days = ttl_days
        self._policy = policy
        self._clock = clock
        self._deadline = deadline - self._policy.time_reserve_seconds
        self._jitter = jitter or random.Random()
        self.report = BatchReport()

    def process(self, messages: Sequence[EnrichmentMessage]) -> BatchReport:
        requests: dict[str, list[EnrichmentMessage]] = defaultdict(list)
        triggers: dict[str, EnrichmentRequest] = {}
        rejected: list[tuple[EnrichmentMessage, str]] = []
        for message in messages:
            request = _request(message.body)
            if isinstance(request, Rejected):
                rejected.append((message, request.reason))
                continue
            requests[request.contact_id].append(message)
            known = triggers.get(request.contact_id)
            if known is None or TRIGGER_PRIORITY[request.trigger] < TRIGGER_PRIORITY[known.trigger]:
                triggers[request.contact_id] = request
        for contact_id, contact_messages in requests.items():
            self._enrich(triggers[contact_id], contact_messages)
        if rejected:
            self._dead_letter(rejected)
        return self.report

    def _enrich(self, request: EnrichmentRequest, messages: list[EnrichmentMessage]) -> None:
        attempt = max(message.attempt for message in messages)
        try:
            if not enrichment.needs_call(request, self._store.enrichment_status(request.contact_id)):
                self._done(request, Outcome.SKIPPED)
                return
            if not self._gate.acquire(self._deadline):
                reason = "no call slot before the function's timeout"
                self._postpone(request, messages, attempt, reason, attempt_for_backoff=1)
                return
            self.report.counts["calls"] += 1
            try:
                answer = self._api.describe_contact(request.instance_id, request.contact_id)
            except ContactNotFoundError as error:
                if attempt < self._policy.not_found_attempts:
                    self._postpone(request, messages, attempt, error.reason)
                    return
                self._write(request, enrichment.not_found(request, self._now()))
                return
            self._write(request, enrichment.from_answer(request, answer, self._now()))
        except RequestRejectedError as error:
            reason = f"DescribeContact rejected the request: {error.reason}"
            self._dead_letter([(message, reason) for message in messages])
        except ContactApiError as error:
            if isinstance(error, ApiThrottledError):
                self.report.counts["throttled"] += 1
            if attempt < self._policy.max_attempts:
                self._postpone(request, messages, attempt, error.reason)
            else:
                reason = f"DescribeContact failed {attempt} times, last with {error.reason}"
                self._dead_letter([(message, reason) for message in messages])
        except Exception as error:  # DynamoDB, SQS: retried through the queue, bounded by its redrive policy
            self._postpone(request, messages, attempt, type(error).__name__)

    def _write(self, request: EnrichmentRequest, answer: enrichment.Enrichment) -> None:
        start = answer.initiation_timestamp
        ttl = (timestamps.epoch_seconds(start) if start else int(self._clock())) + self._ttl_days * 86_400
        written = self._store.write_enrichment(answer, ttl, timestamps.format_timestamp(self._now()))
        if not written:
            self._done(request, Outcome.SUPERSEDED)
        else:
            self._done(request, Outcome(answer.status.value.lower()))

    def _done(self, request: EnrichmentRequest, outcome: Outcome) -> None:
        self.report.counts[outcome.value] += 1
        self.report.contacts.append(ContactEnrichmentResult(request.contact_id, outcome))

    def _postpone(
        self,
        request: EnrichmentRequest,
        messages: list[EnrichmentMessage],
        attempt: int,
        reason: str,
        *,
        attempt_for_backoff: int | None = None,
    ) -> None:
        delay = enrichment.retry_delay_seconds(
            attempt_for_backoff or attempt,
            self._policy.backoff_base_seconds,
            self._policy.backoff_cap_seconds,
            self._jitter,
        )
        for message in messages:
            try:
                self._retry.postpone(message.queue_arn, message.receipt_handle, delay)
            except Exception:  # the queue's own visibility timeout still brings it back
                self.report.counts["postpone_failed"] += 1
            self.report.failed.append(message.message_id)
        self.report.counts[Outcome.RETRIED.value] += 1
        self.report.contacts.append(ContactEnrichmentResult(request.contact_id, Outcome.RETRIED, reason))

    def _dead_letter(self, entries: list[tuple[EnrichmentMessage, str]]) -> None:
        sent, unsent = send_all(
            self._dead_letters,
            [
                (
                    message,
                    QuarantinedRecord(
                        reason, DEAD_LETTER_SOURCE, original_body(message.body), {"messageId": message.message_id}
                    ),
                )
                for message, reason in entries
            ],
        )
        self.report.failed.extend(message.message_id for message in unsent)
        self.report.counts[Outcome.DEAD_LETTERED.value] += len(sent)
        self.report.dead_lettered.extend((message.message_id, record.reason) for message, record in sent)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), tz=UTC)


def _request(body: str) -> EnrichmentRequest | Rejected:
    event = parse_contact_event(original_body(body))
    if isinstance(event, Rejected):
        return event
    detail = event.detail
    request = enrichment.request_for(detail.contact_id, detail.instance_arn, detail.event_type)
    if request is None:
        return Rejected(f"not an enrichment trigger: eventType {detail.event_type[:64]!r}")
    return request
