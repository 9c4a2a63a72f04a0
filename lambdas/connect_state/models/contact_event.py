"""Parser models of the EventBridge "Amazon Connect Contact Event" and its camelCase `detail`.

Shaped by what Connect really sends (shared SCHEMA-NOTES.md §2): `channel` in any case ("Voice" → VOICE);
`connectedToSystemTimestamp` missing on a DISCONNECTED; no `queueInfo` for OUTBOUND; `1970-01-01T00:00:00.001Z`
(anything before 2000) meaning "unset"; unknown event types and fields ignored. Only what the state needs is
modelled, so the endpoints (customer phone numbers, email addresses) are never even read.

Doc-only variants are understood, not guessed at: a detail printed with PascalCase keys (ce06, ce08, the `AgentInfo`
of ce02) is read with its keys' first letter lowered; the 2021 pages' spelling `instanceARN` (`InstanceARN` when
PascalCase) is read as `instanceArn`; a bare detail with no envelope (ce01) is wrapped in one whose id is derived from
its content, so a copy of it is still a duplicate. Everything else is Rejected with a reason.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeInt,
    StringConstraints,
    ValidationError,
    model_validator,
)

from connect_state.domain.records import Rejected
from connect_state.models.agent_event import IsoTimestamp, OptionalText

CONTACT_EVENT_DETAIL_TYPE = "Amazon Connect Contact Event"
CONTACT_EVENT_SOURCE = "aws.connect"
CHANNEL_ALIASES = {"TASKS": "TASK"}  # the agent-stream docs write TASKS, the API TASK
_FIRST_REAL_YEAR = "2000"


def _unset_if_sentinel(value: object) -> object:
    """Connect writes 1970-01-01T00:00:00.001Z for "not yet" (ce05); no contact predates the year 2000."""
    if value == "null" or (isinstance(value, str) and value[:4].isdigit() and value[:4] < _FIRST_REAL_YEAR):
        return None
    return value


def _channel(value: object) -> object:
    if isinstance(value, str):
        upper = value.strip().upper()
        return CHANNEL_ALIASES.get(upper, upper) or None
    return value


ContactTimestamp = Annotated[IsoTimestamp | None, BeforeValidator(_unset_if_sentinel)]
Channel = Annotated[str | None, BeforeValidator(_channel)]
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


def parse_contact_event(body: str | bytes) -> ContactEvent | Rejected:
    """An SQS message body (the EventBridge event as JSON) → the event, or the reason it cannot be used."""
    try:
        # The usual path: pydantic-core parses and validates the JSON in one pass.
        return ContactEvent.model_validate_json(body)
    except ValidationError as error:
        return _classify_invalid(body, error)


def _classify_invalid(body: str | bytes, error: ValidationError) -> ContactEvent | Rejected:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return Rejected("not JSON")
    if not isinstance(document, dict):
        return Rejected(f"not a contact event: a JSON {type(document).__name__}, not an object")
    if "detail" not in document and "detail-type" not in document:
        return _wrap_bare_detail(document)
    detail_type, source = document.get("detail-type"), document.get("source")
    if detail_type != CONTACT_EVENT_DETAIL_TYPE or source != CONTACT_EVENT_SOURCE:
        return Rejected(
            f"not a contact event: detail-type {_short(detail_type)} from source {_short(source)}, expected "
            f"{CONTACT_EVENT_DETAIL_TYPE!r} from {CONTACT_EVENT_SOURCE!r}"
        )
    return Rejected(f"invalid contact event: {summary(error)}")


def _wrap_bare_detail(document: dict[str, Any]) -> ContactEvent | Rejected:
    """A doc sample that printed only `detail` (ce01): understood if it is a valid detail, else rejected."""
    if not ({"contactId", "ContactId"} & document.keys() and {"eventType", "EventType"} & document.keys()):
        return Rejected("not a contact event: no EventBridge envelope and no contactId/eventType")
    try:
        detail = ContactEventDetail.model_validate(document)
    except ValidationError as error:
        return Rejected(f"invalid contact event detail (no envelope): {summary(error)}")
    digest = hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return ContactEvent(
        id=f"no-envelope-{digest}",
        detail_type=CONTACT_EVENT_DETAIL_TYPE,
        source=CONTACT_EVENT_SOURCE,
        detail=detail,
        envelope_missing=True,
    )


def summary(error: ValidationError) -> str:
    """`detail.contactId: Field required; ...` (locations and messages only: never input values, so no PII)."""
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '(event)'}: {e['msg']}" for e in error.errors()[:5]]
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _short(value: object) -> str:
    return repr(value)[:80] if isinstance(value, str) else ("missing" if value is None else type(value).__name__)
