"""What the services need from the outside world, owned by the services: interfaces (ports), the values and errors
that cross them, and the names both sides must agree on. adapters/ implements these with boto3; the tests implement
them in memory (tests/fakes.py). No AWS SDK here, so importing a service loads none (tests/unit/test_layers.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from connect_state.domain.enrichment import Enrichment

# The contact item's attribute that says `Contact Abandoned` went out (store.contact_state_store writes it).
ABANDONED_PUBLISHED_AT = "abandonedEventPublishedAt"
CONTACT_ABANDONED = "Contact Abandoned"  # the detail-type of the event announcing an abandoned contact
# SQS takes 256 KiB per message on every account; keep room for the envelope around the raw record.
MAX_RAW_CHARS = 200_000


class ConcurrentUpdateError(RuntimeError):
    """Other writers kept changing the item through every attempt; Lambda retries the records."""


@dataclass(frozen=True)
class WriteResult:
    """`written` is False when the item was not what the writer expected; `current` is then what it found."""

    written: bool
    current: dict[str, Any] | None = None


@dataclass(frozen=True)
class ItemWrite:
    """What a compare-and-set writes: SET every attribute of `item` and `updatedAt`, REMOVE the `removable` attributes
    that `item` lacks."""

    item: Mapping[str, Any]
    removable: tuple[str, ...]
    updated_at: str


class AgentStateStore(Protocol):
    def compare_and_set(
        self, agent_arn: str, expected_versions: Mapping[str, str | None] | None, write: ItemWrite
    ) -> WriteResult:
        """Write only if the stored item still has `expected_versions` (None: only if there is no item)."""
        ...


class Claim(StrEnum):
    CLAIMED = "claimed"
    ALREADY_PUBLISHED = "already-published"
    IN_PROGRESS = "in-progress"  # another invocation holds an unexpired claim
    NOT_ABANDONED = "not-abandoned"  # the stored item is not a completed abandoned contact (any more)


class ContactStateStore(Protocol):
    def compare_and_set(self, contact_id: str, expected_revision: str | None, write: ItemWrite) -> WriteResult:
        """Write only if the stored item has `expected_revision` (None: only if it has no revision yet)."""
        ...

    def claim_abandoned_publication(
        self, contact_id: str, token: str, now: str, lease_expired_before: str
    ) -> Claim: ...

    def confirm_abandoned_publication(self, contact_id: str, token: str, published_at: str) -> None: ...

    def release_abandoned_publication(self, contact_id: str, token: str) -> None: ...


class EnrichmentStore(Protocol):
    def enrichment_status(self, contact_id: str) -> str | None:
        """The stored `enrichmentStatus`, None if the contact was never enriched (or has no item)."""
        ...

    def write_enrichment(self, enrichment: Enrichment, ttl: int, updated_at: str) -> bool:
        """False if a newer or more complete enrichment is already stored (nothing was written)."""
        ...


class EventPublisher(Protocol):
    def publish(self, detail_type: str, detail: Mapping[str, Any], resources: list[str]) -> None: ...


class CallSlots(Protocol):
    def claim(self, slot: int, now_epoch_seconds: int) -> bool:
        """True if this caller now owns the slot; False if someone else claimed it first."""
        ...


class MessageRetry(Protocol):
    def postpone(self, queue_arn: str, receipt_handle: str, seconds: int) -> None: ...


class ContactApiError(Exception):
    """`reason` names the error code only, never the request or the answer (which holds phone numbers)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ContactNotFoundError(ContactApiError):
    """ResourceNotFoundException: a new contact takes seconds to minutes to appear; a very old one has expired."""


class ApiThrottledError(ContactApiError):
    """The account's DescribeContact quota (shared with every other application) is spent for now."""


class ApiUnavailableError(ContactApiError):
    """5xx, timeouts, connection errors, AccessDenied: worth retrying, within bounds."""


class RequestRejectedError(ContactApiError):
    """The API says the request itself is invalid (say, a malformed contact id): retrying cannot help."""


class ContactApi(Protocol):
    def describe_contact(self, instance_id: str, contact_id: str) -> Mapping[str, Any]:
        """The answer's `Contact`, as boto3 returns it; raises a ContactApiError subclass."""
        ...


@dataclass(frozen=True)
class QuarantinedRecord:
    """`raw` is the record as it arrived (base64 data for Kinesis, the event for EventBridge)."""

    reason: str
    source: str
    raw: str
    origin: dict[str, Any] = field(default_factory=dict)  # where to find it again: stream, shard, sequence number


