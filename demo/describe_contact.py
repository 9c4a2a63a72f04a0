"""Amazon Connect's DescribeContact, answered from the simulation: a stand-in for the boto3 Connect client.

`SimulatedConnect(simulation).describe_contact(InstanceId=..., ContactId=...)` returns what boto3 returns
(shared schemas/DescribeContactResponse.skeleton.botocore-1.43.11.json): `{"Contact": {...}, "ResponseMetadata": ...}`
with tz-aware `datetime` timestamps, and raises `botocore.exceptions.ClientError` (code ResourceNotFoundException,
HTTP 404) for a contact it does not know, another instance, or a contact not visible yet. The answer agrees with the
contact events: the same instants, and AfterContactWork{Start,End}Timestamp, AfterContactWorkDuration and
AgentInitiatedHoldDuration equal to the COMPLETED event's (the agent's id and the queue's id are the last segments of
the events' ARNs, as the API gives ids where events give ARNs).

By default it answers as of the end of the simulation (a contact still in after-contact work then has
AfterContactWorkStartTimestamp but no end). Give `clock` (a callable returning the simulated "now") to answer as of
another moment, and `visibility_delay` for contacts that DescribeContact does not know yet right after they start.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from demo.connect_payloads import epoch_ms, to_datetime
from demo.contact_centre import Contact, Simulation, SimulationConfig, simulate
from demo.ground_truth import GroundTruth


class SimulatedConnect:
    """Answers DescribeContact for the simulated instance. `calls` counts the requests."""

    def __init__(
        self,
        simulation: Simulation,
        *,
        clock: Callable[[], datetime] | None = None,
        visibility_delay: timedelta = timedelta(0),
    ) -> None:
        self._simulation = simulation
        self._clock = clock
        self._visibility_ms = round(visibility_delay.total_seconds() * 1000)
        self.calls = 0

    @classmethod
    def from_truth_file(cls, path: Path | str, **options: Any) -> SimulatedConnect:
        """Regenerate the simulation from the configuration saved in a ground truth file (it is deterministic)."""
        truth = GroundTruth.from_json(Path(path).read_text())
        return cls(simulate(SimulationConfig.from_json(truth.config)), **options)

    def queue_names(self) -> dict[str, str]:
        """Queue ARN -> name, for the wallboard (the state tables hold ARNs only)."""
        return {queue.arn: queue.name for queue in self._simulation.instance.queues.values() if queue.name}

    # The keyword names are boto3's, so this object can stand in for a Connect client.
    def describe_contact(self, *, InstanceId: str, ContactId: str) -> dict[str, Any]:
        self.calls += 1
        instance = self._simulation.instance
        contact = self._simulation.contacts.get(ContactId)
        now = epoch_ms(self._clock()) if self._clock is not None else self._simulation.end_ms
        if InstanceId not in (instance.instance_id, instance.arn):
            raise _not_found(f"Instance not found: {InstanceId}", ContactId, self.calls)
        if contact is None or contact.initiation_ms + self._visibility_ms > now:
            raise _not_found("Contact not found", ContactId, self.calls)
        return {"Contact": self._contact(contact, now), "ResponseMetadata": _metadata(ContactId, self.calls, 200)}

    def _contact(self, contact: Contact, now: int) -> dict[str, Any]:
        """The contact as DescribeContact knows it at `now`: what has not happened yet is left out."""

        def known(ms: int | None) -> int | None:
            return ms if ms is not None and ms <= now else None

        def when(ms: int | None) -> datetime | None:
            return to_datetime(ms) if ms is not None else None

        queue = contact.queue if known(contact.enqueue_ms) is not None else None
        agent = contact.agent if known(contact.connected_to_agent_ms) is not None else None
        enqueued = contact.enqueue_ms if queue is not None else None
        connected = contact.connected_to_agent_ms if agent is not None else None
        acw_end = known(contact.acw_end_ms) if agent is not None else None
        to_system = known(contact.connected_to_system_ms)
        disconnected = known(contact.disconnect_ms)
        moments = (contact.initiation_ms, enqueued, connected, acw_end, to_system, disconnected)
        voice = contact.channel == "VOICE"
        return contact_description(
            arn=self._simulation.instance.contact_arn(contact.contact_id),
            contact_id=contact.contact_id,
            initial_contact_id=contact.initial_contact_id,
            previous_contact_id=contact.previous_contact_id,
            initiation_method=contact.initiation_method,
            channel=contact.channel,
            queue_id=queue.id if queue is not None else None,
            enqueued=when(enqueued),
            agent_id=agent.agent_id if agent is not None else None,
            connected_to_agent=when(connected),
            hold_seconds=contact.hold_seconds if agent is not None and disconnected is not None else None,
            acw_start=when(known(contact.acw_start_ms)) if agent is not None else None,
            acw_end=when(acw_end),
            acw_seconds=contact.acw_duration_seconds if acw_end is not None else None,
            initiation=to_datetime(contact.initiation_ms),
            connected_to_system=when(to_system),
            disconnect=when(disconnected),
            disconnect_reason=contact.disconnect_reason if disconnected is not None else None,
            recordings=[self._recording(contact)] if disconnected is not None and contact.recorded else None,
            last_update=to_datetime(max(ms for ms in moments if ms is not None)),
            customer_number=contact.customer_number if voice else None,
            system_number=contact.system_number if voice else None,
        )

    def _recording(self, contact: Contact) -> dict[str, Any]:
        assert contact.connected_to_agent_ms is not None
        assert contact.disconnect_ms is not None
        instance = self._simulation.instance
        started = to_datetime(contact.connected_to_agent_ms)
        location = (
            f"amazon-connect-{instance.account}-recordings/connect/simulated-centre/CallRecordings/"
            f"{started:%Y/%m/%d}/{contact.contact_id}_{started:%Y%m%dT%H:%M}_UTC.wav"
        )
        return recording(location, started, to_datetime(contact.disconnect_ms))


def contact_description(
    *,
    arn: str,
    contact_id: str,
    initiation_method: str,
    channel: str,
    initiation: datetime | None,
    last_update: datetime | None,
    initial_contact_id: str | None = None,
    previous_contact_id: str | None = None,
    queue_id: str | None = None,
    enqueued: datetime | None = None,
    agent_id: str | None = None,
    connected_to_agent: datetime | None = None,
    hold_seconds: int | None = None,
    acw_start: datetime | None = None,
    acw_end: datetime | None = None,
    acw_seconds: int | None = None,
    connected_to_system: datetime | None = None,
    disconnect: datetime | None = None,
    disconnect_reason: str | None = None,
    recordings: list[dict[str, Any]] | None = None,
    customer_number: str | None = None,
    system_number: str | None = None,
) -> dict[str, Any]:
    """The `Contact` of a DescribeContact answer in botocore's shape (tz-aware datetimes): what is None is left out;
    `QueueInfo` with `queue_id`, `AgentInfo` with `agent_id`, the endpoints with both numbers. The simulator answers
    with it, and the tests build their answers from a contact event with it (tests/describe_contact.py)."""
    answer: dict[str, Any] = {"Arn": arn, "Id": contact_id}
    if initial_contact_id is not None:
        answer["InitialContactId"] = initial_contact_id
    if previous_contact_id is not None:
        answer["PreviousContactId"] = previous_contact_id
    answer["InitiationMethod"] = initiation_method
    answer["Channel"] = channel
    if queue_id is not None:
        answer["QueueInfo"] = {"Id": queue_id, "EnqueueTimestamp": enqueued}
    if agent_id is not None:
        agent_info: dict[str, Any] = {"Id": agent_id, "ConnectedToAgentTimestamp": connected_to_agent}
        if hold_seconds is not None:
            agent_info["AgentInitiatedHoldDuration"] = hold_seconds
        if acw_start is not None:
            agent_info["AfterContactWorkStartTimestamp"] = acw_start
        if acw_end is not None:
            agent_info["AfterContactWorkEndTimestamp"] = acw_end
            agent_info["AfterContactWorkDuration"] = acw_seconds
        answer["AgentInfo"] = agent_info
    optional = {
        "InitiationTimestamp": initiation,
        "ConnectedToSystemTimestamp": connected_to_system,
        "DisconnectTimestamp": disconnect,
        "DisconnectReason": disconnect_reason,
        "Recordings": recordings,
        "LastUpdateTimestamp": last_update,
    }
    answer.update({key: value for key, value in optional.items() if value is not None})
    if customer_number and system_number:
        answer["CustomerEndpoint"] = {"Type": "TELEPHONE_NUMBER", "Address": customer_number}
        answer["SystemEndpoint"] = {"Type": "TELEPHONE_NUMBER", "Address": system_number}
    return answer


def recording(location: str, start: datetime, stop: datetime) -> dict[str, Any]:
    """One entry of `Recordings`: the whole call, from connection to the agent to disconnect, stored in S3."""
    return {
        "StorageType": "S3",
        "Location": location,
        "MediaStreamType": "AUDIO",
        "ParticipantType": "ALL",
        "StartTimestamp": start,
        "StopTimestamp": stop,
        "Status": "AVAILABLE",
    }


def _metadata(contact_id: str, call: int, status: int) -> dict[str, Any]:
    return {
        "RequestId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"describe-contact/{contact_id}/{call}")),
        "HostId": "",
        "HTTPStatusCode": status,
        "HTTPHeaders": {"content-type": "application/json"},
        "RetryAttempts": 0,
    }


def _not_found(message: str, contact_id: str, call: int) -> ClientError:
    metadata = _metadata(contact_id, call, 404)
    return ClientError(
        {
            "Error": {"Code": "ResourceNotFoundException", "Message": message},
            "ResponseMetadata": {
                "RequestId": metadata["RequestId"],
                "HostId": "",
                "HTTPStatusCode": 404,
                "HTTPHeaders": metadata["HTTPHeaders"],
                "RetryAttempts": 0,
            },
        },
        "DescribeContact",
    )
