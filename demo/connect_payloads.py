"""The JSON Amazon Connect sends, built from the simulated contact centre: what to compare with SCHEMA-NOTES.

- Agent event stream records (SCHEMA-NOTES §1): `agent_event` is the record, `agent_snapshot` its
  `CurrentAgentSnapshot` (`agent_status`, `agent_configuration`, `snapshot_contact` its parts);
- contact events on EventBridge (§2): `contact_event`, the envelope and the cumulative `detail` (§2.3);
- the timestamp formats they use (`iso_ms`, `iso_seconds`).

Pure functions: the simulated agent, contact and instance in, the payload out. Nothing here draws a random number or
changes the simulation (demo.contact_centre decides what happens and when). `agent_event`, `agent_status` and
`snapshot_contact` take plain values, so the tests' factories build their events with them too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from demo.contact_centre import Agent, AgentContact, Contact, Instance

AGENT_EVENT_VERSION = "2017-10-01"  # what every real capture carries (SCHEMA-NOTES §1.3)
CONTACT_EVENT_DETAIL_TYPE = "Amazon Connect Contact Event"

# --- time ---------------------------------------------------------------------------------------------------------
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch of a tz-aware datetime (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def to_datetime(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def iso_ms(ms: int) -> str:
    """`yyyy-mm-ddThh:mm:ss.sssZ`: agent events, contact event details and the state's canonical form."""
    return to_datetime(ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def iso_seconds(ms: int) -> str:
    """`yyyy-mm-ddThh:mm:ssZ`: the EventBridge envelope's `time` (whole seconds, SCHEMA-NOTES §2.1)."""
    return to_datetime(ms).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- agent events (SCHEMA-NOTES §1) ---------------------------------------------------------------------------------
def agent_event(
    *,
    account: str,
    agent_arn: str,
    instance_arn: str,
    event_id: str,
    event_type: str,
    timestamp: str,
    current: dict[str, Any],
    previous: dict[str, Any] | None,
) -> dict[str, Any]:
    """One agent event stream record; `previous` is null on an agent's first event, as in ae09."""
    return {
        "AWSAccountId": account,
        "AgentARN": agent_arn,
        "CurrentAgentSnapshot": current,
        "EventId": event_id,
        "EventTimestamp": timestamp,
        "EventType": event_type,
        "InstanceARN": instance_arn,
        "PreviousAgentSnapshot": previous,
        "Version": AGENT_EVENT_VERSION,
    }


def agent_status(arn: str, name: str, start_timestamp: str, status_type: str | None) -> dict[str, Any]:
    """The snapshot's `AgentStatus`; `Type` only when given (it is absent in every real capture, SCHEMA-NOTES §1)."""
    status: dict[str, Any] = {"ARN": arn, "Name": name, "StartTimestamp": start_timestamp}
    if status_type:
        status["Type"] = status_type
    return status


def snapshot_contact(
    *,
    contact_id: str,
    channel: str,
    initiation_method: str,
    initial_contact_id: str | None,
    queue: dict[str, Any],
    queue_timestamp: str | None,
    connected_to_agent_timestamp: str | None,
    state: str,
    state_start_timestamp: str,
) -> dict[str, Any]:
    """One entry of the snapshot's `Contacts`."""
    return {
        "Channel": channel,
        "ConnectedToAgentTimestamp": connected_to_agent_timestamp,
        "ContactId": contact_id,
        "InitialContactId": initial_contact_id,
        "InitiationMethod": initiation_method,
        "Queue": queue,
        "QueueTimestamp": queue_timestamp,
        "State": state,
        "StateStartTimestamp": state_start_timestamp,
    }


def agent_configuration(agent: Agent, instance: Instance) -> dict[str, Any]:
    """The snapshot's `Configuration` without `Concurrency`, which changes with every contact (`agent_snapshot`)."""
    profile = agent.profile
    outbound = instance.outbound_queue
    inbound = [
        {"ARN": queue.arn, "Channels": list(channels), "Name": queue.name} for queue, channels in profile.inbound
    ]
    inbound.append({"ARN": agent.own_queue.arn, "Channels": ["VOICE", "CHAT"], "Name": None})
    return {
        "AgentHierarchyGroups": None,
        "FirstName": agent.first_name,
        "LastName": agent.last_name,
        "RoutingProfile": {
            "ARN": profile.arn,
            "DefaultOutboundQueue": {
                "ARN": outbound.arn,
                "Channels": list(outbound.channels),
                "Name": outbound.name,
            },
            "InboundQueues": inbound,
            "Name": profile.name,
        },
        "Username": agent.username,
    }


def agent_snapshot(agent: Agent, instance: Instance) -> dict[str, Any]:
    """The agent's `CurrentAgentSnapshot` now: status, queued next status, configuration with concurrency, contacts."""
    status = instance.statuses[agent.status]
    snapshot: dict[str, Any] = {
        "AgentStatus": agent_status(status.arn, status.name, iso_ms(agent.status_start_ms), status.type)
    }
    if agent.next_status is not None:
        next_status = instance.statuses[agent.next_status]
        snapshot["NextAgentStatus"] = {
            "ARN": next_status.arn,
            "Name": next_status.name,
            "EnqueuedTimestamp": iso_ms(agent.next_status_ms),
        }
    configuration = dict(agent.static_configuration)
    routing_profile = dict(configuration["RoutingProfile"])
    routable = agent.routable()

    def available(channel: str, maximum: int) -> int:
        if not routable or not agent.has_slot(channel):
            return 0
        return 1 if channel == "VOICE" else maximum - agent.chat_contacts

    routing_profile["Concurrency"] = [
        {"AvailableSlots": available(channel, maximum), "Channel": channel, "MaximumSlots": maximum}
        for channel, maximum in agent.profile.slots.items()
    ]
    configuration["RoutingProfile"] = routing_profile
    snapshot["Configuration"] = configuration
    snapshot["Contacts"] = [_snapshot_contact(c, instance) for c in agent.contacts.values()]
    return snapshot


def _snapshot_contact(agent_contact: AgentContact, instance: Instance) -> dict[str, Any]:
    contact = agent_contact.contact
    queue = contact.queue or instance.outbound_queue
    return snapshot_contact(
        contact_id=contact.contact_id,
        channel=contact.channel,
        initiation_method=contact.initiation_method,
        initial_contact_id=contact.initial_contact_id,
        queue={"ARN": queue.arn, "Name": queue.name},
        queue_timestamp=iso_ms(contact.enqueue_ms) if contact.enqueue_ms is not None else None,
        connected_to_agent_timestamp=(
            iso_ms(contact.connected_to_agent_ms) if contact.connected_to_agent_ms is not None else None
        ),
        state=agent_contact.state,
        state_start_timestamp=iso_ms(agent_contact.state_start_ms),
    )


# --- contact events (SCHEMA-NOTES §2) -------------------------------------------------------------------------------
def contact_event(contact: Contact, instance: Instance, event_type: str, moment: int, event_id: str) -> dict[str, Any]:
    """The EventBridge event of `event_type` for the contact as it stands: each event repeats every field known so far
    (§2.3); the after-contact work and hold duration only on COMPLETED."""
    detail: dict[str, Any] = {
        "eventType": event_type,
        "contactId": contact.contact_id,
        "channel": contact.channel,
        "instanceArn": instance.arn,
        "initiationMethod": contact.initiation_method,
        "initiationTimestamp": iso_ms(contact.initiation_ms),
    }
    if contact.initial_contact_id is not None:
        detail["initialContactId"] = contact.initial_contact_id
    if contact.previous_contact_id is not None:
        detail["previousContactId"] = contact.previous_contact_id
    if contact.connected_to_system_ms is not None:
        detail["connectedToSystemTimestamp"] = iso_ms(contact.connected_to_system_ms)
    if contact.queue is not None and contact.enqueue_ms is not None:
        detail["queueInfo"] = {
            "queueArn": contact.queue.arn,
            "queueType": contact.queue.queue_type,
            "enqueueTimestamp": iso_ms(contact.enqueue_ms),
        }
    if contact.agent is not None and contact.connected_to_agent_ms is not None:
        agent_info: dict[str, Any] = {
            "agentArn": contact.agent.arn,
            "connectedToAgentTimestamp": iso_ms(contact.connected_to_agent_ms),
        }
        if event_type == "COMPLETED":
            agent_info["agentInitiatedHoldDuration"] = contact.hold_seconds
            if contact.acw_start_ms is not None and contact.acw_end_ms is not None:
                agent_info["afterContactWorkStartTimestamp"] = iso_ms(contact.acw_start_ms)
                agent_info["afterContactWorkEndTimestamp"] = iso_ms(contact.acw_end_ms)
                agent_info["afterContactWorkDuration"] = contact.acw_duration_seconds
        detail["agentInfo"] = agent_info
    if contact.disconnect_ms is not None:
        detail["disconnectTimestamp"] = iso_ms(contact.disconnect_ms)
    if contact.channel == "VOICE" and contact.customer_number and contact.system_number:
        detail["customerEndpoint"] = {"type": "TELEPHONE_NUMBER", "address": contact.customer_number}
        detail["systemEndpoint"] = {"type": "TELEPHONE_NUMBER", "address": contact.system_number}
    return {
        "version": "0",
        "id": event_id,
        "detail-type": CONTACT_EVENT_DETAIL_TYPE,
        "source": "aws.connect",
        "account": instance.account,
        "time": iso_seconds(moment),
        "region": instance.region,
        "resources": [instance.arn, instance.contact_arn(contact.contact_id)],
        "detail": detail,
    }
