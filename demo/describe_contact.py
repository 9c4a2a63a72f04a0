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

from demo.contact_centre import Contact, Simulation, SimulationConfig, epoch_ms, simulate, to_datetime
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
        instance = self._simulation.instance

        def known(ms: int | None) -> bool:
            return ms is not None and ms <= now

        moments = [contact.initiation_ms]
        answer: dict[str, Any] = {
            "Arn": instance.contact_arn(contact.contact_id),
            "Id": contact.contact_id,
        }
        if contact.initial_contact_id is not None:
            answer["InitialContactId"] = contact.initial_contact_id
        if contact.previous_contact_id is not None:
            answer["PreviousContactId"] = contact.previous_contact_id
        answer["InitiationMethod"] = contact.initiation_method
        answer["Channel"] = contact.channel
        if contact.queue is not None and known(contact.enqueue_ms):
            assert contact.enqueue_ms is not None
            answer["QueueInfo"] = {"Id": contact.queue.id, "EnqueueTimestamp": to_datetime(contact.enqueue_ms)}
            moments.append(contact.enqueue_ms)
        if contact.agent is not None and known(contact.connected_to_agent_ms):
            assert contact.connected_to_agent_ms is not None
            agent_info: dict[str, Any] = {
                "Id": contact.agent.agent_id,
                "ConnectedToAgentTimestamp": to_datetime(contact.connected_to_agent_ms),
            }
            moments.append(contact.connected_to_agent_ms)
            if known(contact.disconnect_ms):
                agent_info["AgentInitiatedHoldDuration"] = contact.hold_seconds
            if known(contact.acw_start_ms):
                assert contact.acw_start_ms is not None
                agent_info["AfterContactWorkStartTimestamp"] = to_datetime(contact.acw_start_ms)
            if known(contact.acw_end_ms):
                assert contact.acw_end_ms is not None
                agent_info["AfterContactWorkEndTimestamp"] = to_datetime(contact.acw_end_ms)
                agent_info["AfterContactWorkDuration"] = contact.acw_duration_seconds
                moments.append(contact.acw_end_ms)
            answer["AgentInfo"] = agent_info
        answer["InitiationTimestamp"] = to_datetime(contact.initiation_ms)
        if known(contact.connected_to_system_ms):
            assert contact.connected_to_system_ms is not None
            answer["ConnectedToSystemTimestamp"] = to_datetime(contact.connected_to_system_ms)
            moments.append(contact.connected_to_system_ms)
        if known(contact.disconnect_ms):
            assert contact.disconnect_ms is not None
            answer["DisconnectTimestamp"] = to_datetime(contact.disconnect_ms)
            moments.append(contact.disconnect_ms)
            if contact.disconnect_reason is not None:
                answer["DisconnectReason"] = contact.disconnect_reason
            if contact.recorded:
                answer["Recordings"] = [self._recording(contact)]
        answer["LastUpdateTimestamp"] = to_datetime(max(moments))
        if contact.channel == "VOICE" and contact.customer_number and contact.system_number:
            answer["CustomerEndpoint"] = {"Type": "TELEPHONE_NUMBER", "Address": contact.customer_number}
            answer["SystemEndpoint"] = {"Type": "TELEPHONE_NUMBER", "Address": contact.system_number}
        return answer

    def _recording(self, contact: Contact) -> dict[str, Any]:
        assert contact.connected_to_agent_ms is not None
        assert contact.disconnect_ms is not None
        instance = self._simulation.instance
        started = to_datetime(contact.connected_to_agent_ms)
        location = (
            f"amazon-connect-{instance.account}-recordings/connect/simulated-centre/CallRecordings/"
            f"{started:%Y/%m/%d}/{contact.contact_id}_{started:%Y%m%dT%H:%M}_UTC.wav"
        )
        return {
            "StorageType": "S3",
            "Location": location,
            "MediaStreamType": "AUDIO",
            "ParticipantType": "ALL",
            "StartTimestamp": started,
            "StopTimestamp": to_datetime(contact.disconnect_ms),
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
