"""DescribeContact enrichment: what only the Amazon Connect API knows about a finished contact, as contact item fields.

Triggers: the COMPLETED contact event (the end of after-contact work), or, because COMPLETED is best effort (a chat
whose agent goes offline without clearing it may never send one), the DISCONNECTED event after a delay.

Every answer gets a version, `<status rank>#<Contact.LastUpdateTimestamp>`, and a write only lands if the stored
version is not higher, so answers applied in any order, any number of times, leave the newest most complete one:
NOT_FOUND (0) < ACW_IN_PROGRESS (1) < ENRICHED (2). The after-contact-work and hold fields are also carried by the
COMPLETED event; there the event's value is kept and DescribeContact only fills what is missing (README "Enrichment").

`CustomerEndpoint` and `SystemEndpoint` (phone numbers, email addresses) are never read from the answer: only the
fields below are, so they can be neither stored nor logged.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from connect_state.domain import timestamps


class EnrichmentStatus(StrEnum):
    NOT_FOUND = "NOT_FOUND"  # DescribeContact never knew the contact, through every retry
    ACW_IN_PROGRESS = "ACW_IN_PROGRESS"  # asked after DISCONNECTED + delay: the agent was still in after-contact work
    ENRICHED = "ENRICHED"  # the final answer: after COMPLETED, or no agent, or after-contact work has ended


STATUS_RANK: Mapping[EnrichmentStatus, int] = {
    EnrichmentStatus.NOT_FOUND: 0,
    EnrichmentStatus.ACW_IN_PROGRESS: 1,
    EnrichmentStatus.ENRICHED: 2,
}


class Trigger(StrEnum):
    COMPLETED = "COMPLETED"
    DISCONNECTED = "DISCONNECTED"  # the fallback, delivered after the delay queue's delay


# Fields the COMPLETED event also carries: the contact event writer owns them, enrichment only fills them in.
SHARED_WITH_CONTACT_EVENTS = (
    "afterContactWorkStartTimestamp",
    "afterContactWorkEndTimestamp",
    "afterContactWorkDuration",
    "agentInitiatedHoldDuration",
)
# Fields only DescribeContact knows: the newest answer's value replaces the stored one.
ENRICHMENT_ONLY = ("disconnectReason", "recordings")
RECORDING_FIELDS = {
    "Location": "location",
    "Status": "status",
    "StorageType": "storageType",
    "MediaStreamType": "mediaStreamType",
    "ParticipantType": "participantType",
}
RECORDING_TIMES = {"StartTimestamp": "startTimestamp", "StopTimestamp": "stopTimestamp"}


@dataclass(frozen=True)
class EnrichmentRequest:
    """One contact to enrich, from the contact event that asked for it."""

    contact_id: str
    instance_id: str
    trigger: Trigger


@dataclass(frozen=True)
class Enrichment:
    """What one DescribeContact answer (or its absence) adds to the contact item."""

    contact_id: str
    status: EnrichmentStatus
    version: str
    enriched_at: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    initiation_timestamp: str | None = None  # for the ttl of an item enrichment creates before any contact event


def request_for(contact_id: str, instance_arn: str, event_type: str) -> EnrichmentRequest | None:
    """None for an event that does not ask for enrichment (the rules send only COMPLETED and DISCONNECTED)."""
    try:
        trigger = Trigger(event_type)
    except ValueError:
        return None
    return EnrichmentRequest(contact_id, instance_arn.rsplit("/", 1)[-1], trigger)


def from_answer(request: EnrichmentRequest, contact: Mapping[str, Any], now: datetime) -> Enrichment:
    """`contact` is DescribeContact's `Contact` as boto3 returns it (timestamps are tz-aware datetimes)."""
    agent: Mapping[str, Any] = contact.get("AgentInfo") or {}
    fields: dict[str, Any] = {
        "afterContactWorkStartTimestamp": _timestamp(agent.get("AfterContactWorkStartTimestamp")),
        "afterContactWorkEndTimestamp": _timestamp(agent.get("AfterContactWorkEndTimestamp")),
        "afterContactWorkDuration": agent.get("AfterContactWorkDuration"),
        "agentInitiatedHoldDuration": agent.get("AgentInitiatedHoldDuration"),
        "disconnectReason": contact.get("DisconnectReason") or None,
        "recordings": [_recording(recording) for recording in contact.get("Recordings") or []] or None,
    }
    status = _status(agent, request.trigger)
    last_update = _timestamp(contact.get("LastUpdateTimestamp")) or ""
    return Enrichment(
        contact_id=request.contact_id,
        status=status,
        version=_version(status, last_update),
        enriched_at=timestamps.format_timestamp(now),
        fields={name: value for name, value in fields.items() if value is not None},
        initiation_timestamp=_timestamp(contact.get("InitiationTimestamp")),
    )


def not_found(request: EnrichmentRequest, now: datetime) -> Enrichment:
    status = EnrichmentStatus.NOT_FOUND
    return Enrichment(request.contact_id, status, _version(status, ""), timestamps.format_timestamp(now))


def is_final(stored_status: str | None) -> bool:
    """Nothing a later answer could add: the request needs no DescribeContact call."""
    return stored_status == EnrichmentStatus.ENRICHED


def needs_call(request: EnrichmentRequest, stored_status: str | None) -> bool:
    """COMPLETED asks unless the item is already ENRICHED; the DISCONNECTED fallback only if nothing enriched it yet
    (an earlier COMPLETED, or an earlier fallback that found the contact or gave up on it)."""
    if request.trigger is Trigger.DISCONNECTED:
        return stored_status is None
    return not is_final(stored_status)


def retry_delay_seconds(attempt: int, base_seconds: int, cap_seconds: int, jitter: random.Random) -> int:
    """Exponential backoff with equal jitter: half the step fixed, half random, so a burst of throttled messages
    comes back spread out instead of all at once."""
    step: int = min(base_seconds * 2 ** max(attempt - 1, 0), cap_seconds)
    return step // 2 + jitter.randint(0, step - step // 2)


def _status(agent: Mapping[str, Any], trigger: Trigger) -> EnrichmentStatus:
    acw_open = agent.get("AfterContactWorkStartTimestamp") and not agent.get("AfterContactWorkEndTimestamp")
    if trigger is Trigger.DISCONNECTED and acw_open:
        return EnrichmentStatus.ACW_IN_PROGRESS
    return EnrichmentStatus.ENRICHED


def _version(status: EnrichmentStatus, last_update: str) -> str:
    return f"{STATUS_RANK[status]}#{last_update}"


def _recording(recording: Mapping[str, Any]) -> dict[str, Any]:
    mapped: dict[str, Any] = {name: recording.get(key) for key, name in RECORDING_FIELDS.items()}
    mapped.update({name: _timestamp(recording.get(key)) for key, name in RECORDING_TIMES.items()})
    return {name: value for name, value in mapped.items() if value is not None}


def _timestamp(value: Any) -> str | None:
    """boto3 gives datetimes; a raw JSON answer (or a test) may give epoch seconds or an ISO string."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return timestamps.format_timestamp(value)
    if isinstance(value, int | float):
        return timestamps.format_timestamp(datetime.fromtimestamp(value, tz=UTC))
    return timestamps.canonical(str(value))
