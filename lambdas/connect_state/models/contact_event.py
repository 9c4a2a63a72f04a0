"""Parser models of the EventBridge "Amazon Connect Contact Event" and its camelCase `detail`.

Shaped by what Connect really sends (shared SCHEMA-NOTES.md §2): `channel` in any case ("Voice" → VOICE);
`connectedToSystemTimestamp` missing on a DISCONNECTED; no `queueInfo` for OUTBOUND; `1970-01-01T00:00:00.001Z`
(anything before 2000) meaning "unset"; unknown event types and fields ignored. Only what the state needs is
modelled, so the endpoints (customer phone numbers, email addresses) are never even read.

Doc-only variants are understood, not guessed at: a detail printed with PascalCase keys (ce06, ce08, the `AgentInfo`
of ce02) is read with its keys' first letter lowered; the 2021 pages' spelling `instanceARN` (`InstanceARN` when
PascalCase) is read as `instanceArn`; a bare detail with no envelope (ce01) is wrapped in one whose id is derived from
its content, so a copy of it is still a duplicate (models.decoder.parse_contact_event). Everything else is Rejected
with a reason.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeInt,
    StringConstraints,
    model_validator,
)

from connect_state.models.agent_event import Channel, IsoTimestamp, OptionalText

CONTACT_EVENT_DETAIL_TYPE = "Amazon Connect Contact Event"
CONTACT_EVENT_SOURCE = "aws.connect"
_FIRST_REAL_YEAR = "2000"


def _unset_if_sentinel(value: object) -> object:
    """Connect writes 1970-01-01T00:00:00.001Z for "not yet" (ce05); no contact predates the year 2000."""
    if value == "null" or (isinstance(value, str) and value[:4].isdigit() and value[:4] < _FIRST_REAL_YEAR):
        return None
    return value


ContactTimestamp = Annotated[IsoTimestamp | None, BeforeValidator(_unset_if_sentinel)]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=256)]


def lower_first(key: str) -> str:
    return key[:1].lower() + key[1:]


class _DetailModel(BaseModel):
    """camelCase keys; a PascalCase key is read as its camelCase twin unless the camelCase key is also there."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _camel_case_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(isinstance(k, str) and k[:1].isupper() for k in data):
            normalised = {lower_first(k): v for k, v in data.items() if isinstance(k, str) and k[:1].isupper()}
            normalised.update({k: v for k, v in data.items() if not (isinstance(k, str) and k[:1].isupper())})
            return normalised
        return data


class QueueInfo(_DetailModel):
    queue_arn: OptionalText = Field(None, alias="queueArn")
    queue_type: OptionalText = Field(None, alias="queueType")
    enqueue_timestamp: ContactTimestamp = Field(None, alias="enqueueTimestamp")


class AgentInfo(_DetailModel):
    agent_arn: OptionalText = Field(None, alias="agentArn")
    connected_to_agent_timestamp: ContactTimestamp = Field(None, alias="connectedToAgentTimestamp")
    agent_initiated_hold_duration: NonNegativeInt | None = Field(None, alias="agentInitiatedHoldDuration")
    after_contact_work_start_timestamp: ContactTimestamp = Field(None, alias="afterContactWorkStartTimestamp")
    after_contact_work_end_timestamp: ContactTimestamp = Field(None, alias="afterContactWorkEndTimestamp")
    after_contact_work_duration: NonNegativeInt | None = Field(None, alias="afterContactWorkDuration")


class ContactEventDetail(_DetailModel):
    """contactId, eventType and instanceArn are what the state cannot do without; the rest may be missing."""

    event_type: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(alias="eventType")
    contact_id: Identifier = Field(alias="contactId")
    # The 2021 pages spell it instanceARN (InstanceARN in their PascalCase samples, lowered to instanceARN above).
    instance_arn: Annotated[str, StringConstraints(min_length=1, max_length=512)] = Field(
        alias="instanceArn", validation_alias=AliasChoices("instanceArn", "instanceARN")
    )
    channel: Channel = None
    initiation_method: OptionalText = Field(None, alias="initiationMethod")
    initial_contact_id: OptionalText = Field(None, alias="initialContactId")
    previous_contact_id: OptionalText = Field(None, alias="previousContactId")
    related_contact_id: OptionalText = Field(None, alias="relatedContactId")
    initiation_timestamp: ContactTimestamp = Field(None, alias="initiationTimestamp")
    connected_to_system_timestamp: ContactTimestamp = Field(None, alias="connectedToSystemTimestamp")
    disconnect_timestamp: ContactTimestamp = Field(None, alias="disconnectTimestamp")
    queue_info: QueueInfo | None = Field(None, alias="queueInfo")
    agent_info: AgentInfo | None = Field(None, alias="agentInfo")


class ContactEvent(BaseModel):
    """The EventBridge envelope. `time` is whole seconds; it is None only for a wrapped bare detail."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    id: Identifier
    detail_type: Literal["Amazon Connect Contact Event"] = Field(alias="detail-type")
    source: Literal["aws.connect"]
    time: IsoTimestamp | None = None
    account: str | None = None
    region: str | None = None
    detail: ContactEventDetail
    envelope_missing: bool = Field(False, exclude=True)
