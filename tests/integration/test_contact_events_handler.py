"""The contact events function, invoked as Lambda would from the SQS buffer queue, against DynamoDB, SQS and
EventBridge in moto."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from connect_state.handlers import contact_events
from tests import samples
from tests.contact_lifecycles import ABANDONED_2021, FULL, QUEUE, QUEUED_2021, lifecycle
from tests.integration.conftest import ContactPipeline, clear_table, sqs_event, without_updated_at
from tests.lambda_context import FakeLambdaContext


def invoke(event: dict[str, Any], context: FakeLambdaContext) -> dict[str, Any]:
    return contact_events.lambda_handler(event, context)  # type: ignore[no-any-return]


def test_every_shared_sample_lands_in_the_table(
    contact_pipeline: ContactPipeline, lambda_context: FakeLambdaContext
) -> None:
    # Given every contact event sample (doc-only variants included) in one batch
    bodies = [p.read_text() for p in samples.CONTACT_EVENTS]
    response = invoke(sqs_event(*bodies), lambda_context)
    # Then nothing is retried; only the three doc shapes no rule can deliver are quarantined, each with its reason
    # (ce01: no envelope; ce06, ce08: no detail.instanceArn); each other contact has an item
    assert response == {"batchItemFailures": []}
    quarantined = sorted((json.loads(m["raw"]).get("id", ""), m["reason"]) for m in contact_pipeline.quarantined())
    assert [(event_id, reason.split(":")[0]) for event_id, reason in quarantined] == [
        ("", "not a contact event"),
        *[(samples.sample(name)["id"], "not a contact event the rule delivers") for name in ("ce06", "ce08")],
    ]
    items = contact_pipeline.items()
    chat = items["515c5c7e-036e-44f0-baa2-562b6216982a"]  # real ce13-ce15
    assert (chat["status"], chat["channel"], chat["abandoned"]) == ("DISCONNECTED", "CHAT", False)
    assert chat["enqueueTimestamp"] == "2023-01-05T21:24:04.505Z"
    assert chat["updatedAt"].endswith("Z")
    assert items["a56502b2-8565-4227-989a-fa783a6d8dfd"]["queuedSince"] == "2023-01-10T16:34:41.885Z"  # ce16
    shared_id = items["12345678-1234-1234-1234-123456789012"]  # ce07 alone: the rejected ce06/ce08 share its id
    assert (shared_id["status"], "connectedToAgentTimestamp" in shared_id) == ("QUEUED", False)
    # the byQueue index holds the waiting transfer ce16 only
    waiting = boto3.client("dynamodb").query(
        TableName=contact_pipeline.table_name,
        IndexName="byQueue",
        KeyConditionExpression="queueArn = :q",
        ExpressionAttributeValues={":q": {"S": samples.sample("ce16")["detail"]["queueInfo"]["queueArn"]}},
    )["Items"]
    assert [i["contactId"]["S"] for i in waiting] == ["a56502b2-8565-4227-989a-fa783a6d8dfd"]


def test_a_caller_queued_without_enqueue_timestamp_is_in_the_queue_tile_and_its_wait_is_announced(
    contact_pipeline: ContactPipeline, lambda_context: FakeLambdaContext
) -> None:
    # Given a 2021-style inbound call (queueInfo without enqueueTimestamp; built from SCHEMA-NOTES §2.2) now QUEUED
    assert invoke(sqs_event(*QUEUED_2021[::-1]), lambda_context) == {"batchItemFailures": []}
    # Then the wallboard's "in queue" query finds it
    waiting = boto3.client("dynamodb").query(
        TableName=contact_pipeline.table_name,
        IndexName="byQueue",
        KeyConditionExpression="queueArn = :q",
        ExpressionAttributeValues={":q": {"S": QUEUE}},
    )["Items"]
    assert [(i["contactId"]["S"], i["queuedSince"]["S"]) for i in waiting] == [("c-2021", "2025-03-04T09:00:14.000Z")]
    # And when the caller hangs up, Contact Abandoned says how long they waited
    assert invoke(sqs_event(*ABANDONED_2021[3:]), lambda_context) == {"batchItemFailures": []}
    (published,) = contact_pipeline.published()
    assert published["detail"]["queueWaitSeconds"] == 7.123


def test_bad_bodies_are_quarantined_with_a_reason_and_not_retried(
    contact_pipeline: ContactPipeline, lambda_context: FakeLambdaContext
) -> None:
    agent_event = {**samples.sample("ce10"), "detail-type": "Amazon Connect Agent Event"}
    response = invoke(sqs_event("{not json", agent_event, samples.sample("ce11")), lambda_context)
    assert response == {"batchItemFailures": []}
    reasons = sorted(m["reason"] for m in contact_pipeline.quarantined())
    assert reasons[0] == "not JSON"
    assert reasons[1].startswith("not a contact event: detail-type 'Amazon Connect Agent Event'")
    assert set(contact_pipeline.items()) == {"8b6c3e87-a3d5-46d6-b8bf-3aa1def785b2"}


def test_a_quarantined_event_redriven_to_the_buffer_queue_is_applied(
    contact_pipeline: ContactPipeline, lambda_context: FakeLambdaContext
) -> None:
    # Given a valid event that an older, stricter version quarantined (simulated: the quarantine message as written)
    event = samples.sample("ce13")
    quarantined: dict[str, object] = {
        "reason": "invalid contact event: ...",
        "source": "contact-event-rule",
        "origin": {},
    }
    quarantined |= {"raw": json.dumps(event), "rawTruncated": False}
    # When the operator redrives the quarantine queue to the buffer queue
    assert invoke(sqs_event(json.dumps(quarantined)), lambda_context) == {"batchItemFailures": []}
    # Then the event inside is applied, not quarantined again
    assert contact_pipeline.quarantined() == []
    assert contact_pipeline.items()[event["detail"]["contactId"]]["status"] == "QUEUED"


def test_throttled_contact_is_retried_and_the_others_are_applied(
    contact_pipeline: ContactPipeline, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given DynamoDB throttles every write to one contact
    client = contact_events.dependencies().store._client
    real_update = client.update_item

    def throttled(**request: Any) -> Any:
        if request["Key"]["contactId"]["S"] == "515c5c7e-036e-44f0-baa2-562b6216982a":
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "UpdateItem"
            )
        return real_update(**request)

    monkeypatch.setattr(client, "update_item", throttled)
    bodies = [samples.sample(name) for name in ("ce10", "ce13", "ce14", "ce11")]
    response = invoke(sqs_event(*bodies), lambda_context)
    # Then exactly that contact's messages are reported for redelivery
    assert response == {"batchItemFailures": [{"itemIdentifier": "message-1"}, {"itemIdentifier": "message-2"}]}
    assert set(contact_pipeline.items()) == {"8b6c3e87-a3d5-46d6-b8bf-3aa1def785b2"}
    assert contact_pipeline.quarantined() == []


def test_abandoned_contact_is_announced_once_even_when_completed_comes_twice(
    contact_pipeline: ContactPipeline, lambda_context: FakeLambdaContext
) -> None:
    # Given a contact that waited in a queue and hung up (COMPLETED built, not captured), delivered out of order
    events = lifecycle("c-abandoned", ("INITIATED", "CONNECTED_TO_SYSTEM", "QUEUED", "DISCONNECTED", "COMPLETED"))
    completed = events[4]
    assert invoke(sqs_event(events[4], events[0], events[3]), lambda_context) == {"batchItemFailures": []}
    # When COMPLETED comes again, in a later batch and in a new container (nothing cached)
    contact_events.dependencies.reset()
    assert invoke(sqs_event(events[1], events[2], completed), lambda_context) == {"batchItemFailures": []}
    assert invoke(sqs_event(completed), lambda_context) == {"batchItemFailures": []}
    # Then one Contact Abandoned event was published, with where and when the customer gave up
    (published,) = contact_pipeline.published()
    assert (published["source"], published["detail-type"]) == ("connect-realtime-state", "Contact Abandoned")
    detail = published["detail"]
    assert (detail["contactId"], detail["queueArn"], detail["channel"]) == ("c-abandoned", QUEUE, "VOICE")
    assert detail["enqueueTimestamp"] < detail["disconnectTimestamp"]
    item = contact_pipeline.items()["c-abandoned"]
    assert (item["status"], item["abandoned"]) == ("COMPLETED", True)
    assert "abandonedEventPublishedAt" in item
    assert "abandonedEventClaim" not in item


def test_failed_publication_releases_the_claim_and_is_retried(
    contact_pipeline: ContactPipeline, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = lifecycle("c-abandoned", ("QUEUED", "DISCONNECTED", "COMPLETED"))
    publisher = contact_events.dependencies().publisher

    def unavailable(*args: Any) -> None:
        raise ClientError({"Error": {"Code": "InternalException", "Message": "down"}}, "PutEvents")

    monkeypatch.setattr(publisher, "publish", unavailable)
    response = invoke(sqs_event(*events), lambda_context)
    assert response == {"batchItemFailures": [{"itemIdentifier": f"message-{i}"} for i in range(3)]}
    assert "abandonedEventClaim" not in contact_pipeline.items()["c-abandoned"]
    # When EventBridge is back and SQS redelivers
    monkeypatch.undo()
    assert invoke(sqs_event(*events), lambda_context) == {"batchItemFailures": []}
    assert len(contact_pipeline.published()) == 1


def test_answered_contact_is_not_announced(
    contact_pipeline: ContactPipeline, lambda_context: FakeLambdaContext
) -> None:
    events = lifecycle("c-answered", FULL)
    assert invoke(sqs_event(*events), lambda_context) == {"batchItemFailures": []}
    assert contact_pipeline.published() == []
    assert contact_pipeline.items()["c-answered"]["afterContactWorkDuration"] == 7


def test_one_dynamodb_request_per_contact_per_batch(
    contact_pipeline: ContactPipeline, lambda_context: FakeLambdaContext
) -> None:
    # Given 3 contacts' lifecycles split over two batches handled by the same container
    contacts = [lifecycle(f"c-{n}", FULL) for n in range(3)]
    store = contact_events.dependencies().store
    invoke(sqs_event(*[e for events in contacts for e in events[:3]]), lambda_context)
    assert store.requests == 3
    invoke(sqs_event(*[e for events in contacts for e in events[3:]]), lambda_context)
    # Then each batch costs one conditional write per contact, and the items are complete
    assert store.requests == 6
    assert {item["status"] for item in contact_pipeline.items().values()} == {"COMPLETED"}


def test_redelivered_batch_changes_nothing_for_one_conditional_write(
    contact_pipeline: ContactPipeline, lambda_context: FakeLambdaContext
) -> None:
    body = samples.sample("ce14")
    invoke(sqs_event(body), lambda_context)
    before = {cid: without_updated_at(item) for cid, item in contact_pipeline.items().items()}
    store = contact_events.dependencies().store
    requests = store.requests
    assert invoke(sqs_event(body, body), lambda_context) == {"batchItemFailures": []}
    # The write only checks that the item is still what this container remembers; the cache never skips it
    assert store.requests == requests + 1
    assert {cid: without_updated_at(item) for cid, item in contact_pipeline.items().items()} == before


def test_a_rebuild_on_a_warm_container_writes_every_item_again(
    contact_pipeline: ContactPipeline, lambda_context: FakeLambdaContext
) -> None:
    # Given 16 contacts' events (96 in all) applied by a container that stays warm
    events = [e for n in range(16) for e in lifecycle(f"c-{n}", FULL)]
    for start in range(0, len(events), 10):
        assert invoke(sqs_event(*events[start : start + 10]), lambda_context) == {"batchItemFailures": []}
    before = {cid: without_updated_at(item) for cid, item in contact_pipeline.items().items()}
    assert len(before) == 16
    # When the table is cleared and the archive replayed, through the same warm container
    clear_table(contact_pipeline.table_name, "contactId")
    for start in range(0, len(events), 10):
        assert invoke(sqs_event(*events[start : start + 10]), lambda_context) == {"batchItemFailures": []}
    # Then every item is back, exactly as before
    assert {cid: without_updated_at(item) for cid, item in contact_pipeline.items().items()} == before
