"""Order independence through the real DynamoDB expressions (moto), not only through the in-memory fake:
- the agent writer's compare-and-set convergence cases of tests/unit/test_agent_state_properties.py, run against the
  DynamoDB store, so the fake is shown to behave like the real thing (rebuilds included: the table cleared mid-stream);
- contact events and the two enrichment triggers (COMPLETED, and the delayed DISCONNECTED fallback) delivered in any
  order, duplicated, with whatever DescribeContact answered each trigger: every attribute but the `*At` ones and `ttl`
  is the same item. Example counts are modest: each example builds its tables in moto.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from connect_state.adapters.agent_state_store import DynamoDBAgentStateStore
from connect_state.adapters.contact_state_store import DynamoDBContactStateStore
from connect_state.domain.enrichment import Trigger
from connect_state.service import contact_events
from connect_state.service.coalescing import LruCache
from connect_state.service.contact_events import ContactStateWriter, QueueMessage
from connect_state.service.enrichment import EnrichmentBatch, EnrichmentMessage, RetryPolicy
from connect_state.service.ports import ContactNotFoundError
from connect_state.service.rate_gate import RateGate
from tests import describe_contact
from tests.agent_sessions import REAL_SAMPLES, Record, agent_sessions, converge
from tests.contact_lifecycles import ABANDONED_2021, FULL, lifecycle
from tests.enrichment_burst import FakeClock
from tests.fakes import InMemoryCallSlots, InMemoryQuarantine, RecordingMessageRetry
from tests.integration.conftest import clear_table, create_agent_table, create_contact_table
from tests.samples import sample

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TTL_DAYS = 90
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
_deserializer = TypeDeserializer()


@cache
def dynamodb() -> DynamoDBClient:
    """One client for every example: moto intercepts it inside each example's mock_aws (making a client is slow)."""
    return boto3.client("dynamodb")


def stored_items(table_name: str, key: str) -> dict[str, dict[str, Any]]:
    items = dynamodb().scan(TableName=table_name, ConsistentRead=True)["Items"]
    return {item[key]["S"]: {name: _deserializer.deserialize(value) for name, value in item.items()} for item in items}


# Slow: the in-memory twin (tests/unit/test_agent_state_properties.py) runs in the fast loop; CI runs this one too.
@pytest.mark.slow
@settings(max_examples=20, deadline=None)
@given(data=st.data(), records=st.one_of(agent_sessions(), st.just(REAL_SAMPLES)))
def test_agent_conditional_writes_converge_on_dynamodb(data: st.DataObject, records: list[Record]) -> None:
    with mock_aws():
        table = create_agent_table(dynamodb())
        store = DynamoDBAgentStateStore(dynamodb(), table)
        converge(
            data,
            records,
            store,
            lambda: clear_table(table, "agentArn", dynamodb()),
            lambda: stored_items(table, "agentArn"),
        )


# What a delivery is: a contact event for the state, or one for an enrichment trigger queue.
Delivery = tuple[str, dict[str, Any]]
ENRICHED_LIFECYCLES = {
    "answered, with after-contact work": lifecycle("c-acw", FULL),
    "abandoned in queue": lifecycle(
        "c-abandoned", ("INITIATED", "CONNECTED_TO_SYSTEM", "QUEUED", "DISCONNECTED", "COMPLETED")
    ),
    "real chat, no COMPLETED ever": [sample(f"ce{n}") for n in (13, 14, 15)],
    "2021-style, no enqueueTimestamp": ABANDONED_2021,
}


class AnsweringApi:
    """DescribeContact as it answers at the moment each trigger asks (BUILT answers, see tests/describe_contact)."""

    def __init__(self, answers: Mapping[Trigger, Mapping[str, Any] | None]) -> None:
        self.answers = answers
        self.asking: Trigger | None = None

    def describe_contact(self, instance_id: str, contact_id: str) -> Mapping[str, Any]:
        assert self.asking is not None
        answer = self.answers[self.asking]
        if answer is None:
            raise ContactNotFoundError("ResourceNotFoundException")
        return answer


class RecordingPublisher:
    def __init__(self) -> None:
        self.published: list[Mapping[str, Any]] = []

    def publish(self, detail_type: str, detail: Mapping[str, Any], resources: list[str]) -> None:
        self.published.append(detail)


def deliveries_of(events: Sequence[dict[str, Any]]) -> list[Delivery]:
    """The contact events, then the copies the enrichment rules send to the trigger queues in the order they usually
    reach the function: COMPLETED at once, the DISCONNECTED fallback after its 15-minute delay."""
    triggers = [
        ("trigger", e) for kind in ("COMPLETED", "DISCONNECTED") for e in events if e["detail"]["eventType"] == kind
    ]
    return [("event", e) for e in events] + triggers


