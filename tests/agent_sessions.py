"""Generated agent sessions (built from the schema, not captured), the real and documented samples as records, and
the writer's convergence cases run against any store: the in-memory fake (tests/unit/test_agent_state_properties.py)
and DynamoDB on moto (tests/integration/test_state_convergence.py), so the fake is shown to behave like the real
thing."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from connect_state.domain import agent_state
from connect_state.models.agent_event import AgentEvent
from connect_state.service.agent_events import AgentStateWriter
from connect_state.service.coalescing import LruCache
from connect_state.service.ports import AgentStateStore
from tests import samples
from tests.factories import Contact, Snapshot, agent_arn, agent_event, timestamp

TTL_DAYS = 30
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
Record = tuple[dict[str, Any], str]  # an agent event and its Kinesis sequence number

REAL_SAMPLES: list[Record] = [
    (samples.load(path), samples.sequence(index)) for index, path in enumerate(samples.AGENT_EVENTS)
]


def session_step(snapshot: Snapshot, action: str, at: str, serial: int) -> tuple[str, Snapshot]:
    """Apply one agent action to a snapshot; returns the event type and the new snapshot."""
    new = copy.deepcopy(snapshot)
    event_type = "STATE_CHANGE"
    if action == "login":
        event_type, new.status, new.status_start = "LOGIN", "Offline", at
    elif action == "logout":
        event_type, new.status, new.status_start = "LOGOUT", "Offline", at
    elif action in ("Available", "Break", "Lunch"):
        new.status, new.status_start = action, at
    elif action == "heartbeat":
        event_type = "HEART_BEAT"
    elif action == "routing":
        new.routing_profile = "Support" if new.routing_profile == "Sales" else "Sales"
    elif action == "offer":
        new.contacts.append(Contact(f"contact-{serial}", "CONNECTING", at, channel="CHAT"))
    else:
        transitions = {
            "answer": ("CONNECTING", "CONNECTED"),
            "hold": ("CONNECTED", "CONNECTED_ONHOLD"),
            "resume": ("CONNECTED_ONHOLD", "CONNECTED"),
            "hangup": ("CONNECTED", "ENDED"),
            "miss": ("CONNECTING", "MISSED"),
        }
        if action == "clear":
            new.contacts = [c for c in new.contacts if c.state not in ("ENDED", "MISSED")]
        else:
            before, after = transitions[action]
            for contact in new.contacts:
                if contact.state == before:
                    contact.state, contact.state_start = after, at
                    if after == "CONNECTED" and contact.connected_to_agent is None:
                        contact.connected_to_agent = at
                    break
    return event_type, new


ACTIONS = ["login", "logout", "Available", "Break", "Lunch", "heartbeat", "routing"] + [
    "offer",
    "answer",
    "hold",
    "resume",
    "hangup",
    "miss",
    "clear",
] * 2


@st.composite
def agent_sessions(draw: st.DrawFn) -> list[Record]:
    """Events of 1 to 3 agents, in the order Connect writes them to the shard (sequence numbers increase)."""
    records: list[Record] = []
    for agent_number in range(draw(st.integers(1, 3))):
        agent = agent_arn(agent_number + 1)
        second = 0.0
        snapshot = Snapshot("Offline")
        for serial, action in enumerate(draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=14))):
            # Steps of 0 s give equal timestamps, which only the sequence number orders.
            second += draw(st.sampled_from([0.0, 0.25, 1.0, 5.5, 120.0]))
            event_type, new = session_step(snapshot, action, timestamp(second), serial)
            event = agent_event(agent, event_type, timestamp(second), new, snapshot, f"event-{agent_number}-{serial}")
            records.append((event, ""))
            snapshot = new
    return [(event, samples.sequence(index)) for index, (event, _) in enumerate(records)]


def observations(records: list[Record]) -> list[agent_state.AgentObservation]:
    return [agent_state.observe(AgentEvent.model_validate(event), seq) for event, seq in records]


def items_in_order(records: list[Record]) -> dict[str, dict[str, Any]]:
    by_agent: dict[str, list[agent_state.AgentObservation]] = {}
    for observation in observations(records):
        by_agent.setdefault(observation.agent_arn, []).append(observation)
    return {arn: agent_state.to_item(agent_state.merge(None, obs)[0], TTL_DAYS) for arn, obs in by_agent.items()}


@st.composite
def deliveries(draw: st.DrawFn, records: list[Record]) -> list[Record]:
    """What Kinesis and Lambda may do: any order, any record repeated (retries, replays, bisected batches)."""
    repeated = records + draw(st.lists(st.sampled_from(records), max_size=len(records))) if records else []
    return draw(st.permutations(repeated))


def converge(
    data: st.DataObject,
    records: list[Record],
    store: AgentStateStore,
    clear_table: Callable[[], None],
    stored_items: Callable[[], dict[str, dict[str, Any]]],
) -> None:
    """The convergence cases, run against any store (see above)."""
    # Given two writers (two concurrent Lambda invocations) whose containers stay warm unless drawn otherwise
    caches = [LruCache(), LruCache()]
    writers = [AgentStateWriter(store, TTL_DAYS, cache) for cache in caches]
    shuffled = data.draw(deliveries(records))
    # And maybe a rebuild: at some point the table is cleared and the stream replayed from its start, the caches
    # still holding what the containers wrote before
    rebuild_at = data.draw(st.none() | st.integers(0, len(shuffled)))
    if rebuild_at is not None:
        shuffled = shuffled[:rebuild_at] + data.draw(st.permutations(shuffled[rebuild_at:] + records))
    # When the deliveries arrive in random batches, each coalesced per agent, some containers losing their cache
    position = 0
    while position < len(shuffled):
        if rebuild_at is not None and rebuild_at <= position:
            clear_table()
            rebuild_at = None
        size = data.draw(st.integers(1, 6))
        if rebuild_at is not None:
            size = min(size, max(rebuild_at - position, 1))
        batch = observations(shuffled[position : position + size])
        position += size
        writer = data.draw(st.sampled_from(writers))
        if data.draw(st.booleans()):
            caches[data.draw(st.integers(0, 1))].clear()
        by_agent: dict[str, list[agent_state.AgentObservation]] = {}
        for observation in batch:
            by_agent.setdefault(observation.agent_arn, []).append(observation)
        for arn, agent_observations in by_agent.items():
            writer.apply(arn, agent_observations, NOW)
    # Then the stored items are exactly the in-order result (updatedAt aside)
    stored = {arn: {k: v for k, v in item.items() if k != "updatedAt"} for arn, item in stored_items().items()}
    assert stored == items_in_order(records)
