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

Contact records (CTRs) are a separate part of the state, `record`: the facts of the newest version of the contact's
record (highest `LastUpdateTimestamp`, then the facts themselves, so a re-delivery or duplicate changes nothing).
They are never merged into the events' minimums and newest values: CTR timestamps are whole seconds, and a
whole-second value must never replace an event's millisecond value for the same fact. Instead `to_item` lays the
record's facts UNDER the event-derived values: a record fills only what no event delivered. A record also proves the
contact ended: its status is at least DISCONNECTED, COMPLETED when an agent handled it (Connect writes the record
after after-contact work is cleared). Which item attributes the record filled is written down (`filledByRecord`), so
that `from_item` gives back exactly the state that was written. A state without a record has the revision and the
item it always had.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from connect_state.domain import timestamps, versioned
from connect_state.domain.versioned import Outcome, Versioned
from connect_state.models.contact_event import ContactEvent
from connect_state.models.contact_record import ContactRecord, Recording

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
# What only a contact record tells (besides the fields above): the transfer's next leg, when the contact left its
# queue, why it ended, its recordings (in the shape enrichment writes them).
RECORD_ONLY = ("nextContactId", "dequeueTimestamp", "disconnectReason", "recordings")
REVISION = "revision"  # hash of the merged state: what a conditional write checks
ORDER_KEYS = "orderKeys"  # per LATEST_WINS attribute, the order key of the event its value came from
STAGES_SEEN = "stagesSeen"
FIRST_EVENT_TIME = "firstEventTime"
QUEUED_EVENT_TIME = "queuedEventTime"
CONTACT_RECORD = "contactRecord"  # the newest record's version and facts, as `from_item` reads them back
FILLED_BY_RECORD = "filledByRecord"  # the item attributes whose value came from the record, not from an event
# Attributes a write may need to remove: `queuedSince` leaves when the contact leaves the queue; `filledByRecord` when
# events have since delivered every fact the record had filled.
REMOVABLE_ATTRIBUTES = ("queuedSince", "status", FILLED_BY_RECORD)


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
class RecordObservation:
    """What one contact record (one version of it) says about the contact: `facts` under item attribute names."""

    contact_id: str
    version: str  # the record's LastUpdateTimestamp (canonical); "" when it has none
    facts: Mapping[str, Any]

    @property
    def proves_completed(self) -> bool:
        """Connect writes an agent-handled contact's record after its after-contact work is cleared."""
        facts = self.facts
        agent = "agentArn" in facts or "connectedToAgentTimestamp" in facts
        acw_open = "afterContactWorkStartTimestamp" in facts and "afterContactWorkEndTimestamp" not in facts
        return agent and not acw_open


@dataclass(frozen=True)
class ContactState:
    contact_id: str
    stages: frozenset[str] = frozenset()
    first_seen: Mapping[str, str] = field(default_factory=dict)
    latest: Mapping[str, Versioned] = field(default_factory=dict)
    first_event_time: str | None = None
    queued_event_time: str | None = None
    record: Versioned | None = None  # order key: the record's version; value: its facts (a RecordObservation's)

    @property
    def record_facts(self) -> Mapping[str, Any]:
        return self.record.value if self.record is not None else {}

    @property
    def observed_first_seen(self) -> dict[str, str]:
        """First-seen timestamps, the events' where they have one, else the record's (whole seconds)."""
        filled = {name: self.record_facts[name] for name in FIRST_SEEN if name in self.record_facts}
        return {**filled, **self.first_seen}

    @property
    def record_stage(self) -> str | None:
        if self.record is None:
            return None
        record = RecordObservation(self.contact_id, self.record.order_key, self.record_facts)
        return "COMPLETED" if record.proves_completed else "DISCONNECTED"

    @property
    def status(self) -> str | None:
        evidence = self.stages | {FIRST_SEEN[name] for name in self.observed_first_seen}
        if self.record_stage is not None:
            evidence = evidence | {self.record_stage}
        return max(evidence, key=STAGE_RANK.__getitem__, default=None)

    @property
    def queued(self) -> bool:
        return "QUEUED" in self.stages or "enqueueTimestamp" in self.observed_first_seen

    @property
    def enqueued_at(self) -> str | None:
        """When the contact entered its (first) queue: Connect's `enqueueTimestamp` (an event's, else the record's),
        else the QUEUED event's time."""
        return self.observed_first_seen.get("enqueueTimestamp") or self.queued_event_time

    @property
    def connected_to_agent(self) -> bool:
        if "CONNECTED_TO_AGENT" in self.stages or "connectedToAgentTimestamp" in self.observed_first_seen:
            return True
        return "agentArn" in self.record_facts

    @property
    def disconnected(self) -> bool:
        if {"DISCONNECTED", "COMPLETED"} & self.stages or self.record is not None:
            return True
        return "disconnectTimestamp" in self.first_seen

    @property
    def abandoned(self) -> bool:
        """Queued, then disconnected, never connected to an agent; a late CONNECTED_TO_AGENT, or a record with an
        agent, clears it."""
        return self.queued and self.disconnected and not self.connected_to_agent

    @property
    def completed(self) -> bool:
        return "COMPLETED" in self.stages or self.record_stage == "COMPLETED"

    def value(self, name: str) -> Any:
        newest = self.latest.get(name)
        return newest.value if newest else self.record_facts.get(name)

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
        if self.record is not None:  # likewise
            document[CONTACT_RECORD] = [self.record.order_key, self.record.value]
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