def answers_for(events: Sequence[dict[str, Any]], fallback: str) -> dict[Trigger, Mapping[str, Any] | None]:
    """COMPLETED is asked after ACW ended; the fallback, 15 minutes after DISCONNECTED, may find ACW still open, or
    the contact not there yet."""
    disconnected = next(e for e in events if e["detail"]["eventType"] == "DISCONNECTED")
    final = describe_contact.answer(disconnected, acw_seconds=7, hold_seconds=12)["Contact"]
    early = describe_contact.answer(disconnected, acw_seconds=7, acw_open=True, hold_seconds=12)["Contact"]
    return {Trigger.COMPLETED: final, Trigger.DISCONNECTED: {"final": final, "open": early, "missing": None}[fallback]}


def run(deliveries: Sequence[Delivery], cuts: Sequence[int], api: AnsweringApi) -> tuple[dict[str, Any], int]:
    """Deliver in this order through one container of each function; contact events between two cuts (or two
    triggers) form one SQS batch. Returns the item without `*At` attributes and `ttl`, and the announcements."""
    with mock_aws():
        table = create_contact_table(dynamodb())
        store = DynamoDBContactStateStore(dynamodb(), table)
        publisher = RecordingPublisher()
        writer = ContactStateWriter(store, publisher, TTL_DAYS, LruCache())
        clock = FakeClock(NOW.timestamp())
        gate = RateGate(InMemoryCallSlots(), 100, clock.time, clock.sleep)
        pending: list[dict[str, Any]] = []

        def apply_pending() -> None:
            messages = [QueueMessage(str(index), json.dumps(event), {}) for index, event in enumerate(pending)]
            assert contact_events.process(messages, writer, InMemoryQuarantine(), lambda: NOW).failed == []
            pending.clear()

        for position, (kind, event) in enumerate(deliveries):
            if position in cuts and pending:
                apply_pending()
            if kind == "event":
                pending.append(event)
                continue
            apply_pending()
            api.asking = Trigger(event["detail"]["eventType"])
            enrichment = EnrichmentBatch(
                api,
                store,
                gate,
                InMemoryQuarantine(),
                RecordingMessageRetry(),
                TTL_DAYS,
                RetryPolicy(max_attempts=8, not_found_attempts=1),
                clock.time,
            )
            report = enrichment.process([EnrichmentMessage(json.dumps(event), 1, "queue", "handle", "message")])
            assert report.failed == []
        apply_pending()
        (item,) = stored_items(table, "contactId").values()
        return {k: v for k, v in item.items() if not k.endswith("At") and k != "ttl"}, len(publisher.published)


@cache
def in_order(name: str, fallback: str) -> tuple[dict[str, Any], int]:
    events = ENRICHED_LIFECYCLES[name]
    return run(deliveries_of(events), [], AnsweringApi(answers_for(events, fallback)))


@settings(max_examples=25, deadline=None)
@given(
    data=st.data(),
    name=st.sampled_from(sorted(ENRICHED_LIFECYCLES)),
    fallback=st.sampled_from(["final", "open", "missing"]),
)
def test_contact_events_and_enrichment_triggers_in_any_order_give_the_same_item(
    data: st.DataObject, name: str, fallback: str
) -> None:
    # Given a contact's events, the triggers the enrichment rules make of them, and what DescribeContact answers each
    events = ENRICHED_LIFECYCLES[name]
    expected, announced = in_order(name, fallback)
    # When they are delivered in any order, some twice (the fallback may reach the function before COMPLETED)
    deliveries = deliveries_of(events)
    repeated = data.draw(st.lists(st.sampled_from(deliveries), max_size=3))
    shuffled = data.draw(st.permutations(deliveries + repeated))
    cuts = data.draw(st.lists(st.integers(1, len(shuffled) - 1), max_size=3))
    item, announced_shuffled = run(shuffled, cuts, AnsweringApi(answers_for(events, fallback)))
    # Then every attribute but the *At ones and ttl is the same, and an abandoned contact is announced once
    assert item == expected
    assert announced_shuffled == announced == (1 if expected["abandoned"] else 0)


@pytest.mark.parametrize("fallback", ["final", "open", "missing"])
def test_the_fallback_reaching_the_function_before_completed_gives_the_same_item(fallback: str) -> None:
    # Given an answered voice contact whose events are all applied
    name = "answered, with after-contact work"
    events = ENRICHED_LIFECYCLES[name]
    deliveries = deliveries_of(events)
    contact_events = [d for d in deliveries if d[0] == "event"]
    triggers = {d[1]["detail"]["eventType"]: d for d in deliveries if d[0] == "trigger"}
    # When the delayed DISCONNECTED fallback reaches the enrichment function before COMPLETED does
    item, announced = run(
        [*contact_events, triggers["DISCONNECTED"], triggers["COMPLETED"]],
        [],
        AnsweringApi(answers_for(events, fallback)),
    )
    # Then the item is the one COMPLETED-first gives
    assert (item, announced) == in_order(name, fallback)
