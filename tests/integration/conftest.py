"""Integration fixtures: the agent state table and quarantine queue in moto, shaped as the stack creates them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from tests.lambda_context import FakeLambdaContext


@dataclass
class AgentPipeline:
    table_name: str
    queue_url: str

    def items(self) -> dict[str, dict[str, Any]]:
        table = boto3.resource("dynamodb").Table(self.table_name)
        return {item["agentArn"]: item for item in table.scan()["Items"]}

    def quarantined(self) -> list[dict[str, Any]]:
        return _drain(self.queue_url)


def create_agent_pipeline() -> AgentPipeline:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName="agent-state",
        KeySchema=[{"AttributeName": "agentArn", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "agentArn", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    queue_url = boto3.client("sqs").create_queue(QueueName="agent-events-quarantine")["QueueUrl"]
    return AgentPipeline("agent-state", queue_url)


@dataclass
class ContactPipeline:
    table_name: str
    quarantine_url: str
    published_url: str

    def items(self) -> dict[str, dict[str, Any]]:
        table = boto3.resource("dynamodb").Table(self.table_name)
        return {item["contactId"]: item for item in table.scan()["Items"]}

    def quarantined(self) -> list[dict[str, Any]]:
        return _drain(self.quarantine_url)

    def published(self) -> list[dict[str, Any]]:
        return _drain(self.published_url)


def _drain(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    bodies: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        bodies.extend(json.loads(m["Body"]) for m in messages)
        for m in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    return bodies


def create_contact_pipeline() -> ContactPipeline:
    """The contact table (key schema and indexes of stacks/constructs/state_tables.py), the quarantine queue, the
    project bus, and a subscriber queue on \"Contact Abandoned\"."""
    string = "S"
    dynamodb = boto3.client("dynamodb")
    # The key schema and indexes of stacks/constructs/state_tables.py
    dynamodb.create_table(
        TableName="contact-state",
        KeySchema=[{"AttributeName": "contactId", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": string}
            for name in ("contactId", "queueArn", "queuedSince", "agentArn", "connectedToAgentTimestamp")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byQueue",
                "KeySchema": [
                    {"AttributeName": "queueArn", "KeyType": "HASH"},
                    {"AttributeName": "queuedSince", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "byAgent",
                "KeySchema": [
                    {"AttributeName": "agentArn", "KeyType": "HASH"},
                    {"AttributeName": "connectedToAgentTimestamp", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    sqs = boto3.client("sqs")
    quarantine_url = sqs.create_queue(QueueName="contact-events-quarantine")["QueueUrl"]
    # What a subscriber to the project bus would receive: a rule on "Contact Abandoned" into a queue.
    published_url = sqs.create_queue(QueueName="abandoned-subscriber")["QueueUrl"]
    published_arn = sqs.get_queue_attributes(QueueUrl=published_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = boto3.client("events")
    events.create_event_bus(Name="contact-state-events")
    events.put_rule(
        Name="abandoned",
        EventBusName="contact-state-events",
        EventPattern=json.dumps({"source": ["connect-realtime-state"], "detail-type": ["Contact Abandoned"]}),
    )
    events.put_targets(
        Rule="abandoned", EventBusName="contact-state-events", Targets=[{"Id": "q", "Arn": published_arn}]
    )
    return ContactPipeline("contact-state", quarantine_url, published_url)


@pytest.fixture
def agent_pipeline(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[AgentPipeline]:
    from connect_state import config
    from connect_state.handlers import agent_events

    pipeline = create_agent_pipeline()
    monkeypatch.setenv("AGENT_TABLE_NAME", pipeline.table_name)
    monkeypatch.setenv("QUARANTINE_QUEUE_URL", pipeline.queue_url)
    monkeypatch.setenv("STATE_TTL_DAYS", "90")
    # A fresh container for every test: configuration, clients and the writer's cache are per container.
    for cached in (config.agent_events_config, agent_events._writer, agent_events._quarantine):
        cached.cache_clear()
    yield pipeline
    for cached in (config.agent_events_config, agent_events._writer, agent_events._quarantine):
        cached.cache_clear()


@pytest.fixture
def contact_pipeline(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[ContactPipeline]:
    from connect_state import config
    from connect_state.handlers import contact_events

    pipeline = create_contact_pipeline()
    monkeypatch.setenv("CONTACT_TABLE_NAME", "contact-state")
    monkeypatch.setenv("QUARANTINE_QUEUE_URL", pipeline.quarantine_url)
    monkeypatch.setenv("EVENT_BUS_NAME", "contact-state-events")
    monkeypatch.setenv("STATE_TTL_DAYS", "90")
    cached = (config.contact_events_config, contact_events._store, contact_events._writer, contact_events._quarantine)
    for function in cached:
        function.cache_clear()  # a fresh container per test
    yield pipeline
    for function in cached:
        function.cache_clear()


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()
