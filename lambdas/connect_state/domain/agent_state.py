"""Current agent state as a pure function of the agent events received.

The state is three independent parts, each keeping the newest event that touched it:
- the snapshot (status, contacts, routing profile, last event), from every event;
- the login (`loggedIn`), from LOGIN and LOGOUT only, so a late LOGOUT still counts after newer heartbeats;
- the last after-contact work, from the event where an ENDED contact leaves the agent.
"Newest" is the event's order key (event time, then Kinesis sequence, then event id). Keeping, per part, the value with
the highest key is commutative, associative and idempotent, so any order, duplication or replay of the same events ends
in the same state. `activity`, `loggedIn` (before any LOGIN/LOGOUT) and `ttl` are derived from the parts when the item
is written, never merged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connect_state.domain import timestamps, versioned
from connect_state.domain.versioned import Outcome, Versioned
from connect_state.models.agent_event import (
    AgentConfiguration,
    AgentContact,
    AgentEvent,
    AgentSnapshot,
    RoutingProfile,
)

# What a wallboard shows while the agent has contacts: the highest-ranked contact state wins.
ACTIVITY_BY_CONTACT_STATE: Mapping[str, str] = {
    "CONNECTED": "ON_CONTACT",
    "CONNECTED_ONHOLD": "ON_HOLD",
    "PAUSED": "ON_HOLD",  # a paused task is parked by the agent, like a held call
    "CONNECTING": "INCOMING",
    "INCOMING": "INCOMING",
    "PENDING": "INCOMING",
    "ENDED": "AFTER_CONTACT_WORK",
    "MISSED": "MISSED",
    "REJECTED": "MISSED",
    "ERROR": "ERROR",
}
ACTIVITY_RANK = ("ON_CONTACT", "ON_HOLD", "INCOMING", "AFTER_CONTACT_WORK", "MISSED", "ERROR")
ACTIVITY_BY_STATUS_TYPE: Mapping[str, str] = {
    "ROUTABLE": "AVAILABLE",
    "CUSTOM": "CUSTOM_STATUS",
    "OFFLINE": "OFFLINE",
}

# The attributes the snapshot part owns; everything else on the item is another part or derived.
SNAPSHOT_ATTRIBUTES = (
    "agentArn",
    "agentId",
    "instanceArn",
    "username",
    "firstName",
    "lastName",
    "statusName",
    "statusArn",
    "statusStartTimestamp",
    "statusType",
    "nextStatusName",
    "nextStatusArn",
    "contacts",
    "routingProfileArn",
    "routingProfileName",
    "routingProfileQueueArns",
    "hierarchyGroupArns",
    "lastEventId",
    "lastEventType",
    "lastEventTimestamp",
)
OWN_QUEUE = "/queue/agent/"  # an agent's own queue (transfers to that agent), in every routing profile
ORDER_KEY = "orderKey"
LOGIN_ORDER_KEY = "loginOrderKey"
ACW_ORDER_KEY = "afterContactWorkOrderKey"
VERSION_ATTRIBUTES = (ORDER_KEY, LOGIN_ORDER_KEY, ACW_ORDER_KEY)
# Attributes a newer write may need to remove because the newer event does not carry them.
OPTIONAL_ATTRIBUTES = (
    *(name for name in SNAPSHOT_ATTRIBUTES if name not in ("agentArn", "agentId", "contacts", "lastEventId")),
    "loggedIn",
    "lastAfterContactWork",
    LOGIN_ORDER_KEY,
    ACW_ORDER_KEY,
)

_SEQUENCE_WIDTH = 64  # Kinesis sequence numbers are decimal strings of ~56 digits; zero-pad so they sort as text


def order_key(event_timestamp: str, sequence_number: str | None, event_id: str) -> str:
    """Event time first (a replay re-puts old events with new, larger sequence numbers), then the Kinesis sequence
    number, which orders one agent's events within a second where early captures had fake milliseconds."""
    return f"{timestamps.canonical(event_timestamp)}#{(sequence_number or '').zfill(_SEQUENCE_WIDTH)}#{event_id}"


@dataclass(frozen=True)
class AgentObservation:
    """What one agent event says about each part of the agent's state."""

    agent_arn: str
    order_key: str
    event_timestamp: str
    snapshot: dict[str, Any]
    logged_in: bool | None
    after_contact_work: dict[str, Any] | None


