"""The agent events function, invoked as Lambda would, against DynamoDB and SQS in moto."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from connect_state.adapters.agent_state_store import DynamoDBAgentStateStore
from connect_state.handlers import agent_events
from tests import samples
from tests.factories import Snapshot, agent_arn, agent_event, timestamp
from tests.integration.conftest import AgentPipeline, clear_table, without_updated_at
from tests.lambda_context import FakeLambdaContext


def invoke(event: dict[str, Any], context: FakeLambdaContext) -> dict[str, Any]:
    return agent_events.lambda_handler(event, context)  # type: ignore[no-any-return]


def test_every_shared_sample_lands_in_the_table(
    agent_pipeline: AgentPipeline, lambda_context: FakeLambdaContext
) -> None:
    # Given every agent event sample, in one batch as Kinesis would deliver them
    records = [samples.kinesis_record(samples.load(p), samples.sequence(i)) for i, p in enumerate(samples.AGENT_EVENTS)]
    # When the function handles the batch
    response = invoke(samples.kinesis_event(*records), lambda_context)
    # Then nothing fails, and each agent's item holds its newest event
    assert response == {"batchItemFailures": []}
    items = agent_pipeline.items()
    agent_arns = {samples.load(p)["AgentARN"] for p in samples.AGENT_EVENTS}
    assert set(items) == agent_arns
    documented_acw_agent = samples.sample("ae06")["AgentARN"]
    assert items[documented_acw_agent]["lastAfterContactWork"]["durationSeconds"] == Decimal("5.005")
    real = items[samples.sample("ae07")["AgentARN"]]
    assert (real["activity"], real["statusName"], real["loggedIn"]) == ("ON_CONTACT", "Available", True)
    assert real["updatedAt"].endswith("Z")


def test_real_lambda_test_event_is_processed(agent_pipeline: AgentPipeline, lambda_context: FakeLambdaContext) -> None:
    # Given the real le01 Lambda test event (its producer used a custom partition key and "null" strings)
    response = invoke(samples.load(samples.LAMBDA_ENVELOPES[0]), lambda_context)
    assert response == {"batchItemFailures": []}
    (item,) = agent_pipeline.items().values()
    assert item["agentId"] == "7548134e-7c46-4898-9136-09f1b69fff53"
    assert (item["activity"], item["contacts"]) == ("AVAILABLE", [])


def test_bad_input_is_quarantined_with_its_reason_and_never_retried(
    agent_pipeline: AgentPipeline, lambda_context: FakeLambdaContext
) -> None:
    good = samples.kinesis_record(samples.sample("ae07"), samples.sequence(1))
    not_base64 = samples.kinesis_record({}, samples.sequence(2))
    not_base64["kinesis"]["data"] = "%%% not base64 %%%"
    not_json = samples.kinesis_record(b"{this is not json", samples.sequence(3))
    no_agent = samples.kinesis_record({"EventType": "LOGIN", "EventId": "x"}, samples.sequence(4))
    response = invoke(samples.kinesis_event(good, not_base64, not_json, no_agent), lambda_context)
    # Then no record is reported for retry (bad input never blocks the shard) ...
    assert response == {"batchItemFailures": []}
    # ... the valid event is applied, and each bad one is in the quarantine queue with its reason and origin
    assert len(agent_pipeline.items()) == 1
    quarantined = {m["origin"]["sequenceNumber"]: m for m in agent_pipeline.quarantined()}
    assert quarantined[samples.sequence(2)]["reason"] == "invalid base64"
    assert quarantined[samples.sequence(3)]["reason"] == "not JSON"
    assert quarantined[samples.sequence(4)]["reason"].startswith("invalid agent event: AgentARN: Field required")
    assert base64.b64decode(quarantined[samples.sequence(3)]["raw"]) == b"{this is not json"


def test_foreign_records_on_a_shared_stream_are_skipped(
    agent_pipeline: AgentPipeline, lambda_context: FakeLambdaContext
) -> None:
    ctr = samples.kinesis_record(samples.load(samples.CONTACT_RECORDS[0]), samples.sequence(1))
    segment = samples.kinesis_record(samples.load(samples.CONTACT_LENS[0]), samples.sequence(2))
    response = invoke(samples.kinesis_event(ctr, segment), lambda_context)
    assert response == {"batchItemFailures": []}
    assert agent_pipeline.items() == {}
    assert agent_pipeline.quarantined() == []


def test_one_write_per_agent_per_batch(agent_pipeline: AgentPipeline, lambda_context: FakeLambdaContext) -> None:
    # Given 30 events of 3 agents in one batch
    records = []
    for n in range(30):
        agent = agent_arn(n % 3)
        status = "Break" if n % 2 else "Available"
        event = agent_event(agent, "STATE_CHANGE", timestamp(n), Snapshot(status), Snapshot("Available"))
        records.append(samples.kinesis_record(event, samples.sequence(n)))
    store = agent_events.dependencies().store
    # When the batch is handled twice (a warm container; the second time every event is a duplicate)
    invoke(samples.kinesis_event(*records), lambda_context)
    first = store.requests
    written = {arn: without_updated_at(item) for arn, item in agent_pipeline.items().items()}
    invoke(samples.kinesis_event(*records), lambda_context)
    # Then each pass costs one conditional write per agent: the second one only checks that the items are still what
    # the container remembers (the cache is never trusted to skip it), and changes nothing
    assert first == 3
    assert store.requests == 6
    assert {arn: without_updated_at(item) for arn, item in agent_pipeline.items().items()} == written
    assert {item["statusName"] for item in written.values()} == {"Break", "Available"}


def test_throttled_agent_is_reported_for_retry_and_others_are_not(
    agent_pipeline: AgentPipeline, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    throttled_agent = agent_arn(1)
    original = DynamoDBAgentStateStore.compare_and_set

    def throttle_one(self: DynamoDBAgentStateStore, arn: str, *args: Any, **kwargs: Any) -> Any:
        if arn == throttled_agent:
            error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}
            raise ClientError(error, "UpdateItem")  # type: ignore[arg-type]
        return original(self, arn, *args, **kwargs)

    monkeypatch.setattr(DynamoDBAgentStateStore, "compare_and_set", throttle_one)
    records = [
        samples.kinesis_record(
            agent_event(agent_arn(n % 2), "HEART_BEAT", timestamp(n), Snapshot(), Snapshot()), samples.sequence(n)
        )
        for n in range(4)
    ]
    response = invoke(samples.kinesis_event(*records), lambda_context)
    # Then the throttled agent's records are reported (Lambda retries from the lowest), and nothing else
    assert response == {
        "batchItemFailures": [{"itemIdentifier": samples.sequence(1)}, {"itemIdentifier": samples.sequence(3)}]
    }
    assert set(agent_pipeline.items()) == {agent_arn(0)}


def test_a_newer_item_written_by_another_container_is_never_overwritten(
    agent_pipeline: AgentPipeline, lambda_context: FakeLambdaContext
) -> None:
    agent = agent_arn(7)
    older = agent_event(agent, "STATE_CHANGE", timestamp(10), Snapshot("Lunch"), None)
    newer = agent_event(agent, "STATE_CHANGE", timestamp(20), Snapshot("Break"), None)
    # Given this container wrote the older event, and another container then wrote the newer one
    invoke(samples.kinesis_event(samples.kinesis_record(older, samples.sequence(1))), lambda_context)
    agent_events.dependencies.reset()
    invoke(samples.kinesis_event(samples.kinesis_record(newer, samples.sequence(2))), lambda_context)
    # When a redelivery of the older event reaches a container that has never seen this agent
    agent_events.dependencies.reset()
    invoke(samples.kinesis_event(samples.kinesis_record(older, samples.sequence(1))), lambda_context)
    # Then the newer state stands
    assert agent_pipeline.items()[agent]["statusName"] == "Break"


def test_a_rebuild_on_a_warm_container_writes_every_item_again(
    agent_pipeline: AgentPipeline, lambda_context: FakeLambdaContext
) -> None:
    # Given 96 records of 8 agents applied by a container that stays warm (it remembers every item it wrote)
    records = []
    for n in range(96):
        status = ("Available", "Break", "Lunch")[n % 3]
        event = agent_event(agent_arn(n % 8), "STATE_CHANGE", timestamp(n), Snapshot(status), Snapshot("Available"))
        records.append(samples.kinesis_record(event, samples.sequence(n)))
    for start in range(0, 96, 24):
        assert invoke(samples.kinesis_event(*records[start : start + 24]), lambda_context) == {"batchItemFailures": []}
    before = {arn: without_updated_at(item) for arn, item in agent_pipeline.items().items()}
    assert len(before) == 8
    # When the table is cleared and the stream replayed from its start, through the same warm container
    clear_table(agent_pipeline.table_name, "agentArn")
    for start in range(0, 96, 24):
        assert invoke(samples.kinesis_event(*records[start : start + 24]), lambda_context) == {"batchItemFailures": []}
    # Then every item is back, exactly as before
    assert {arn: without_updated_at(item) for arn, item in agent_pipeline.items().items()} == before
