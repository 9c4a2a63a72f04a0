"""Decoding what arrives on the agent event stream: every shared sample, and every kind of bad input."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from connect_state.models.agent_event import AgentEvent
from connect_state.models.contact_record import ContactRecord
from connect_state.models.decoder import Foreign, ForeignKind, Rejected, decode_agent_record
from tests import samples
from tests.factories import INSTANCE, Snapshot, agent_arn, agent_event

LIMIT = 131_072


def encode(document: object) -> str:
    return base64.b64encode(json.dumps(document).encode()).decode()


@pytest.mark.parametrize("path", samples.AGENT_EVENTS, ids=lambda p: p.name[:4])
def test_every_shared_agent_event_is_understood(path: Path) -> None:
    # Given a real or documented agent event, When it is decoded, Then it is an agent event with its identity intact
    raw = samples.load(path)
    decoded = decode_agent_record(encode(raw), LIMIT)
    assert isinstance(decoded, AgentEvent)
    assert decoded.agent_arn == raw["AgentARN"]
    assert decoded.event_type == raw["EventType"]
    assert len(decoded.current.contacts if decoded.current else ()) == len(raw["CurrentAgentSnapshot"]["Contacts"])


def test_real_lambda_envelope_with_null_strings_is_understood() -> None:
    # Given the real le01 test event, whose JSON nulls were turned into "null" strings by a hand-written producer
    record = samples.load(samples.LAMBDA_ENVELOPES[0])["Records"][0]
    # When its data is decoded
    decoded = decode_agent_record(record["kinesis"]["data"], LIMIT)
    # Then "null" is read as null, not as a name or a timestamp
    assert isinstance(decoded, AgentEvent)
    assert decoded.previous is not None
    ended = decoded.previous.contacts[0]
    assert ended.state == "ERROR"
    assert ended.connected_to_agent_timestamp is None
    assert ended.initial_contact_id is None


def test_null_previous_snapshot_is_accepted() -> None:
    decoded = decode_agent_record(encode(samples.sample("ae09")), LIMIT)
    assert isinstance(decoded, AgentEvent)
    assert decoded.previous is None


@pytest.mark.parametrize("path", samples.CONTACT_RECORDS, ids=lambda p: p.name[:5])
def test_contact_records_on_a_shared_stream_are_decoded_as_contact_records(path: Path) -> None:
    # Given a real contact record on a stream shared with agent events (SCHEMA-NOTES §1.1)
    raw = samples.load(path)
    # When it is decoded, Then it is a contact record of its own contact: neither an agent event nor foreign
    decoded = decode_agent_record(encode(raw), LIMIT)
    assert isinstance(decoded, ContactRecord)
    assert decoded.contact_id == raw["ContactId"]
    assert decoded.last_update_timestamp == raw["LastUpdateTimestamp"]


def test_contact_record_without_a_contact_id_is_rejected_naming_the_field() -> None:
    record = samples.load(samples.CONTACT_RECORDS[0])
    del record["ContactId"]
    decoded = decode_agent_record(encode(record), LIMIT)
    assert isinstance(decoded, Rejected)
    assert decoded.reason == "invalid contact record: ContactId: Field required"


@pytest.mark.parametrize("path", samples.CONTACT_LENS, ids=lambda p: p.name[:4])
def test_contact_lens_segments_on_a_shared_stream_are_recognised(path: Path) -> None:
    assert decode_agent_record(encode(samples.load(path)), LIMIT) == Foreign(ForeignKind.CONTACT_LENS_SEGMENT)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("not base64!!", "invalid base64"),
        (base64.b64encode(b"\xff\xfe{not json").decode(), "not JSON"),
        (encode(["an", "array"]), "not an agent event: a JSON list, not an object"),
        (encode({"hello": "world"}), "not an agent event: no AgentARN or EventType"),
    ],
)
def test_bad_input_is_rejected_with_its_reason(data: str, reason: str) -> None:
    assert decode_agent_record(data, LIMIT) == Rejected(reason)


def test_fragments_from_the_docs_are_rejected_naming_what_is_missing() -> None:
    # Given the doc fragments: a snapshot without event identity (aef1), a bare Contacts array (aef2)
    snapshot_only, contacts_only = (samples.load(p) for p in samples.AGENT_FRAGMENTS)
    first = decode_agent_record(encode(snapshot_only), LIMIT)
    second = decode_agent_record(encode(contacts_only), LIMIT)
    assert isinstance(first, Rejected)
    assert "EventId: Field required" in first.reason
    assert "EventTimestamp: Field required" in first.reason
    assert second == Rejected("not an agent event: no AgentARN or EventType")


@pytest.mark.parametrize("missing", ["AgentARN", "EventTimestamp"])
def test_agent_event_without_identity_is_rejected(missing: str) -> None:
    event = samples.sample("ae07")
    del event[missing]
    decoded = decode_agent_record(encode(event), LIMIT)
    assert isinstance(decoded, Rejected)
    assert f"{missing}: Field required" in decoded.reason


def test_malformed_timestamp_is_rejected_without_echoing_the_value() -> None:
    event = samples.sample("ae07")
    event["EventTimestamp"] = "yesterday at noon"
    decoded = decode_agent_record(encode(event), LIMIT)
    assert isinstance(decoded, Rejected)
    assert decoded.reason.startswith("invalid agent event: EventTimestamp")
    assert "yesterday" not in decoded.reason


def test_oversized_record_is_rejected() -> None:
    event = samples.sample("ae07")
    event["Padding"] = "x" * 2000
    assert decode_agent_record(encode(event), 1024) == Rejected(
        f"oversized: {len(json.dumps(event).encode())} bytes, the limit is 1024"
    )


def test_variants_connect_sends_are_accepted() -> None:
    # Given an event (built, not captured) with every documented variant at once
    event = agent_event(agent_arn(1), "HEART_BEAT", "2026-11-21T09:00:00.000Z", Snapshot(status_type="ROUTABLE"), None)
    event["Version"] = "2099-12-31"  # an unknown future version
    event["SomethingNew"] = {"nested": True}  # a field Connect adds later
    event["CurrentAgentSnapshot"]["NextAgentStatus"] = {
        "ARN": f"{INSTANCE}/agent-state/lunch",
        "Name": "Lunch",
        "EnqueueTimestamp": "2026-11-21T09:00:01.000Z",  # the no-"d" spelling from one rendering of the docs
    }
    event["CurrentAgentSnapshot"]["Contacts"] = [
        {"ContactId": "task-1", "Channel": "TASKS", "State": "CONNECTED", "StateStartTimestamp": None}
    ]
    # When it is decoded, Then every variant is understood
    decoded = decode_agent_record(encode(event), LIMIT)
    assert isinstance(decoded, AgentEvent)
    assert decoded.current is not None
    assert decoded.current.next_agent_status is not None
    assert decoded.current.next_agent_status.enqueue_timestamp == "2026-11-21T09:00:01.000Z"
    assert decoded.current.contacts[0].channel == "TASK"  # one spelling, applied once: in the model (as for contacts)
