"""Classifying what arrives on the agent event stream.

A stream may be shared with contact records or Contact Lens segments (SCHEMA-NOTES §1.1, §7.1), and producers can put
anything on it. Every record ends as exactly one of: an agent event, a foreign record (recognised, counted, skipped),
or quarantined with a reason. Nothing is dropped without being counted.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from enum import StrEnum

from pydantic import ValidationError

from connect_state.models.agent_event import AgentEvent


class ForeignKind(StrEnum):
    CONTACT_TRACE_RECORD = "ContactTraceRecord"
    CONTACT_LENS_SEGMENT = "ContactLensSegment"


@dataclass(frozen=True)
class Foreign:
    kind: ForeignKind


@dataclass(frozen=True)
class Rejected:
    """Bad input: it goes to the quarantine queue with this reason and is never retried."""

    reason: str


def decode_agent_record(data: str, max_bytes: int) -> AgentEvent | Foreign | Rejected:
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
        return _classify_invalid(payload, error)


def _classify_invalid(payload: bytes, error: ValidationError) -> Foreign | Rejected:
    try:
        document = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return Rejected("not JSON")
    if not isinstance(document, dict):
        return Rejected(f"not an agent event: a JSON {type(document).__name__}, not an object")
    if "AWSContactTraceRecordFormatVersion" in document:
        return Foreign(ForeignKind.CONTACT_TRACE_RECORD)
    if "AgentARN" not in document and {"ContactId", "InstanceId", "Version"} <= document.keys():
        # Voice segments (Version 1.0.0) carry EventType, chat segments (2.0.0) StreamingEventType.
        return Foreign(ForeignKind.CONTACT_LENS_SEGMENT)
    if "AgentARN" not in document and "EventType" not in document:
        return Rejected("not an agent event: no AgentARN or EventType")
    return Rejected(f"invalid agent event: {_summary(error)}")


def _summary(error: ValidationError) -> str:
    """`EventTimestamp: Field required; CurrentAgentSnapshot.Contacts.0.State: ...` (no input values: no PII)."""
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '(event)'}: {e['msg']}" for e in error.errors()[:5]]
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
