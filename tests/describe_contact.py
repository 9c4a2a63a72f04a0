"""DescribeContact answers for tests, built from a contact event: no real DescribeContact response is public
(SCHEMA-NOTES §3), so these are BUILT, NOT CAPTURED. Their shape is botocore's (`schemas/DescribeContactResponse.*`):
botocore's Stubber rejects any response that does not match the service model, so a test using them fails if the
shape is wrong. The endpoints carry fictional phone numbers, to prove they are never stored or logged. The answer is
put together by the simulator's own builder (demo.describe_contact.contact_description)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from demo.describe_contact import contact_description, recording

CUSTOMER_PHONE = "+447700900123"  # Ofcom's range for drama: fictional
SYSTEM_PHONE = "+441632960001"


def _when(timestamp: str | None) -> datetime | None:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).astimezone(UTC) if timestamp else None


def answer(
    event: dict[str, Any],
    *,
    acw_seconds: int | None = None,
    acw_open: bool = False,
    hold_seconds: int | None = None,
    disconnect_reason: str = "CUSTOMER_DISCONNECT",
    recorded: bool = True,
) -> dict[str, Any]:
    """The `describe_contact` response for the contact of `event` (an EventBridge contact event).

    With an agent: after-contact work starts at the disconnect and lasts `acw_seconds` (None: no ACW at all);
    `acw_open` leaves it unfinished (the agent is still in ACW, or cleared a chat by going offline)."""
    detail = event["detail"]
    disconnect = _when(detail.get("disconnectTimestamp"))
    channel = detail.get("channel", "VOICE").upper()
    queue = detail.get("queueInfo") or {}
    agent = detail.get("agentInfo") or {}
    connected = _when(agent.get("connectedToAgentTimestamp"))
    acw_start = disconnect if agent and acw_seconds is not None else None
    acw_end = (
        acw_start + timedelta(seconds=acw_seconds) if acw_start and acw_seconds is not None and not acw_open else None
    )
    recordings = None
    if agent and recorded and channel == "VOICE" and disconnect:
        started = connected or disconnect
        location = f"connect-recordings/{detail['contactId']}_{started:%Y%m%dT%H%M}_UTC.wav"
        recordings = [recording(location, started, disconnect)]
    contact = contact_description(
        arn=f"{detail['instanceArn']}/contact/{detail['contactId']}",
        contact_id=detail["contactId"],
        initiation_method=detail.get("initiationMethod", "INBOUND"),
        channel=channel,
        initiation=_when(detail.get("initiationTimestamp")),
        queue_id=queue["queueArn"].rsplit("/", 1)[-1] if queue else None,
        enqueued=_when(queue.get("enqueueTimestamp")),
        agent_id=agent["agentArn"].rsplit("/", 1)[-1] if agent else None,
        connected_to_agent=connected,
        hold_seconds=hold_seconds,
        acw_start=acw_start,
        acw_end=acw_end,
        acw_seconds=acw_seconds,
        disconnect=disconnect,
        disconnect_reason=disconnect_reason,
        recordings=recordings,
        last_update=disconnect + timedelta(seconds=(acw_seconds or 0) + 1) if disconnect else None,
        customer_number=CUSTOMER_PHONE,
        system_number=SYSTEM_PHONE,
    )
    return {"Contact": contact}