class Quarantine(Protocol):
    def send(self, records: Sequence[QuarantinedRecord]) -> list[int]:
        """Send the records; return the indexes of those that could not be sent (the caller retries them)."""
        ...


Item = TypeVar("Item")


def send_all(
    quarantine: Quarantine, entries: Sequence[tuple[Item, QuarantinedRecord]]
) -> tuple[list[tuple[Item, QuarantinedRecord]], list[Item]]:
    """Send the records; return the entries that went, and the items whose record could not (to be retried)."""
    unsent = set(quarantine.send([record for _, record in entries]))
    sent = [entry for index, entry in enumerate(entries) if index not in unsent]
    return sent, [item for index, (item, _) in enumerate(entries) if index in unsent]


def quarantine_message(record: QuarantinedRecord) -> dict[str, Any]:
    """The body of a quarantine / dead-letter message; `original_body` reads it back."""
    truncated = len(record.raw) > MAX_RAW_CHARS
    return {
        "reason": record.reason,
        "source": record.source,
        "origin": record.origin,
        "raw": record.raw[:MAX_RAW_CHARS],
        "rawTruncated": truncated,
    }


def original_body(body: str) -> str:
    """The record inside a quarantine / dead-letter message, so that an operator can redrive such a queue straight
    back to its source queue once the cause is fixed (README "Operations"); any other body is returned as it is."""
    if not body.startswith('{"reason"'):  # what quarantine_message writes first; real events never start so
        return body
    try:
        document = json.loads(body)
    except json.JSONDecodeError:
        return body
    if isinstance(document, dict) and isinstance(document.get("raw"), str) and not document.get("rawTruncated"):
        return str(document["raw"])
    return body


# --- the live wallboard (service.board) ---------------------------------------------------------------------------
Clock = Callable[[], str]  # the canonical ISO instant the board's figures are computed at ("now")


@dataclass(frozen=True)
class StoredRow:
    """An agent row of the board's read model, with the agent item's order keys it was built from."""

    agent_arn: str
    row: Mapping[str, Any]
    versions: Mapping[str, str | None]  # orderKey, loginOrderKey, afterContactWorkOrderKey (None: absent)
    ttl: int | None = None


@dataclass(frozen=True)
class ChannelSequence:
    channel: str
    seq: int
    queue_arn: str | None = None  # for a queue channel: the queue it shows


class BoardStateReader(Protocol):
    """The two state tables, as the board reads them."""

    def agent_items(self, agent_arns: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The current agent items (strongly consistent); an agent with no item (expired) is not in the answer."""
        ...

    def contact_items(self, contact_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The current contact items (strongly consistent), by contact id."""
        ...

    def waiting_contacts(self, queue_arn: str) -> list[dict[str, Any]]:
        """The contacts waiting in the queue now (the byQueue index), oldest first."""
        ...

    def enqueued_contacts(self, queue_arn: str, since: str) -> list[dict[str, Any]]:
        """The queue's contacts with `enqueuedAt` >= since (the byQueueEnqueued index)."""
        ...


class BoardRowStore(Protocol):
    """The board's read model: agent rows and channel sequence numbers."""

    def rows(self, agent_arns: Sequence[str]) -> dict[str, StoredRow]:
        """The stored rows of these agents (strongly consistent)."""
        ...

    def all_rows(self) -> list[StoredRow]: ...

    def put_row(self, stored: StoredRow) -> bool:
        """Write unless a newer row is stored (a stored order key above the row's); False: not written."""
        ...

    def delete_row(self, stored: StoredRow) -> bool:
        """Delete the row if it still has `stored.versions`; False: another row is stored now."""
        ...

    def next_seq(self, channel: str, queue_arn: str | None = None) -> int:
        """The channel's next sequence number (atomic ADD); the first one is 1."""
        ...

    def current_seq(self, channel: str) -> int:
        """The channel's last sequence number handed out (0: none yet)."""
        ...

    def queue_channels(self) -> list[ChannelSequence]:
        """Every queue channel that has had a sequence number, with its queue and its last number."""
        ...


class ChannelPublisher(Protocol):
    def publish(self, channel: str, messages: Sequence[Mapping[str, Any]]) -> None:
        """Publish the messages (each one event) to the channel; raises if they could not be published."""
        ...
