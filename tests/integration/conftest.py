"""Integration fixtures: the agent state table and quarantine queue in moto, shaped as the stack creates them."""

from __future__ import annotations

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
        import json

        sqs = boto3.client("sqs")
        messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


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
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()
