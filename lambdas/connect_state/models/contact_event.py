"""Parser models of the EventBridge "Amazon Connect Contact Event" and its camelCase `detail`.

Shaped by what Connect really sends (shared SCHEMA-NOTES.md §2): `channel` in any case ("Voice" → VOICE);
`connectedToSystemTimestamp` missing on a DISCONNECTED; no `queueInfo` for OUTBOUND; `1970-01-01T00:00:00.001Z`
(anything before 2000) meaning "unset"; unknown event types and fields ignored. Only what the state needs is
modelled, so the endpoints (customer phone numbers, email addresses) are never even read.

What is read is what can arrive: an EventBridge event that the contact events rule delivers (it matches on `source`,
`detail-type` and `detail.instanceArn`, spelled so), or that `make replay FILE=` routes through the same rule. So the
doc-only `AgentInfo` of ce02 (its detail has `instanceArn`) is read with its keys' first letter lowered, and so is any
other PascalCase key beside `instanceArn`; but a detail without `instanceArn` (the PascalCase `InstanceArn` of ce06
and ce08, the 2021 pages' `instanceARN`) or a bare detail with no envelope (ce01) can never arrive, and is Rejected
with that reason (models.decoder.parse_contact_event), never guessed at.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeInt,
    StringConstraints,
    model_validator,
)
from pydantic.alias_generators import to_camel

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
    """camelCase keys, each field's name in camelCase (`contact_id` → contactId). A PascalCase key is read as its
    camelCase twin unless the camelCase key is also there, or the key is one the rule matches on (only its camelCase
    spelling passes the rule)."""

    model_config = ConfigDict(extra="ignore", frozen=True, alias_generator=to_camel)
    _matched_by_the_rule: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _camel_case_keys(cls, data: Any) -> Any:
        def lowered(key: object) -> bool:
            return isinstance(key, str) and key[:1].isupper() and key not in cls._matched_by_the_rule

        if isinstance(data, dict) and any(lowered(k) for k in data):
            normalised = {lower_first(k): v for k, v in data.items() if lowered(k)}
            normalised.update({k: v for k, v in data.items() if not lowered(k)})
            return normalised
        return data


class QueueInfo(_DetailModel):
    queue_arn: OptionalText = None
    queue_type: OptionalText = None
    enqueue_timestamp: ContactTimestamp = None


class AgentInfo(_DetailModel):
    agent_arn: OptionalText = None
    connected_to_agent_timestamp: ContactTimestamp = None
    agent_initiated_hold_duration: NonNegativeInt | None = None
    after_contact_work_start_timestamp: ContactTimestamp = None
    after_contact_work_end_timestamp: ContactTimestamp = None
    after_contact_work_duration: NonNegativeInt | None = None


class ContactEventDetail(_DetailModel):
    """contactId, eventType and instanceArn are what the state cannot do without; the rest may be missing."""

    _matched_by_the_rule = frozenset({"InstanceArn"})

    event_type: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    contact_id: Identifier
    instance_arn: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    channel: Channel = None
    initiation_method: OptionalText = None
    initial_contact_id: OptionalText = None
    previous_contact_id: OptionalText = None
    related_contact_id: OptionalText = None
    initiation_timestamp: ContactTimestamp = None
    connected_to_system_timestamp: ContactTimestamp = None
    disconnect_timestamp: ContactTimestamp = None
    queue_info: QueueInfo | None = None
    agent_info: AgentInfo | None = None


class ContactEvent(BaseModel):
    """The EventBridge envelope. `time` is whole seconds; EventBridge always sets it, a hand-written replay line may
    not."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    id: Identifier
    detail_type: Literal["Amazon Connect Contact Event"] = Field(alias="detail-type")
    source: Literal["aws.connect"]
    time: IsoTimestamp | None = None
    account: str | None = None
    region: str | None = None
    detail: ContactEventDetail
