"""Agent events built from the schema (SCHEMA-NOTES §1), for cases no public capture exists for: LOGIN, LOGOUT,
CONNECTED_ONHOLD, MISSED, and generated sequences. Built, not captured: their shape follows the real ae07 capture.
The record, its status and its contacts are built by demo.connect_payloads, as the simulator's are."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from demo import connect_payloads

INSTANCE = "arn:aws:connect:eu-west-2:111122223333:instance/11111111-2222-3333-4444-555555555555"
STATUS_ARNS = {
    "Available": f"{INSTANCE}/agent-state/aaaaaaaa-0000-0000-0000-000000000001",
    "Offline": f"{INSTANCE}/agent-state/aaaaaaaa-0000-0000-0000-000000000002",
    "Break": f"{INSTANCE}/agent-state/aaaaaaaa-0000-0000-0000-000000000003",
    "Lunch": f"{INSTANCE}/agent-state/aaaaaaaa-0000-0000-0000-000000000004",
}
QUEUE = f"{INSTANCE}/queue/bbbbbbbb-0000-0000-0000-000000000001"
ROUTING_PROFILE = f"{INSTANCE}/routing-profile/cccccccc-0000-0000-0000-000000000001"


def agent_arn(n: int) -> str:
    return f"{INSTANCE}/agent/{uuid.UUID(int=n)}"


def timestamp(second: float) -> str:
    """Seconds after 2026-11-21T09:00:00Z, with real milliseconds."""
    whole, millis = divmod(round(second * 1000), 1000)
    minute, sec = divmod(whole, 60)
    hour, minute = divmod(minute, 60)
    return f"2026-11-21T{9 + hour:02d}:{minute:02d}:{sec:02d}.{millis:03d}Z"


@dataclass
class Contact:
    contact_id: str
    state: str
    state_start: str
    channel: str = "VOICE"
    initiation_method: str = "INBOUND"
    connected_to_agent: str | None = None

    def to_json(self) -> dict[str, Any]:
        return connect_payloads.snapshot_contact(
            contact_id=self.contact_id,
            channel=self.channel,
            initiation_method=self.initiation_method,
            initial_contact_id=None,
            queue={"ARN": QUEUE, "Name": "Sales"},
            queue_timestamp=None,
            connected_to_agent_timestamp=self.connected_to_agent,
            state=self.state,
            state_start_timestamp=self.state_start,
        )


@dataclass
class Snapshot:
    status: str = "Available"
    status_start: str = "2026-11-21T09:00:00.000Z"
    contacts: list[Contact] = field(default_factory=list)
    routing_profile: str = "Sales"
    status_type: str | None = None  # absent in every real capture

    def to_json(self) -> dict[str, Any]:
        status_arn = STATUS_ARNS.get(self.status, f"{INSTANCE}/agent-state/custom")
        return {
            "AgentStatus": connect_payloads.agent_status(status_arn, self.status, self.status_start, self.status_type),
            "Configuration": {
                "AgentHierarchyGroups": None,
                "FirstName": "Ada",
                "LastName": "Lovelace",
                "RoutingProfile": {
                    "ARN": ROUTING_PROFILE,
                    "DefaultOutboundQueue": {"ARN": QUEUE, "Name": "Sales"},
                    "InboundQueues": [
                        {"ARN": QUEUE, "Name": "Sales"},
                        {"ARN": f"{INSTANCE}/queue/agent/x", "Name": None},
                    ],
                    "Name": self.routing_profile,
                },
                "Username": "ada",
            },
            "Contacts": [contact.to_json() for contact in self.contacts],
        }


def agent_event(
    agent: str,
    event_type: str,
    at: str,
    current: Snapshot,
    previous: Snapshot | None,
    event_id: str | None = None,
) -> dict[str, Any]:
    return connect_payloads.agent_event(
        account="111122223333",
        agent_arn=agent,
        instance_arn=INSTANCE,
        event_id=event_id or str(uuid.uuid4()),
        event_type=event_type,
        timestamp=at,
        current=current.to_json(),
        previous=previous.to_json() if previous else None,
    )
