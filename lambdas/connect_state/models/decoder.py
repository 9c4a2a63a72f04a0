"""Decoding what arrives: raw bytes → a model, or the reason it cannot be used.

Every agent stream record ends as exactly one of: an agent event, a contact record (an instance may send its agent
events and its contact records to the same stream, SCHEMA-NOTES §1.1), a Foreign record (recognised, counted,
skipped: a Contact Lens segment, §7.1), or Rejected with a reason (quarantined). Every contact event message ends as
a contact event or Rejected. Nothing is dropped without being counted. Reasons name fields and pydantic's messages,
never input values (no customer data).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from connect_state.models.agent_event import AgentEvent
from connect_state.models.contact_event import (
    CONTACT_EVENT_DETAIL_TYPE,
    CONTACT_EVENT_SOURCE,
    ContactEvent,
)
from connect_state.models.contact_record import CONTACT_RECORD_FORMAT_KEY, ContactRecord


@dataclass(frozen=True)
class Rejected:
    """Bad input: it goes to the quarantine queue with this reason and is never retried."""

    reason: str


class ForeignKind(StrEnum):
    CONTACT_LENS_SEGMENT = "ContactLensSegment"


@dataclass(frozen=True)
class Foreign:
    kind: ForeignKind


def decode_agent_record(data: str, max_bytes: int) -> AgentEvent | ContactRecord | Foreign | Rejected:
    """`data` is the base64 payload of a Kinesis record as Lambda delivers it."""
    try:
        payload = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return Rejected("invalid base64")
    if len(payload) > max_bytes:
        return Rejected(f"oversized: {len(payload)} bytes, the limit is {max_bytes}")
    try:
        # The fast path: pydantic-core parses and validates the JSON in one pass.
        return AgentEvent.model_validate_json(payload)
    except ValidationError as error:
        return _classify_invalid_agent_event(payload, error)


def _json_object(raw: str | bytes, kind: str) -> dict[str, Any] | Rejected:
    """What failed validation, parsed again to say why: a JSON object, or the reason it is not one."""
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return Rejected("not JSON")
    if not isinstance(document, dict):
        return Rejected(f"not {kind}: a JSON {type(document).__name__}, not an object")
    return document


def _classify_invalid_agent_event(payload: bytes, error: ValidationError) -> ContactRecord | Foreign | Rejected:
    document = _json_object(payload, "an agent event")
    if isinstance(document, Rejected):
        return document
    if CONTACT_RECORD_FORMAT_KEY in document:
        try:
            return ContactRecord.model_validate(document)
        except ValidationError as record_error:
            return Rejected(f"invalid contact record: {validation_summary(record_error)}")
    if "AgentARN" not in document and {"ContactId", "InstanceId", "Version"} <= document.keys():
        # Voice segments (Version 1.0.0) carry EventType, chat segments (2.0.0) StreamingEventType.
        return Foreign(ForeignKind.CONTACT_LENS_SEGMENT)
    if "AgentARN" not in document and "EventType" not in document:
        return Rejected("not an agent event: no AgentARN or EventType")
    return Rejected(f"invalid agent event: {validation_summary(error)}")


def parse_contact_event(body: str | bytes) -> ContactEvent | Rejected:
    """An SQS message body (the EventBridge event as JSON) → the event, or the reason it cannot be used."""
    try:
        # The usual path: pydantic-core parses and validates the JSON in one pass.
        return ContactEvent.model_validate_json(body)
    except ValidationError as error:
        return _classify_invalid_contact_event(body, error)


def _classify_invalid_contact_event(body: str | bytes, error: ValidationError) -> Rejected:
    document = _json_object(body, "a contact event")
    if isinstance(document, Rejected):
        return document
    if "detail" not in document and "detail-type" not in document:
        if {"contactId", "ContactId"} & document.keys() and {"eventType", "EventType"} & document.keys():
            return Rejected(
                "not a contact event: a detail with no EventBridge envelope (the contact events rule and make replay "
                "deliver whole events)"
            )
        return Rejected("not a contact event: no EventBridge envelope and no contactId/eventType")
    detail_type, source = document.get("detail-type"), document.get("source")
    if detail_type != CONTACT_EVENT_DETAIL_TYPE or source != CONTACT_EVENT_SOURCE:
        return Rejected(
            f"not a contact event: detail-type {_short(detail_type)} from source {_short(source)}, expected "
            f"{CONTACT_EVENT_DETAIL_TYPE!r} from {CONTACT_EVENT_SOURCE!r}"
        )
    detail = document.get("detail")
    if isinstance(detail, dict) and "instanceArn" not in detail:
        return Rejected(
            "not a contact event the rule delivers: no detail.instanceArn (the rule matches on it, spelled so; "
            "InstanceArn and instanceARN are documentation spellings)"
        )
    return Rejected(f"invalid contact event: {validation_summary(error)}")


def validation_summary(error: ValidationError) -> str:
    """`detail.contactId: Field required; ...` (locations and messages only: never input values, so no PII)."""
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '(event)'}: {e['msg']}" for e in error.errors()[:5]]
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _short(value: object) -> str:
    return repr(value)[:80] if isinstance(value, str) else ("missing" if value is None else type(value).__name__)
