"""Current contact state as a pure function of the contact events received, in any order, any number of times.

EventBridge delivers contact events unordered, sometimes twice, sometimes not at all. So the state is built only
from operations that are commutative, associative and idempotent (a join-semilattice):
- `stages`: the union of the lifecycle event types seen (INITIATED … COMPLETED);
- first-seen timestamps (`initiationTimestamp` … `disconnectTimestamp`): the minimum over every event carrying one;
- the QUEUED event's own time (`queuedEventTime`): the minimum over QUEUED events, so a contact whose events carry no
  `enqueueTimestamp` (a 2021 production capture has `queueInfo` with `queueArn` and `queueType` only) still has an
  enqueue time; Connect's `enqueueTimestamp` replaces it whenever an event carries one.
- every other attribute (channel, queueArn, agentArn, after-contact work, …): the value from the event with the
  highest order key among the events that carry it. The key is (stage rank, envelope time, EventBridge id), so the
  furthest stage wins, then the newest event; equal keys (the same event twice) fall back to the value itself.
`status`, `abandoned`, `queuedSince`, `enqueuedAt` and `ttl` are derived from those when the item is written, never
merged.
A timestamp proves its stage was reached even if that stage's own event was lost (each event repeats the
cumulative fields seen so far), so `status` is the furthest stage evidenced by an event type or by a timestamp.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connect_state.domain import timestamps, versioned
from connect_state.domain.versioned import Outcome, Versioned
from connect_state.models.contact_event import ContactEvent

STAGES = ("INITIATED", "CONNECTED_TO_SYSTEM", "QUEUED", "CONNECTED_TO_AGENT", "DISCONNECTED", "COMPLETED")
STAGE_RANK: Mapping[str, int] = {stage: rank for rank, stage in enumerate(STAGES, start=1)}
KNOWN_EVENT_TYPES = frozenset(STAGES) | {"CONTACT_DATA_UPDATED", "PAUSED", "RESUMED"}
# The stage each first-seen timestamp proves.
FIRST_SEEN: Mapping[str, str] = {
    "initiationTimestamp": "INITIATED",
    "connectedToSystemTimestamp": "CONNECTED_TO_SYSTEM",
    "enqueueTimestamp": "QUEUED",
    "connectedToAgentTimestamp": "CONNECTED_TO_AGENT",
    "disconnectTimestamp": "DISCONNECTED",
}
# The attributes where the event with the highest order key wins (see above); `ContactState.latest` holds them.
LATEST_WINS = (
    "instanceArn",
    "channel",
    "initiationMethod",
    "initialContactId",
    "previousContactId",
    "relatedContactId",
    "queueArn",
    "agentArn",
    "afterContactWorkStartTimestamp",
    "afterContactWorkEndTimestamp",
    "afterContactWorkDuration",
    "agentInitiatedHoldDuration",
)
WHOLE_SECONDS = ("afterContactWorkDuration", "agentInitiatedHoldDuration")
REVISION = "revision"  # hash of the merged state: what a conditional write checks
ORDER_KEYS = "orderKeys"  # per LATEST_WINS attribute, the order key of the event its value came from
STAGES_SEEN = "stagesSeen"
FIRST_EVENT_TIME = "firstEventTime"
QUEUED_EVENT_TIME = "queuedEventTime"
# Attributes a write may need to remove: `queuedSince` leaves when the contact leaves the queue.
REMOVABLE_ATTRIBUTES = ("queuedSince", "status")


@dataclass(frozen=True)
class ContactObservation:
    """What one contact event says about the contact."""

    contact_id: str
    event_id: str
    event_type: str
    order_key: str
    event_time: str | None
    latest: Mapping[str, Any]
    first_seen: Mapping[str, str]
    queued_at: str | None = None  # a QUEUED event's own time: the fallback for a missing enqueueTimestamp


@dataclass(frozen=True)
class ContactState:
    contact_id: str
    stages: frozenset[str] = frozenset()
    first_seen: Mapping[str, str] = field(default_factory=dict)
    latest: Mapping[str, Versioned] = field(default_factory=dict)
    first_event_time: str | None = None
    queued_event_time: str | None = None

    @property
    def status(self) -> str | None:
        evidence = self.stages | {FIRST_SEEN[name] for name in self.first_seen}
        return max(evidence, key=STAGE_RANK.__getitem__, default=None)

    @property
    def queued(self) -> bool:
        return "QUEUED" in self.stages or "enqueueTimestamp" in self.first_seen

    @property
    def enqueued_at(self) -> str | None:
        """When the contact entered its (first) queue: Connect's `enqueueTimestamp`, else the QUEUED event's time."""
        return self.first_seen.get("enqueueTimestamp") or self.queued_event_time

    @property
    def connected_to_agent(self) -> bool:
        return "CONNECTED_TO_AGENT" in self.stages or "connectedToAgentTimestamp" in self.first_seen

    @property
    def disconnected(self) -> bool:
        return bool({"DISCONNECTED", "COMPLETED"} & self.stages) or "disconnectTimestamp" in self.first_seen

    @property
    def abandoned(self) -> bool:
        """Queued, then disconnected, never connected to an agent; a late CONNECTED_TO_AGENT clears it."""
        return self.queued and self.disconnected and not self.connected_to_agent

    @property
    def completed(self) -> bool:
        return "COMPLETED" in self.stages

    def value(self, name: str) -> Any:
        newest = self.latest.get(name)
        return newest.value if newest else None

    def revision(self) -> str:
        """Equal states have equal revisions, whatever order their events came in."""
        document = {
            "stages": sorted(self.stages),
            "firstSeen": dict(sorted(self.first_seen.items())),
            # "registers": the old name of `latest`, kept so that the revisions already stored stay valid
            "registers": {name: [r.order_key, r.value] for name, r in sorted(self.latest.items())},
            "firstEventTime": self.first_event_time,
        }
        if self.queued_event_time is not None:  # only then, so states without it keep the revision they had
            document[QUEUED_EVENT_TIME] = self.queued_event_time
        return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:32]


def order_key(event_type: str, event_time: str | None, event_id: str) -> str:
    """Furthest stage first (envelope time has whole seconds only), then envelope time, then the EventBridge id."""
    time = timestamps.canonical(event_time) if event_time else ""
    return f"{STAGE_RANK.get(event_type, 0):02d}#{time}#{event_id}"


def observe(event: ContactEvent) -> ContactObservation:
    detail = event.detail
    queue, agent = detail.queue_info, detail.agent_info
    latest = {
        "instanceArn": detail.instance_arn,
        "channel": detail.channel,
        "initiationMethod": detail.initiation_method,
        "initialContactId": detail.initial_contact_id,
        "previousContactId": detail.previous_contact_id,
        "relatedContactId": detail.related_contact_id,
        "queueArn": queue.queue_arn if queue else None,
        "agentArn": agent.agent_arn if agent else None,
        "afterContactWorkStartTimestamp": _canonical(agent.after_contact_work_start_timestamp if agent else None),
        "afterContactWorkEndTimestamp": _canonical(agent.after_contact_work_end_timestamp if agent else None),
        "afterContactWorkDuration": agent.after_contact_work_duration if agent else None,
        "agentInitiatedHoldDuration": agent.agent_initiated_hold_duration if agent else None,
    }
    first_seen = {
        "initiationTimestamp": _canonical(detail.initiation_timestamp),
        "connectedToSystemTimestamp": _canonical(detail.connected_to_system_timestamp),
        "enqueueTimestamp": _canonical(queue.enqueue_timestamp if queue else None),
        "connectedToAgentTimestamp": _canonical(agent.connected_to_agent_timestamp if agent else None),
        "disconnectTimestamp": _canonical(detail.disconnect_timestamp),
    }
    event_time = _canonical(event.time)
    queued_at = None
    if detail.event_type == "QUEUED":
        # The envelope's time has whole seconds only: never earlier than a moment the event itself says had passed.
        queued_at = max([moment for moment in (event_time, *first_seen.values()) if moment is not None], default=None)
    return ContactObservation(
        contact_id=detail.contact_id,
        event_id=event.id,
        event_type=detail.event_type,
        order_key=order_key(detail.event_type, event.time, event.id),
        event_time=event_time,
        latest={name: value for name, value in latest.items() if value is not None},
        first_seen={name: value for name, value in first_seen.items() if value is not None},
        queued_at=queued_at,
    )


def merge(state: ContactState | None, observations: Iterable[ContactObservation]) -> tuple[ContactState, list[Outcome]]:
    """Fold observations into the state (the join of the semilattice described above)."""
    return versioned.fold(
        state, observations, lambda observation: ContactState(contact_id=observation.contact_id), _merge_one, _unchanged
    )


def _merge_one(state: ContactState, observation: ContactObservation) -> ContactState:
    latest = dict(state.latest)
    for name, value in observation.latest.items():
        latest[name] = _newest(latest.get(name), Versioned(observation.order_key, value))
    first_seen = dict(state.first_seen)
    for name, moment in observation.first_seen.items():
        first_seen[name] = min(first_seen.get(name, moment), moment)
    stages = state.stages | {observation.event_type} if observation.event_type in STAGE_RANK else state.stages
    first_event_time = _min_optional(state.first_event_time, observation.event_time)
    queued_event_time = _min_optional(state.queued_event_time, observation.queued_at)
    return ContactState(state.contact_id, stages, first_seen, latest, first_event_time, queued_event_time)


def _unchanged(state: ContactState, observation: ContactObservation) -> Outcome:
    if STAGE_RANK.get(observation.event_type, 0) < STAGE_RANK.get(state.status or "", 0):
        return Outcome.STALE
    return Outcome.DUPLICATE


def to_item(state: ContactState, ttl_days: int, now_epoch_seconds: int) -> dict[str, Any]:
    """The DynamoDB item (without `updatedAt`, which the store stamps)."""
    item: dict[str, Any] = {"contactId": state.contact_id}
    item.update({name: latest.value for name, latest in state.latest.items()})
    item.update(state.first_seen)
    status = state.status
    if status is not None:
        item["status"] = status
    item["abandoned"] = state.abandoned
    if state.enqueued_at is not None:
        # Sort key of the byQueueEnqueued index (the board's contacts queued in an interval): set once queued, kept.
        item["enqueuedAt"] = state.enqueued_at
        if status == "QUEUED":
            # Sparse sort key of the byQueue index: only contacts waiting in a queue are in it.
            item["queuedSince"] = state.enqueued_at
    if state.stages:
        item[STAGES_SEEN] = set(state.stages)
    if state.first_event_time is not None:
        item[FIRST_EVENT_TIME] = state.first_event_time
    if state.queued_event_time is not None:
        item[QUEUED_EVENT_TIME] = state.queued_event_time
    item[ORDER_KEYS] = {name: latest.order_key for name, latest in state.latest.items()}
    item[REVISION] = state.revision()
    item["ttl"] = _ttl(state, ttl_days, now_epoch_seconds)
    return item


def from_item(item: Mapping[str, Any]) -> ContactState:
    """Rebuild the state from a stored item (a conflicting write returns the item it found)."""
    keys: Mapping[str, str] = item.get(ORDER_KEYS, {})
    latest = {
        name: Versioned(keys[name], int(item[name]) if name in WHOLE_SECONDS else item[name])
        for name in LATEST_WINS
        if name in item and name in keys
    }
    return ContactState(
        contact_id=item["contactId"],
        stages=frozenset(item.get(STAGES_SEEN, ())),
        first_seen={name: item[name] for name in FIRST_SEEN if name in item},
        latest=latest,
        first_event_time=item.get(FIRST_EVENT_TIME),
        queued_event_time=item.get(QUEUED_EVENT_TIME),
    )


def abandoned_event_detail(state: ContactState) -> dict[str, Any]:
    """The `Contact Abandoned` event: where and when the customer gave up. No endpoints: no phone numbers."""
    detail: dict[str, Any] = {
        "contactId": state.contact_id,
        "instanceArn": state.value("instanceArn"),
        "queueArn": state.value("queueArn"),
        "channel": state.value("channel"),
        "initiationMethod": state.value("initiationMethod"),
        "initialContactId": state.value("initialContactId"),
        "previousContactId": state.value("previousContactId"),
        **state.first_seen,
    }
    enqueued, disconnected = state.enqueued_at, state.first_seen.get("disconnectTimestamp")
    if enqueued and disconnected:
        wait = timestamps.seconds_between(enqueued, disconnected)
        detail["queueWaitSeconds"] = float(max(wait, Decimal(0)))
    return {name: value for name, value in detail.items() if value is not None}


def _ttl(state: ContactState, ttl_days: int, now_epoch_seconds: int) -> int:
    """From the contact's own earliest timestamp, so replaying old events cannot keep an item alive; only a contact
    with no timestamp at all (a hand-written replay line) falls back to processing time."""
    moments = [*state.first_seen.values(), *([state.first_event_time] if state.first_event_time else [])]
    start = timestamps.epoch_seconds(min(moments)) if moments else now_epoch_seconds
    return start + ttl_days * 86_400


def _newest(current: Versioned | None, candidate: Versioned) -> Versioned:
    if current is None:
        return candidate
    # The value breaks a tie so that one event id delivered with two different bodies still merges commutatively.
    if (candidate.order_key, _sortable(candidate.value)) > (current.order_key, _sortable(current.value)):
        return candidate
    return current


def _sortable(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _min_optional(left: str | None, right: str | None) -> str | None:
    if left is None or right is None:
        return left or right
    return min(left, right)


def _canonical(timestamp: str | None) -> str | None:
    return timestamps.canonical(timestamp) if timestamp else None
