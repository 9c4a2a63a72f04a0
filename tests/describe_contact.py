"""DescribeContact answers for tests, built from a contact event: no real DescribeContact response is public
(SCHEMA-NOTES §3), so these are BUILT, NOT CAPTURED. Their shape is botocore's (`schemas/DescribeContactResponse.*`):
botocore's Stubber rejects any response that does not match the service model, so a test using them fails if the
shape is wrong. The endpoints carry fictional phone numbers, to prove they are never stored or logged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

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
    instance = detail["instanceArn"]
    disconnect = _when(detail.get("disconnectTimestamp"))
    contact: dict[str, Any] = {
        "Arn": f"{instance}/contact/{detail['contactId']}",
        "Id": detail["contactId"],
        "InitiationMethod": detail.get("initiationMethod", "INBOUND"),
        "Channel": detail.get("channel", "VOICE").upper(),
        "InitiationTimestamp": _when(detail.get("initiationTimestamp")),
        "DisconnectTimestamp": disconnect,
        "LastUpdateTimestamp": disconnect + timedelta(seconds=(acw_seconds or 0) + 1) if disconnect else None,
        "DisconnectReason": disconnect_reason,
        "CustomerEndpoint": {"Type": "TELEPHONE_NUMBER", "Address": CUSTOMER_PHONE},
        "SystemEndpoint": {"Type": "TELEPHONE_NUMBER", "Address": SYSTEM_PHONE},
    }
    queue = detail.get("queueInfo")
    if queue:
        contact["QueueInfo"] = {
            "Id": queue["queueArn"].rsplit("/", 1)[-1],
            "EnqueueTimestamp": _when(queue.get("enqueueTimestamp")),
        }
    agent = detail.get("agentInfo")
    if agent:
        info: dict[str, Any] = {
            "Id": agent["agentArn"].rsplit("/", 1)[-1],
            "ConnectedToAgentTimestamp": _when(agent.get("connectedToAgentTimestamp")),
        }
        if hold_seconds is not None:
            info["AgentInitiatedHoldDuration"] = hold_seconds
        if acw_seconds is not None and disconnect:
            info["AfterContactWorkStartTimestamp"] = disconnect
            if not acw_open:
                info["AfterContactWorkEndTimestamp"] = disconnect + timedelta(seconds=acw_seconds)
                info["AfterContactWorkDuration"] = acw_seconds
        contact["AgentInfo"] = info
        if recorded and contact["Channel"] == "VOICE" and disconnect:
            connected = _when(agent.get("connectedToAgentTimestamp")) or disconnect
            contact["Recordings"] = [
                {
                    "StorageType": "S3",
                    "Location": f"connect-recordings/{detail['contactId']}_{connected:%Y%m%dT%H%M}_UTC.wav",
                    "MediaStreamType": "AUDIO",
                    "ParticipantType": "ALL",
                    "StartTimestamp": connected,
                    "StopTimestamp": disconnect,
                    "Status": "AVAILABLE",
                }
            ]
    return {"Contact": {key: value for key, value in contact.items() if value is not None}}
