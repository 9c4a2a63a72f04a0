"""The contact event Parser models against every shared contact event sample and the variants Connect really sends.

What can arrive (through the contact events rule, which matches on source, detail-type and detail.instanceArn, or
through make replay, which routes whole events through the same rule) is read; a doc-only shape that never can (ce01,
a bare detail; ce06 and ce08, whose PascalCase detail has no instanceArn) is rejected with that reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connect_state.models.contact_event import ContactEvent
from connect_state.models.decoder import Rejected, parse_contact_event
from tests.samples import CONTACT_EVENTS, load, sample

NO_INSTANCE_ARN = (
    "not a contact event the rule delivers: no detail.instanceArn (the rule matches on it, spelled so; InstanceArn and "
    "instanceARN are documentation spellings)"
)


def _body(document: Any) -> str:
    return json.dumps(document)


@pytest.mark.parametrize("path", CONTACT_EVENTS, ids=lambda p: p.name[:4])
def test_every_shared_sample_is_understood_or_rejected_with_a_reason(path: Path) -> None:
    # Given any contact event sample, When it is parsed, Then it never raises, and a rejection says why
    parsed = parse_contact_event(path.read_bytes())
    assert isinstance(parsed, ContactEvent | Rejected)
    if isinstance(parsed, Rejected):
        assert parsed.reason
    else:
        document = load(path)
        detail = document.get("detail", document)
        assert parsed.detail.contact_id == detail.get("contactId", detail.get("ContactId"))


UNDELIVERABLE = {"ce01", "ce06", "ce08"}  # doc-only: no envelope (ce01), no detail.instanceArn (ce06, ce08)


def test_every_sample_the_rule_can_deliver_is_understood_and_the_three_it_cannot_are_rejected() -> None:
    # Given the 16 samples, When each is parsed
    assert len(CONTACT_EVENTS) == 16
    parsed = {p.name[:4]: parse_contact_event(p.read_bytes()) for p in CONTACT_EVENTS}
    # Then the 13 the rule can deliver are understood, doc-only ce02-ce05 and ce07 included, and ce01, ce06 and ce08
    # are rejected
    assert {name for name, event in parsed.items() if isinstance(event, Rejected)} == UNDELIVERABLE


@pytest.mark.parametrize("name", ["ce02", "ce04"])
def test_channel_is_normalised_to_upper_case(name: str) -> None:
    # Given a doc sample that writes "channel": "Voice"
    parsed = parse_contact_event(_body(sample(name)))
    assert isinstance(parsed, ContactEvent)
    assert parsed.detail.channel == "VOICE"


def test_tasks_channel_is_read_as_task() -> None:
    document = sample("ce10")
    document["detail"]["channel"] = "tasks"
    parsed = parse_contact_event(_body(document))
    assert isinstance(parsed, ContactEvent)
    assert parsed.detail.channel == "TASK"


def test_1970_sentinels_mean_unset() -> None:
    # Given ce05, whose connectedTo*Timestamp are 1970-01-01T00:00:00.001Z
    parsed = parse_contact_event(_body(sample("ce05")))
    assert isinstance(parsed, ContactEvent)
    assert parsed.detail.connected_to_system_timestamp is None
    assert parsed.detail.agent_info is not None
    assert parsed.detail.agent_info.connected_to_agent_timestamp is None
    assert parsed.detail.initiation_timestamp == "2023-10-24T02:39:15.154Z"


def test_outbound_without_queue_info_and_disconnected_without_connected_to_system() -> None:
    document = sample("ce02")
    del document["detail"]["queueInfo"], document["detail"]["connectedToSystemTimestamp"]
    parsed = parse_contact_event(_body(document))
    assert isinstance(parsed, ContactEvent)
    assert parsed.detail.queue_info is None
    assert parsed.detail.connected_to_system_timestamp is None


@pytest.mark.parametrize("name", ["ce06", "ce08"])
def test_a_pascal_case_detail_without_instance_arn_cannot_arrive_and_is_rejected_saying_so(name: str) -> None:
    # Given a doc sample printed with PascalCase detail keys: InstanceArn, which the rule's detail.instanceArn misses
    parsed = parse_contact_event(_body(sample(name)))
    # Then it is rejected with that reason
    assert parsed == Rejected(NO_INSTANCE_ARN)


@pytest.mark.parametrize("name", ["ce06", "ce08"])
def test_pascal_case_keys_beside_instance_arn_are_read_as_their_camel_case_twins(name: str) -> None:
    # Given a PascalCase detail that the rule could deliver (BUILT from ce06/ce08: InstanceArn renamed instanceArn)
    document = sample(name)
    document["detail"]["instanceArn"] = document["detail"].pop("InstanceArn")
    # Then its fields are read as their camelCase twins
    parsed = parse_contact_event(_body(document))
    assert isinstance(parsed, ContactEvent)
    detail = parsed.detail
    assert (detail.contact_id, detail.event_type, detail.channel) == (
        "12345678-1234-1234-1234-123456789012",
        "CONNECTED_TO_AGENT",
        "VOICE",
    )
    assert detail.agent_info is not None
    assert detail.agent_info.connected_to_agent_timestamp == "2021-08-04T17:29:09.000Z"
    assert detail.queue_info is not None
    assert detail.queue_info.enqueue_timestamp == "2021-08-04T17:29:04.000Z"


@pytest.mark.parametrize(
    ("name", "spelling"),
    [("ce13", "instanceArn"), ("ce06", "InstanceArn")],
    ids=["camelCase detail", "PascalCase detail"],
)
def test_the_2021_docs_spelling_instance_arn_cannot_arrive_and_is_rejected_saying_so(name: str, spelling: str) -> None:
    # Given a detail whose instance key is spelled as the 2021 contact events pages print it (BUILT from a shared
    # sample by renaming that key: instanceARN, and InstanceARN in the PascalCase samples), which the rule's
    # detail.instanceArn misses
    document = sample(name)
    instance = document["detail"].pop(spelling)
    document["detail"][spelling.removesuffix("Arn") + "ARN"] = instance
    # Then it is rejected with that reason, not guessed at
    assert parse_contact_event(_body(document)) == Rejected(NO_INSTANCE_ARN)


def test_the_current_spelling_wins_over_the_2021_one() -> None:
    document = sample("ce13")
    document["detail"]["instanceARN"] = "arn:aws:connect:eu-west-2:111122223333:instance/other"
    parsed = parse_contact_event(_body(document))
    assert isinstance(parsed, ContactEvent)
    assert parsed.detail.instance_arn == sample("ce13")["detail"]["instanceArn"]


def test_mixed_case_agent_info_of_ce02_is_read() -> None:
    parsed = parse_contact_event(_body(sample("ce02")))
    assert isinstance(parsed, ContactEvent)
    assert parsed.detail.agent_info is not None
    assert parsed.detail.agent_info.agent_arn == "arn"


def test_a_bare_detail_cannot_arrive_and_is_rejected_saying_so() -> None:
    # Given ce01, a detail with no EventBridge envelope (neither the rule nor make replay delivers one)
    parsed = parse_contact_event(_body(sample("ce01")))
    # Then it is rejected with that reason
    assert parsed == Rejected(
        "not a contact event: a detail with no EventBridge envelope (the contact events rule and make replay deliver "
        "whole events)"
    )


def test_unknown_event_types_and_fields_are_accepted() -> None:
    document = sample("ce10")
    document["detail"]["eventType"] = "AMD_DISABLED"
    document["detail"]["someFutureField"] = {"nested": [1, 2]}
    parsed = parse_contact_event(_body(document))
    assert isinstance(parsed, ContactEvent)
    assert parsed.detail.event_type == "AMD_DISABLED"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff\xfe not json", "not JSON"),
        ("[1, 2]", "not a contact event: a JSON list, not an object"),
        ('{"hello": "world"}', "not a contact event: no EventBridge envelope and no contactId/eventType"),
    ],
)
def test_malformed_bodies_are_rejected_with_a_reason(body: str | bytes, reason: str) -> None:
    assert parse_contact_event(body) == Rejected(reason)


def test_another_event_type_on_the_queue_is_rejected_naming_it() -> None:
    document = sample("ce10")
    document["detail-type"] = "Amazon Connect Agent Event"
    parsed = parse_contact_event(_body(document))
    assert isinstance(parsed, Rejected)
    assert parsed.reason.startswith("not a contact event: detail-type 'Amazon Connect Agent Event'")


def test_invalid_detail_is_rejected_naming_the_field_but_not_the_value() -> None:
    document = sample("ce13")
    del document["detail"]["contactId"]
    document["detail"]["initiationTimestamp"] = "+441234567890"
    parsed = parse_contact_event(_body(document))
    assert isinstance(parsed, Rejected)
    assert "detail.contactId: Field required" in parsed.reason
    assert "detail.initiationTimestamp" in parsed.reason
    assert "+441234567890" not in parsed.reason