@dataclass(frozen=True)
class AgentState:
    agent_arn: str
    snapshot: Versioned | None = None
    login: Versioned | None = None
    after_contact_work: Versioned | None = None

    def versions(self) -> dict[str, str | None]:
        """The keys a conditional write checks: every change to the item changes at least one of them."""
        return {
            ORDER_KEY: self.snapshot.order_key if self.snapshot else None,
            LOGIN_ORDER_KEY: self.login.order_key if self.login else None,
            ACW_ORDER_KEY: self.after_contact_work.order_key if self.after_contact_work else None,
        }


def observe(event: AgentEvent, sequence_number: str | None) -> AgentObservation:
    key = order_key(event.event_timestamp, sequence_number, event.event_id)
    logged_in = {"LOGIN": True, "LOGOUT": False}.get(event.event_type)
    return AgentObservation(
        agent_arn=event.agent_arn,
        order_key=key,
        event_timestamp=timestamps.canonical(event.event_timestamp),
        snapshot=_snapshot_attributes(event),
        logged_in=logged_in,
        after_contact_work=_after_contact_work(event),
    )


def merge(state: AgentState | None, observations: Iterable[AgentObservation]) -> tuple[AgentState, list[Outcome]]:
    """Fold observations into the state; each part keeps the value with the highest order key."""
    return versioned.fold(
        state, observations, lambda observation: AgentState(agent_arn=observation.agent_arn), _merge_one, _unchanged
    )


def _merge_one(state: AgentState, observation: AgentObservation) -> AgentState:
    snapshot = _newest(state.snapshot, Versioned(observation.order_key, observation.snapshot))
    login = state.login
    if observation.logged_in is not None:
        login = _newest(login, Versioned(observation.order_key, observation.logged_in))
    acw = state.after_contact_work
    if observation.after_contact_work is not None:
        acw = _newest(acw, Versioned(observation.order_key, observation.after_contact_work))
    return AgentState(state.agent_arn, snapshot, login, acw)


def _unchanged(state: AgentState, observation: AgentObservation) -> Outcome:
    if state.snapshot is not None and state.snapshot.order_key == observation.order_key:
        return Outcome.DUPLICATE
    return Outcome.STALE


def to_item(state: AgentState, ttl_days: int) -> dict[str, Any]:
    """The DynamoDB item (without `updatedAt`, which the store stamps): stored parts plus derived attributes."""
    if state.snapshot is None:
        raise ValueError("an agent item needs at least one event")
    item: dict[str, Any] = dict(state.snapshot.value)
    item[ORDER_KEY] = state.snapshot.order_key
    if state.login is not None:
        item["loggedIn"] = state.login.value
        item[LOGIN_ORDER_KEY] = state.login.order_key
    else:
        # Before any LOGIN/LOGOUT has been seen, the status is the best evidence.
        item["loggedIn"] = item.get("statusType") != "OFFLINE"
    if state.after_contact_work is not None:
        item["lastAfterContactWork"] = state.after_contact_work.value
        item[ACW_ORDER_KEY] = state.after_contact_work.order_key
    item["activity"] = activity(item.get("contacts", []), item.get("statusType"), item["loggedIn"])
    item["ttl"] = timestamps.epoch_seconds(item["lastEventTimestamp"]) + ttl_days * 86_400
    return item


def from_item(item: Mapping[str, Any]) -> AgentState:
    """Rebuild the parts from a stored item (a conflicting write returns the item it found)."""
    snapshot = Versioned(item[ORDER_KEY], {name: item[name] for name in SNAPSHOT_ATTRIBUTES if name in item})
    login = Versioned(item[LOGIN_ORDER_KEY], item["loggedIn"]) if LOGIN_ORDER_KEY in item else None
    acw = Versioned(item[ACW_ORDER_KEY], item["lastAfterContactWork"]) if ACW_ORDER_KEY in item else None
    return AgentState(item["agentArn"], snapshot, login, acw)


def activity(contacts: Iterable[Mapping[str, Any]], status_type: str | None, logged_in: bool) -> str:
    ranks = [ACTIVITY_RANK.index(ACTIVITY_BY_CONTACT_STATE.get(c.get("state", ""), "ERROR")) for c in contacts]
    if ranks:
        return ACTIVITY_RANK[min(ranks)]
    if not logged_in:
        return "OFFLINE"
    return ACTIVITY_BY_STATUS_TYPE.get(status_type or "", "CUSTOM_STATUS")


def status_type(name: str | None, declared: str | None) -> str:
    """AgentStatus.Type when Connect sends it (newer events); otherwise inferred from the status name."""
    if declared:
        return declared.upper()
    if name == "Available":
        return "ROUTABLE"
    if name == "Offline":
        return "OFFLINE"
    return "CUSTOM"


def _newest(current: Versioned | None, candidate: Versioned) -> Versioned:
    return candidate if current is None or candidate.order_key > current.order_key else current