def observe_record(record: ContactRecord) -> RecordObservation:
    queue, agent = record.queue, record.agent
    facts: dict[str, Any] = {
        "instanceArn": record.instance_arn,
        "channel": record.channel,
        "initiationMethod": record.initiation_method,
        "initialContactId": record.initial_contact_id,
        "previousContactId": record.previous_contact_id,
        "nextContactId": record.next_contact_id,
        "initiationTimestamp": _canonical(record.initiation_timestamp),
        "connectedToSystemTimestamp": _canonical(record.connected_to_system_timestamp),
        "disconnectTimestamp": _canonical(record.disconnect_timestamp),
        "disconnectReason": record.disconnect_reason,
        "queueArn": queue.arn if queue else None,
        "enqueueTimestamp": _canonical(queue.enqueue_timestamp if queue else None),
        "dequeueTimestamp": _canonical(queue.dequeue_timestamp if queue else None),
        "agentArn": agent.arn if agent else None,
        "connectedToAgentTimestamp": _canonical(agent.connected_to_agent_timestamp if agent else None),
        "afterContactWorkStartTimestamp": _canonical(agent.after_contact_work_start_timestamp if agent else None),
        "afterContactWorkEndTimestamp": _canonical(agent.after_contact_work_end_timestamp if agent else None),
        "afterContactWorkDuration": agent.after_contact_work_duration if agent else None,
        "agentInitiatedHoldDuration": agent.agent_initiated_hold_duration if agent else None,
        "recordings": [_recording(recording) for recording in record.all_recordings()] or None,
    }
    return RecordObservation(
        contact_id=record.contact_id,
        version=_canonical(record.last_update_timestamp) or "",
        facts={name: value for name, value in facts.items() if value not in (None, "")},
    )


def merge(
    state: ContactState | None, observations: Iterable[ContactObservation | RecordObservation]
) -> tuple[ContactState, list[Outcome]]:
    """Fold observations (events' and records') into the state (the join of the semilattice described above)."""
    return versioned.fold(
        state, observations, lambda observation: ContactState(contact_id=observation.contact_id), _merge_one, _unchanged
    )


def _merge_one(state: ContactState, observation: ContactObservation | RecordObservation) -> ContactState:
    if isinstance(observation, RecordObservation):
        return replace(state, record=_newest(state.record, Versioned(observation.version, observation.facts)))
    latest = dict(state.latest)
    for name, value in observation.latest.items():
        latest[name] = _newest(latest.get(name), Versioned(observation.order_key, value))
    first_seen = dict(state.first_seen)
    for name, moment in observation.first_seen.items():
        first_seen[name] = min(first_seen.get(name, moment), moment)
    stages = state.stages | {observation.event_type} if observation.event_type in STAGE_RANK else state.stages
    first_event_time = _min_optional(state.first_event_time, observation.event_time)
    queued_event_time = _min_optional(state.queued_event_time, observation.queued_at)
    return replace(
        state,
        stages=stages,
        first_seen=first_seen,
        latest=latest,
        first_event_time=first_event_time,
        queued_event_time=queued_event_time,
    )


