"""Parser models of the Amazon Connect agent event stream record (the JSON inside a Kinesis record).

Shaped by what Connect really sends (shared SCHEMA-NOTES.md §1): PascalCase keys; `null` where the docs say
"required" (PreviousAgentSnapshot, AgentHierarchyGroups, Queue.Name, ConnectedToAgentTimestamp); fields that older
captures lack (AgentStatus.Type, Concurrency, Channels, NextAgentStatus); unknown fields ignored. Only what the state
needs is modelled: the rest (queues, hierarchy, proficiencies) is accepted unvalidated, which also keeps validation
close to the cost of `json.loads`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

# `yyyy-mm-ddThh:mm:ss.sssZ`; early captures repeat the seconds as fake milliseconds, which is still this format.
IsoTimestamp = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")]


def _null_string_is_none(value: object) -> object:
    """Hand-copied events turn JSON null into the string "null" (shared le01); it is never a real name or time."""
    return None if value == "null" else value


Nullable = BeforeValidator(_null_string_is_none)
OptionalText = Annotated[str | None, Nullable]
OptionalTimestamp = Annotated[IsoTimestamp | None, Nullable]
CHANNEL_ALIASES = {"TASKS": "TASK"}  # the agent-stream docs write TASKS, the API TASK


def _channel(value: object) -> object:
    """One spelling on both streams: `Voice` → VOICE, `TASKS` → TASK, empty → None."""
    if isinstance(value, str):
        upper = value.strip().upper()
        return CHANNEL_ALIASES.get(upper, upper) or None
    return value


Channel = Annotated[str | None, BeforeValidator(_channel)]


class _ConnectModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class AgentStatus(_ConnectModel):
    arn: OptionalText = Field(None, alias="ARN")
    name: OptionalText = Field(None, alias="Name")
    start_timestamp: OptionalTimestamp = Field(None, alias="StartTimestamp")
    type: OptionalText = Field(None, alias="Type")


class NextAgentStatus(_ConnectModel):
    arn: OptionalText = Field(None, alias="ARN")
    name: OptionalText = Field(None, alias="Name")
    # The data model says EnqueuedTimestamp; one rendering of the docs says EnqueueTimestamp. Accept both.
    enqueued_timestamp: OptionalTimestamp = Field(None, alias="EnqueuedTimestamp")
    enqueue_timestamp: OptionalTimestamp = Field(None, alias="EnqueueTimestamp")


class Queue(_ConnectModel):
    arn: OptionalText = Field(None, alias="ARN")
    name: OptionalText = Field(None, alias="Name")


class RoutingProfile(_ConnectModel):
    arn: OptionalText = Field(None, alias="ARN")
    name: OptionalText = Field(None, alias="Name")


class AgentConfiguration(_ConnectModel):
    first_name: OptionalText = Field(None, alias="FirstName")
    last_name: OptionalText = Field(None, alias="LastName")
    username: OptionalText = Field(None, alias="Username")
    routing_profile: RoutingProfile | None = Field(None, alias="RoutingProfile")


class AgentContact(_ConnectModel):
    contact_id: Annotated[str, StringConstraints(min_length=1, max_length=256)] = Field(alias="ContactId")
    initial_contact_id: OptionalText = Field(None, alias="InitialContactId")
    channel: Annotated[Channel, Nullable] = Field(None, alias="Channel")
    initiation_method: OptionalText = Field(None, alias="InitiationMethod")
    state: str = Field(alias="State")
    state_start_timestamp: OptionalTimestamp = Field(None, alias="StateStartTimestamp")
    connected_to_agent_timestamp: OptionalTimestamp = Field(None, alias="ConnectedToAgentTimestamp")
    queue_timestamp: OptionalTimestamp = Field(None, alias="QueueTimestamp")
    queue: Queue | None = Field(None, alias="Queue")


class AgentSnapshot(_ConnectModel):
    agent_status: AgentStatus | None = Field(None, alias="AgentStatus")
    next_agent_status: NextAgentStatus | None = Field(None, alias="NextAgentStatus")
    configuration: AgentConfiguration | None = Field(None, alias="Configuration")
    contacts: tuple[AgentContact, ...] = Field((), alias="Contacts")


class AgentEvent(_ConnectModel):
    """One agent event. AgentARN, EventId, EventTimestamp and EventType are what the state cannot do without."""

    agent_arn: Annotated[str, StringConstraints(min_length=1, max_length=512)] = Field(alias="AgentARN")
    event_id: Annotated[str, StringConstraints(min_length=1, max_length=256)] = Field(alias="EventId")
    event_timestamp: IsoTimestamp = Field(alias="EventTimestamp")
    event_type: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(alias="EventType")
    instance_arn: OptionalText = Field(None, alias="InstanceARN")
    aws_account_id: OptionalText = Field(None, alias="AWSAccountId")
    version: OptionalText = Field(None, alias="Version")
    current: AgentSnapshot | None = Field(None, alias="CurrentAgentSnapshot")
    previous: AgentSnapshot | None = Field(None, alias="PreviousAgentSnapshot")
