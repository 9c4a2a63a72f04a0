"""A generated agent event workload (built from the schema, not captured): agents cycling through logins,
status changes, inbound calls with hold and ACW, and heartbeats, in the order Connect writes them."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from tests.factories import Contact, Snapshot, agent_arn, agent_event, timestamp

CYCLE = ["login", "Available", "offer", "answer", "hold", "resume", "hangup", "clear", "heartbeat", "Break"]


def agent_events(agents: int, events: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """`events` agent events spread over `agents` agents, interleaved as a busy contact centre would."""
    rng = random.Random(seed)
    snapshots = {n: Snapshot("Offline") for n in range(agents)}
    positions = dict.fromkeys(range(agents), 0)
    second = 0.0
    for serial in range(events):
        n = rng.randrange(agents)
        second += rng.choice([0.0, 0.01, 0.2])
        action = CYCLE[positions[n] % len(CYCLE)]
        positions[n] += 1
        before = snapshots[n]
        after = Snapshot(before.status, before.status_start, [Contact(**vars(c)) for c in before.contacts])
        event_type = "STATE_CHANGE"
        at = timestamp(second)
        if action == "login":
            event_type = "LOGIN"
        elif action == "heartbeat":
            event_type = "HEART_BEAT"
        elif action in ("Available", "Break"):
            after.status, after.status_start = action, at
        elif action == "offer":
            after.contacts.append(Contact(f"contact-{serial}", "CONNECTING", at))
        elif action == "clear":
            after.contacts = []
        elif after.contacts:
            contact = after.contacts[0]
            contact.state = {"answer": "CONNECTED", "hold": "CONNECTED_ONHOLD", "resume": "CONNECTED"}.get(
                action, "ENDED"
            )
            contact.state_start = at
        snapshots[n] = after
        yield agent_event(agent_arn(n + 1), event_type, at, after, before, f"event-{serial}")