def _snapshot_attributes(event: AgentEvent) -> dict[str, Any]:
    snapshot = event.current or AgentSnapshot()
    status = snapshot.agent_status
    configuration = snapshot.configuration
    routing_profile = configuration.routing_profile if configuration else None
    next_status = snapshot.next_agent_status
    attributes = {
        "agentArn": event.agent_arn,
        "agentId": event.agent_arn.rsplit("/", 1)[-1],
        "instanceArn": event.instance_arn or _instance_of(event.agent_arn),
        "username": configuration.username if configuration else None,
        "firstName": configuration.first_name if configuration else None,
        "lastName": configuration.last_name if configuration else None,
        "statusName": status.name if status else None,
        "statusArn": status.arn if status else None,
        "statusStartTimestamp": _canonical_or_none(status.start_timestamp if status else None),
        "statusType": status_type(status.name, status.type) if status else None,
        "nextStatusName": next_status.name if next_status else None,
        "nextStatusArn": next_status.arn if next_status else None,
        "contacts": [_contact(contact) for contact in snapshot.contacts],
        "routingProfileArn": routing_profile.arn if routing_profile else None,
        "routingProfileName": routing_profile.name if routing_profile else None,
        "routingProfileQueueArns": _queues_served(routing_profile),
        "hierarchyGroupArns": _hierarchy_groups(configuration),
        "lastEventId": event.event_id,
        "lastEventType": event.event_type,
        "lastEventTimestamp": timestamps.canonical(event.event_timestamp),
    }
    return {name: value for name, value in attributes.items() if value is not None}  # absent means unknown


def _queues_served(routing_profile: RoutingProfile | None) -> list[str] | None:
    """The routing profile's inbound queues without the agent's own queue (`.../queue/agent/<id>`, which only
    transfers to this agent use): the queues a wallboard counts the agent as staffed for. Sorted, so the same
    profile always gives the same list; None when the event does not carry the queues."""
    if routing_profile is None or routing_profile.inbound_queues is None:
        return None
    return sorted({queue.arn for queue in routing_profile.inbound_queues if queue.arn and OWN_QUEUE not in queue.arn})


def _hierarchy_groups(configuration: AgentConfiguration | None) -> list[str] | None:
    """The ARNs of the agent's hierarchy groups at every level (Level1..Level5), sorted: a supervisor scoped to a group
    sees the agents of that group at any level. None (absent) when the agent is in no group or the event does not say,
    since Connect sends `AgentHierarchyGroups: null` for both."""
    groups = configuration.agent_hierarchy_groups if configuration else None
    return (groups.arns() or None) if groups else None


def _contact(contact: AgentContact) -> dict[str, Any]:
    attributes = {
        "contactId": contact.contact_id,
        "channel": contact.channel,
        "state": contact.state,
        "stateStartTimestamp": _canonical_or_none(contact.state_start_timestamp),
        "initiationMethod": contact.initiation_method,
        "queueArn": contact.queue.arn if contact.queue else None,
        "connectedToAgentTimestamp": _canonical_or_none(contact.connected_to_agent_timestamp),
    }
    return {name: value for name, value in attributes.items() if value is not None}


def _after_contact_work(event: AgentEvent) -> dict[str, Any] | None:
    """AWS's documented ACW measure: an ENDED contact in the previous snapshot that the current one no longer has.

    A configuration-only STATE_CHANGE keeps the contact in both snapshots, so it never counts. With several contacts
    leaving at once (concurrent chats), the one that entered ENDED last is recorded.
    """
    if event.previous is None:
        return None
    current_ids = {contact.contact_id for contact in (event.current.contacts if event.current else ())}
    cleared = [
        contact
        for contact in event.previous.contacts
        if contact.state == "ENDED" and contact.contact_id not in current_ids and contact.state_start_timestamp
    ]
    if not cleared:
        return None
    contact = max(cleared, key=lambda c: (timestamps.canonical(c.state_start_timestamp or ""), c.contact_id))
    start = timestamps.canonical(contact.state_start_timestamp or "")
    end = timestamps.canonical(event.event_timestamp)
    return {
        "contactId": contact.contact_id,
        "startTimestamp": start,
        "endTimestamp": end,
        "durationSeconds": max(timestamps.seconds_between(start, end), Decimal(0)),
    }


def _canonical_or_none(timestamp: str | None) -> str | None:
    return timestamps.canonical(timestamp) if timestamp else None


def _instance_of(agent_arn: str) -> str | None:
    head, separator, _ = agent_arn.partition("/agent/")
    return head if separator else None
