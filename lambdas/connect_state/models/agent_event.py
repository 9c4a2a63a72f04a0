"""Parser models of the Amazon Connect agent event stream record (the JSON inside a Kinesis record).

Shaped by what Connect really sends (shared SCHEMA-NOTES.md §1): PascalCase keys; `null` where the docs say
"required" (PreviousAgentSnapshot, AgentHierarchyGroups, Queue.Name, ConnectedToAgentTimestamp); fields that older
captures lack (AgentStatus.Type, Concurrency, Channels, NextAgentStatus); unknown fields ignored. Only what the state
needs is modelled: the rest (proficiencies, concurrency) is accepted unvalidated, which also keeps validation close to
the cost of `json.loads`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_pascal

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
    """PascalCase keys, each field's name in PascalCase (`event_id` → EventId) unless it names its own alias."""

    model_config = ConfigDict(extra="ignore", frozen=True, alias_generator=to_pascal)


class Reference(_ConnectModel):
    """Connect's {ARN, Name} pair, as a status, a queue or a routing profile is named."""

    arn: OptionalText = Field(None, alias="ARN")
    name: OptionalText = None


class AgentStatus(Reference):
    start_timestamp: OptionalTimestamp = None
    type: OptionalText = None


class NextAgentStatus(Reference):
    # The data model says EnqueuedTimestamp; one rendering of the docs says EnqueueTimestamp. Accept both.
    enqueued_timestamp: OptionalTimestamp = None
    enqueue_timestamp: OptionalTimestamp = None


class RoutingProfile(Reference):
    # The queues the agent serves. Includes the agent's own queue (`.../queue/agent/<id>`, Name null); None when the
    # event does not say (which is not the same as serving no queue).
    inbound_queues: tuple[Reference, ...] | None = None


class AgentHierarchyGroups(_ConnectModel):
    """The agent's hierarchy group at each level; null in every real capture, and a level may be null or missing."""

    level1: Annotated[Reference | None, Nullable] = None
    level2: Annotated[Reference | None, Nullable] = None
    level3: Annotated[Reference | None, Nullable] = None
    level4: Annotated[Reference | None, Nullable] = None
    level5: Annotated[Reference | None, Nullable] = None

    def arns(self) -> list[str]:
        levels = (self.level1, self.level2, self.level3, self.level4, self.level5)
        return sorted({level.arn for level in levels if level is not None and level.arn})


class AgentConfiguration(_ConnectModel):
    first_name: OptionalText = None
    last_name: OptionalText = None
    username: OptionalText = None
    routing_profile: RoutingProfile | None = None
    agent_hierarchy_groups: Annotated[AgentHierarchyGroups | None, Nullable] = None


class AgentContact(_ConnectModel):
    contact_id: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    initial_contact_id: OptionalText = None
    channel: Annotated[Channel, Nullable] = None
    initiation_method: OptionalText = None
    state: str
    state_start_timestamp: OptionalTimestamp = None
    connected_to_agent_timestamp: OptionalTimestamp = None
    queue_timestamp: OptionalTimestamp = None
    queue: Reference | None = None


class AgentSnapshot(_ConnectModel):
    agent_status: AgentStatus | None = None
    next_agent_status: NextAgentStatus | None = None
    configuration: AgentConfiguration | None = None
    contacts: tuple[AgentContact, ...] = ()


class AgentEvent(_ConnectModel):
    """One agent event. AgentARN, EventId, EventTimestamp and EventType are what the state cannot do without."""

    agent_arn: Annotated[str, StringConstraints(min_length=1, max_length=512)] = Field(alias="AgentARN")
    event_id: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    event_timestamp: IsoTimestamp
    event_type: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    instance_arn: OptionalText = Field(None, alias="InstanceARN")
    aws_account_id: OptionalText = Field(None, alias="AWSAccountId")
    version: OptionalText = None
    current: AgentSnapshot | None = Field(None, alias="CurrentAgentSnapshot")
    previous: AgentSnapshot | None = Field(None, alias="PreviousAgentSnapshot")
