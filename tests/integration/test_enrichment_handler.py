"""The enrichment function as Lambda runs it: messages polled from real (moto) SQS queues with their receive counts,
the contact table and call-slot table in moto, DescribeContact faked with botocore's Stubber (moto does not implement
it; the Stubber checks every answer against botocore's response shape)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from connect_state.handlers import contact_events, enrichment
from tests import describe_contact
from tests.contact_lifecycles import FULL, lifecycle
from tests.factories import INSTANCE
from tests.integration.conftest import EnrichmentPipeline, sqs_event
from tests.lambda_context import FakeLambdaContext
from tests.samples import sample

INSTANCE_ID = INSTANCE.rsplit("/", 1)[-1]
VOICE = lifecycle("c-voice", FULL)  # BUILT: no public COMPLETED sample exists
IVR = lifecycle("c-ivr", ("INITIATED", "CONNECTED_TO_SYSTEM", "DISCONNECTED", "COMPLETED"), queue=False)
CHAT = [sample(f"ce{n}") for n in range(10, 16)]  # a real chat: INITIATED … DISCONNECTED, no COMPLETED
CHAT_DISCONNECTED = CHAT[-1]
BOOKKEEPING = {"updatedAt", "enrichedAt"}  # processing times


def expect_describe(pipeline: EnrichmentPipeline, event: dict[str, Any], **answer: Any) -> None:
    detail = event["detail"]
    pipeline.stubber.add_response(
        "describe_contact",
        describe_contact.answer(event, **answer),
        {"InstanceId": detail["instanceArn"].rsplit("/", 1)[-1], "ContactId": detail["contactId"]},
    )


def expect_error(pipeline: EnrichmentPipeline, code: str, status: int) -> None:
    pipeline.stubber.add_client_error("describe_contact", service_error_code=code, http_status_code=status)


def completed_while_failing(pipeline: EnrichmentPipeline, code: str, status: int, times: int) -> str:
    """VOICE's COMPLETED sent to the completed queue, and DescribeContact failing with `code` for the next `times`
    calls; returns the queue."""
    pipeline.send(pipeline.completed_url, VOICE[-1])
    for _ in range(times):
        expect_error(pipeline, code, status)
    return pipeline.completed_url


def deliver(pipeline: EnrichmentPipeline, queue_url: str, context: FakeLambdaContext) -> dict[str, Any]:
    """One poll of the queue into one invocation; Lambda then deletes what succeeded."""
    event = pipeline.poll(queue_url)
    assert event["Records"], "a message was expected to be visible"
    response: dict[str, Any] = enrichment.lambda_handler(event, context)
    pipeline.settle(queue_url, event, response)
    pipeline.last_event = event
    return response


def let_backoff_pass(pipeline: EnrichmentPipeline, queue_url: str) -> None:
    """The postponed message is invisible until its backoff ends; the test moves time on by ending it now."""
    assert pipeline.poll(queue_url)["Records"] == [], "a postponed message must stay invisible during its backoff"
    for record in pipeline.last_event["Records"]:
        boto3.client("sqs").change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
        )


def apply_contact_events(events: list[dict[str, Any]], context: FakeLambdaContext) -> None:
    assert contact_events.lambda_handler(sqs_event(*events), context) == {"batchItemFailures": []}


def test_a_voice_contact_with_acw_is_enriched_once(
    enrichment_pipeline: EnrichmentPipeline, lambda_context: FakeLambdaContext
) -> None:
    # Given a voice contact's events applied, and its COMPLETED on the trigger queue
    apply_contact_events(VOICE, lambda_context)
    enrichment_pipeline.send(enrichment_pipeline.completed_url, VOICE[-1])
    expect_describe(enrichment_pipeline, VOICE[-1], acw_seconds=7, hold_seconds=12)
    # When the function handles it
    response = deliver(enrichment_pipeline, enrichment_pipeline.completed_url, lambda_context)
    # Then the item carries what only the API knows, and the ACW fields agree with the COMPLETED event
    assert response == {"batchItemFailures": []}
    item = enrichment_pipeline.contacts.items()["c-voice"]
    agent = VOICE[-1]["detail"]["agentInfo"]
    assert item["status"] == "COMPLETED"
    assert item["enrichmentStatus"] == "ENRICHED"
    assert "enrichmentTrigger" not in item  # which trigger ran first is processing order, not the contact
    assert item["disconnectReason"] == "CUSTOMER_DISCONNECT"
    assert item["afterContactWorkStartTimestamp"] == agent["afterContactWorkStartTimestamp"]
    assert item["afterContactWorkEndTimestamp"] == agent["afterContactWorkEndTimestamp"]
    assert (item["afterContactWorkDuration"], item["agentInitiatedHoldDuration"]) == (7, 12)
    assert [r["status"] for r in item["recordings"]] == ["AVAILABLE"]
    assert describe_contact.CUSTOMER_PHONE not in json.dumps(item, default=str)
    assert enrichment_pipeline.slots_claimed() == 1
    # And a duplicate COMPLETED, and the DISCONNECTED fallback 15 minutes later, cost no call (the Stubber has no
    # answer left: a call would fail the message)
    enrichment_pipeline.send(enrichment_pipeline.completed_url, VOICE[-1])
    enrichment_pipeline.send(enrichment_pipeline.disconnected_url, VOICE[-2])
    assert deliver(enrichment_pipeline, enrichment_pipeline.completed_url, lambda_context) == {"batchItemFailures": []}
    assert deliver(enrichment_pipeline, enrichment_pipeline.disconnected_url, lambda_context) == {
        "batchItemFailures": []
    }
    enrichment_pipeline.stubber.assert_no_pending_responses()
    assert enrichment_pipeline.slots_claimed() == 1


def test_enrichment_before_the_contact_events_gives_the_same_item(
    enrichment_pipeline: EnrichmentPipeline, lambda_context: FakeLambdaContext
) -> None:
    # Given the enrichment lands first (the COMPLETED reached the trigger queue before the contact state)
    enrichment_pipeline.send(enrichment_pipeline.completed_url, VOICE[-1])
    expect_describe(enrichment_pipeline, VOICE[-1], acw_seconds=7, hold_seconds=12)
    deliver(enrichment_pipeline, enrichment_pipeline.completed_url, lambda_context)
    first = enrichment_pipeline.contacts.items()["c-voice"]
    assert "revision" not in first
    assert first["ttl"] > 0
    # When the contact events follow
    apply_contact_events(VOICE, lambda_context)
    # Then the item is what the other order gives
    after = {k: v for k, v in enrichment_pipeline.contacts.items()["c-voice"].items() if k not in BOOKKEEPING}
    boto3.client("dynamodb").delete_item(TableName="contact-state", Key={"contactId": {"S": "c-voice"}})
    contact_events.dependencies.reset()  # a new container: it never saw the deleted item
    apply_contact_events(VOICE, lambda_context)
    enrichment_pipeline.send(enrichment_pipeline.completed_url, VOICE[-1])
    expect_describe(enrichment_pipeline, VOICE[-1], acw_seconds=7, hold_seconds=12)
    deliver(enrichment_pipeline, enrichment_pipeline.completed_url, lambda_context)
    before = {k: v for k, v in enrichment_pipeline.contacts.items()["c-voice"].items() if k not in BOOKKEEPING}
    assert after == before


@pytest.mark.parametrize("enrichment_first", [False, True], ids=["events first", "enrichment first"])
def test_where_the_completed_event_and_describe_contact_disagree_the_event_wins_in_either_order(
    enrichment_pipeline: EnrichmentPipeline, lambda_context: FakeLambdaContext, enrichment_first: bool
) -> None:
    # Given a COMPLETED event saying 7 s of ACW and 12 s of hold, and a DescribeContact answer saying 9 s and 20 s
    # (no public capture shows both for one contact, so nothing says they always agree)
    enrichment_pipeline.send(enrichment_pipeline.completed_url, VOICE[-1])
    expect_describe(enrichment_pipeline, VOICE[-1], acw_seconds=9, hold_seconds=20)
    # When the enrichment lands before or after the contact events
    if not enrichment_first:
        apply_contact_events(VOICE, lambda_context)
    assert deliver(enrichment_pipeline, enrichment_pipeline.completed_url, lambda_context) == {"batchItemFailures": []}
    if enrichment_first:
        apply_contact_events(VOICE, lambda_context)
    # Then the event's values stand, and what only DescribeContact knows is added
    item = enrichment_pipeline.contacts.items()["c-voice"]
    agent = VOICE[-1]["detail"]["agentInfo"]
    assert (item["afterContactWorkDuration"], item["agentInitiatedHoldDuration"]) == (7, 12)
    assert item["afterContactWorkEndTimestamp"] == agent["afterContactWorkEndTimestamp"]
    assert (item["enrichmentStatus"], item["disconnectReason"]) == ("ENRICHED", "CUSTOMER_DISCONNECT")


def test_a_chat_without_completed_is_enriched_by_the_fallback_then_completed_finishes_it(
    enrichment_pipeline: EnrichmentPipeline, lambda_context: FakeLambdaContext
) -> None:
    # Given a real chat that disconnected and never sent COMPLETED (its agent went offline in ACW)
    apply_contact_events(CHAT, lambda_context)
    contact_id = CHAT_DISCONNECTED["detail"]["contactId"]
    enrichment_pipeline.send(enrichment_pipeline.disconnected_url, CHAT_DISCONNECTED)
    expect_describe(enrichment_pipeline, CHAT_DISCONNECTED, acw_seconds=300, acw_open=True)
    # When the delayed DISCONNECTED reaches the function
    assert deliver(enrichment_pipeline, enrichment_pipeline.disconnected_url, lambda_context) == {
        "batchItemFailures": []
    }
    # Then the contact is enriched as far as the API knows: ACW started, not ended
    item = enrichment_pipeline.contacts.items()[contact_id]
    assert (item["status"], item["enrichmentStatus"]) == ("DISCONNECTED", "ACW_IN_PROGRESS")
    assert item["afterContactWorkStartTimestamp"] == "2023-01-05T21:25:47.394Z"
    assert "afterContactWorkEndTimestamp" not in item
    # And if COMPLETED does come after all, it completes the enrichment
    completed = json.loads(json.dumps(CHAT_DISCONNECTED))
    completed["id"] = "built-completed-of-ce15"
    completed["detail"]["eventType"] = "COMPLETED"
    enrichment_pipeline.send(enrichment_pipeline.completed_url, completed)
    expect_describe(enrichment_pipeline, completed, acw_seconds=300)
    deliver(enrichment_pipeline, enrichment_pipeline.completed_url, lambda_context)
    item = enrichment_pipeline.contacts.items()[contact_id]
    assert (item["enrichmentStatus"], item["afterContactWorkDuration"]) == ("ENRICHED", 300)
    assert item["afterContactWorkEndTimestamp"] == "2023-01-05T21:30:47.394Z"


def test_an_ivr_only_contact_gets_its_disconnect_reason(
    enrichment_pipeline: EnrichmentPipeline, lambda_context: FakeLambdaContext
) -> None:
    apply_contact_events(IVR, lambda_context)
    enrichment_pipeline.send(enrichment_pipeline.completed_url, IVR[-1])
    expect_describe(enrichment_pipeline, IVR[-1], disconnect_reason="CONTACT_FLOW_DISCONNECT")
    deliver(enrichment_pipeline, enrichment_pipeline.completed_url, lambda_context)
    item = enrichment_pipeline.contacts.items()["c-ivr"]
    assert (item["enrichmentStatus"], item["disconnectReason"]) == ("ENRICHED", "CONTACT_FLOW_DISCONNECT")
    assert not {"afterContactWorkDuration", "recordings", "agentArn"} & item.keys()


def test_throttled_three_times_then_enriched(
    enrichment_pipeline: EnrichmentPipeline, lambda_context: FakeLambdaContext
) -> None:
    # Given DescribeContact throttles three times, then answers
    queue = completed_while_failing(enrichment_pipeline, "ThrottlingException", 429, times=3)
    expect_describe(enrichment_pipeline, VOICE[-1], acw_seconds=7)
    # When the message is delivered, fails and comes back after each backoff
    for attempt in range(1, 4):
        response = deliver(enrichment_pipeline, queue, lambda_context)
        assert [r["attributes"]["ApproximateReceiveCount"] for r in enrichment_pipeline.last_event["Records"]] == [
            str(attempt)
        ]
        assert len(response["batchItemFailures"]) == 1
        let_backoff_pass(enrichment_pipeline, queue)
    # Then the fourth delivery enriches it, with four calls in all, and nothing is dead-lettered
    assert deliver(enrichment_pipeline, queue, lambda_context) == {"batchItemFailures": []}
    assert enrichment_pipeline.contacts.items()["c-voice"]["enrichmentStatus"] == "ENRICHED"
    enrichment_pipeline.stubber.assert_no_pending_responses()
    assert enrichment_pipeline.dead_letters() == []
    assert enrichment_pipeline.poll(queue)["Records"] == []


def test_a_contact_never_found_is_recorded_as_not_found_and_not_retried_forever(
    enrichment_pipeline: EnrichmentPipeline, lambda_context: FakeLambdaContext
) -> None:
    # Given DescribeContact never knows the contact
    queue = completed_while_failing(enrichment_pipeline, "ResourceNotFoundException", 404, times=5)
    # When it is delivered five times (NOT_FOUND_ATTEMPTS), backing off in between
    for _ in range(4):
        assert len(deliver(enrichment_pipeline, queue, lambda_context)["batchItemFailures"]) == 1
        let_backoff_pass(enrichment_pipeline, queue)
    assert deliver(enrichment_pipeline, queue, lambda_context) == {"batchItemFailures": []}
    # Then the contact says NOT_FOUND, the message is gone, and nothing is dead-lettered
    item = enrichment_pipeline.contacts.items()["c-voice"]
    assert item["enrichmentStatus"] == "NOT_FOUND"
    assert enrichment_pipeline.poll(queue)["Records"] == []
    assert enrichment_pipeline.dead_letters() == []
    enrichment_pipeline.stubber.assert_no_pending_responses()


@pytest.mark.parametrize(("code", "status"), [("ThrottlingException", 429), ("InternalServiceException", 500)])
def test_an_api_failing_every_attempt_dead_letters_the_message_with_its_reason(
    enrichment_pipeline: EnrichmentPipeline, lambda_context: FakeLambdaContext, code: str, status: int
) -> None:
    queue = completed_while_failing(enrichment_pipeline, code, status, times=8)
    for _ in range(7):
        assert len(deliver(enrichment_pipeline, queue, lambda_context)["batchItemFailures"]) == 1
        let_backoff_pass(enrichment_pipeline, queue)
    # The eighth failure (MAX_ATTEMPTS) sends it to the dead-letter queue, with the reason, and deletes it
    assert deliver(enrichment_pipeline, queue, lambda_context) == {"batchItemFailures": []}
    [dead] = enrichment_pipeline.dead_letters()
    assert dead["reason"] == f"DescribeContact failed 8 times, last with {code}"
    assert json.loads(dead["raw"])["detail"]["contactId"] == "c-voice"
    assert "enrichmentStatus" not in enrichment_pipeline.contacts.items().get("c-voice", {})


def test_bad_messages_go_to_the_dead_letter_queue_at_once_with_a_reason(
    enrichment_pipeline: EnrichmentPipeline, lambda_context: FakeLambdaContext
) -> None:
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=enrichment_pipeline.completed_url, MessageBody="not json")
    enrichment_pipeline.send(enrichment_pipeline.completed_url, VOICE[2])  # a QUEUED event: not a trigger
    assert deliver(enrichment_pipeline, enrichment_pipeline.completed_url, lambda_context) == {"batchItemFailures": []}
    reasons = sorted(dead["reason"] for dead in enrichment_pipeline.dead_letters())
    assert reasons == ["not JSON", "not an enrichment trigger: eventType 'QUEUED'"]
    assert enrichment_pipeline.slots_claimed() == 0


def test_a_dead_letter_redriven_to_its_queue_is_enriched(
    enrichment_pipeline: EnrichmentPipeline, lambda_context: FakeLambdaContext
) -> None:
    # Given a message dead-lettered after 8 throttles (attempts exhausted on the first delivery for brevity)
    event = enrichment_pipeline.poll(completed_while_failing(enrichment_pipeline, "ThrottlingException", 429, times=1))
    event["Records"][0]["attributes"]["ApproximateReceiveCount"] = "8"
    enrichment.lambda_handler(event, lambda_context)
    enrichment_pipeline.settle(enrichment_pipeline.completed_url, event, {"batchItemFailures": []})
    [dead] = enrichment_pipeline.dead_letters()
    # When the operator redrives the dead-letter queue to the completed queue, once the quota is back
    boto3.client("sqs").send_message(QueueUrl=enrichment_pipeline.completed_url, MessageBody=json.dumps(dead))
    expect_describe(enrichment_pipeline, VOICE[-1], acw_seconds=7)
    # Then the original event inside it is enriched
    assert deliver(enrichment_pipeline, enrichment_pipeline.completed_url, lambda_context) == {"batchItemFailures": []}
    assert enrichment_pipeline.contacts.items()["c-voice"]["enrichmentStatus"] == "ENRICHED"
