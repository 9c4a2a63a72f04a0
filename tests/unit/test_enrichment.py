"""DescribeContact enrichment, pure: what an answer adds to the contact item, which answer wins, when a call is
needed, and the backoff. The rate gate: tests/unit/test_rate_gate.py."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from connect_state.domain import enrichment
from connect_state.domain.enrichment import EnrichmentRequest, EnrichmentStatus, Trigger
from tests import describe_contact
from tests.contact_lifecycles import FULL, lifecycle
from tests.samples import sample

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
VOICE = lifecycle("c-voice", FULL)[-1]  # COMPLETED (built: no public sample exists)
IVR = lifecycle("c-ivr", ("INITIATED", "CONNECTED_TO_SYSTEM", "DISCONNECTED", "COMPLETED"), queue=False)[-1]
CHAT_DISCONNECTED = sample("ce15")  # real chat detail, DISCONNECTED


def request(event: dict[str, Any]) -> EnrichmentRequest:
    detail = event["detail"]
    built = enrichment.request_for(detail["contactId"], detail["instanceArn"], detail["eventType"])
    assert built is not None
    return built


def enriched(event: dict[str, Any], **answer: Any) -> enrichment.Enrichment:
    contact = describe_contact.answer(event, **answer)["Contact"]
    return enrichment.from_answer(request(event), contact, NOW)


def test_a_voice_contact_with_acw_gets_the_acw_hold_reason_and_recording() -> None:
    # Given the answer for a voice contact whose agent did 7 s of after-contact work and held 12 s
    result = enriched(VOICE, acw_seconds=7, hold_seconds=12)
    # Then every field is in the state's form, and ACW starts at the disconnect
    disconnect = VOICE["detail"]["disconnectTimestamp"]
    assert result.status is EnrichmentStatus.ENRICHED
    assert result.fields["afterContactWorkStartTimestamp"] == disconnect
    assert result.fields["afterContactWorkEndTimestamp"] == "2025-03-04T09:00:35.123Z"
    assert (result.fields["afterContactWorkDuration"], result.fields["agentInitiatedHoldDuration"]) == (7, 12)
    assert result.fields["disconnectReason"] == "CUSTOMER_DISCONNECT"
    [recording] = result.fields["recordings"]
    assert recording == {
        "location": "connect-recordings/c-voice_20250304T0900_UTC.wav",
        "status": "AVAILABLE",
        "storageType": "S3",
        "mediaStreamType": "AUDIO",
        "participantType": "ALL",
        "startTimestamp": VOICE["detail"]["agentInfo"]["connectedToAgentTimestamp"],
        "stopTimestamp": disconnect,
    }
    assert result.initiation_timestamp == VOICE["detail"]["initiationTimestamp"]


def test_customer_and_system_endpoints_are_never_read() -> None:
    # Given an answer whose endpoints hold phone numbers
    result = enriched(VOICE, acw_seconds=7)
    # Then nothing of them is in the enrichment
    text = json.dumps([result.fields, result.version, result.enriched_at], default=str)
    assert describe_contact.CUSTOMER_PHONE not in text
    assert describe_contact.SYSTEM_PHONE not in text


def test_an_ivr_only_contact_has_a_reason_but_no_agent_fields() -> None:
    result = enriched(IVR, disconnect_reason="CONTACT_FLOW_DISCONNECT")
    assert result.status is EnrichmentStatus.ENRICHED
    assert result.fields == {"disconnectReason": "CONTACT_FLOW_DISCONNECT"}


def test_a_chat_still_in_acw_after_the_fallback_delay_is_acw_in_progress() -> None:
    # Given the real chat's DISCONNECTED (no COMPLETED ever came) and an answer with ACW started, not ended
    result = enriched(CHAT_DISCONNECTED, acw_seconds=60, acw_open=True)
    # Then the start is kept, and the status says more may come
    assert result.status is EnrichmentStatus.ACW_IN_PROGRESS
    assert result.fields["afterContactWorkStartTimestamp"] == "2023-01-05T21:25:47.394Z"
    assert "afterContactWorkEndTimestamp" not in result.fields
    assert "recordings" not in result.fields  # chats have transcripts, not recordings


def test_the_fallback_is_final_when_acw_has_ended() -> None:
    assert enriched(CHAT_DISCONNECTED, acw_seconds=60).status is EnrichmentStatus.ENRICHED


def test_versions_order_not_found_then_acw_in_progress_then_enriched_then_newer_answers() -> None:
    missing = enrichment.not_found(request(VOICE), NOW)
    open_acw = enriched(CHAT_DISCONNECTED, acw_seconds=60, acw_open=True)
    final = enriched(CHAT_DISCONNECTED, acw_seconds=60)
    newer = enriched(CHAT_DISCONNECTED, acw_seconds=90)  # a later LastUpdateTimestamp
    assert missing.status is EnrichmentStatus.NOT_FOUND
    assert missing.version < open_acw.version < final.version < newer.version


@pytest.mark.parametrize(
    ("trigger", "stored", "call"),
    [
        (Trigger.COMPLETED, None, True),
        (Trigger.COMPLETED, "NOT_FOUND", True),  # COMPLETED may find what the fallback did not
        (Trigger.COMPLETED, "ACW_IN_PROGRESS", True),  # ... and the end of ACW
        (Trigger.COMPLETED, "ENRICHED", False),  # a duplicate COMPLETED costs no call
        (Trigger.DISCONNECTED, None, True),  # the fallback: COMPLETED never came
        (Trigger.DISCONNECTED, "ENRICHED", False),
        (Trigger.DISCONNECTED, "NOT_FOUND", False),
        (Trigger.DISCONNECTED, "ACW_IN_PROGRESS", False),
    ],
)
def test_a_call_is_made_only_when_it_can_add_something(trigger: Trigger, stored: str | None, call: bool) -> None:
    assert enrichment.needs_call(EnrichmentRequest("c", "i", trigger), stored) is call


def test_only_completed_and_disconnected_ask_for_enrichment() -> None:
    assert enrichment.request_for("c", "arn:aws:connect:eu-west-2:1:instance/abc", "QUEUED") is None
    built = enrichment.request_for("c", "arn:aws:connect:eu-west-2:1:instance/abc", "COMPLETED")
    assert built == EnrichmentRequest("c", "abc", Trigger.COMPLETED)


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    jitter = random.Random(7)
    delays = [enrichment.retry_delay_seconds(attempt, 30, 900, jitter) for attempt in range(1, 9)]
    steps = [30, 60, 120, 240, 480, 900, 900, 900]
    assert all(step // 2 <= delay <= step for delay, step in zip(delays, steps, strict=True))
    assert len(set(delays)) > 1