def _unchanged(state: ContactState, observation: ContactObservation | RecordObservation) -> Outcome:
    if isinstance(observation, RecordObservation):
        stored = state.record.order_key if state.record is not None else ""
        return Outcome.STALE if observation.version < stored else Outcome.DUPLICATE
    if STAGE_RANK.get(observation.event_type, 0) < STAGE_RANK.get(state.status or "", 0):
        return Outcome.STALE
    return Outcome.DUPLICATE


def to_item(state: ContactState, ttl_days: int, now_epoch_seconds: int) -> dict[str, Any]:
    """The DynamoDB item (without `updatedAt`, which the store stamps)."""
    item: dict[str, Any] = {"contactId": state.contact_id}
    # The record's facts first, so that every value an event delivered lies over them (finer, and the events' own).
    filled = {
        name: value
        for name, value in state.record_facts.items()
        if name not in state.latest and name not in state.first_seen
    }
    item.update(filled)
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
    if state.record is not None:
        item[CONTACT_RECORD] = {"version": state.record.order_key, "facts": dict(state.record.value)}
    if filled:
        item[FILLED_BY_RECORD] = set(filled)
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
    filled = set(item.get(FILLED_BY_RECORD, ()))
    stored_record = item.get(CONTACT_RECORD)
    record = None
    if stored_record is not None:
        facts = {name: _from_stored(name, value) for name, value in stored_record["facts"].items()}
        record = Versioned(stored_record["version"], facts)
    return ContactState(
        contact_id=item["contactId"],
        stages=frozenset(item.get(STAGES_SEEN, ())),
        first_seen={name: item[name] for name in FIRST_SEEN if name in item and name not in filled},
        latest=latest,
        first_event_time=item.get(FIRST_EVENT_TIME),
        queued_event_time=item.get(QUEUED_EVENT_TIME),
        record=record,
    )


def _from_stored(name: str, value: Any) -> Any:
    """DynamoDB gives numbers back as Decimal: the whole-second durations are ints again."""
    return int(value) if name in WHOLE_SECONDS else value


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
        **state.observed_first_seen,
    }
    enqueued, disconnected = state.enqueued_at, state.observed_first_seen.get("disconnectTimestamp")
    if enqueued and disconnected:
        wait = timestamps.seconds_between(enqueued, disconnected)
        detail["queueWaitSeconds"] = float(max(wait, Decimal(0)))
    return {name: value for name, value in detail.items() if value is not None}


def _ttl(state: ContactState, ttl_days: int, now_epoch_seconds: int) -> int:
    """From the contact's own earliest timestamp, so replaying old events cannot keep an item alive; only a contact
    with no timestamp at all (a hand-written replay line) falls back to processing time."""
    moments = [*state.observed_first_seen.values(), *([state.first_event_time] if state.first_event_time else [])]
    start = timestamps.epoch_seconds(min(moments)) if moments else now_epoch_seconds
    return start + ttl_days * 86_400


def _newest(current: Versioned | None, candidate: Versioned) -> Versioned:
    if current is None:
        return candidate
    # The value breaks a tie so that one event id delivered with two different bodies still merges commutatively.
    if (candidate.order_key, _sortable(candidate.value)) > (current.order_key, _sortable(current.value)):
        return candidate
    return current


def _recording(recording: Recording) -> dict[str, Any]:
    """One recording as enrichment writes it (domain.enrichment.RECORDING_FIELDS): the older `Recording` calls the
    media stream type `Type`."""
    fields = {
        "location": recording.location,
        "status": recording.status,
        "storageType": recording.storage_type,
        "mediaStreamType": recording.media_stream_type or recording.type,
        "participantType": recording.participant_type,
        "startTimestamp": _canonical(recording.start_timestamp),
        "stopTimestamp": _canonical(recording.stop_timestamp),
    }
    return {name: value for name, value in fields.items() if value is not None}


def _sortable(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _min_optional(left: str | None, right: str | None) -> str | None:
    if left is None or right is None:
        return left or right
    return min(left, right)


def _canonical(timestamp: str | None) -> str | None:
    return timestamps.canonical(timestamp) if timestamp else None
