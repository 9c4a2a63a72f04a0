"""Integration fixtures: the agent state table and quarantine queue in moto, shaped as the stack creates them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import boto3
import pytest
from botocore.stub import Stubber

from connect_state.config import Env
from demo.lambda_shapes import received_sqs_record, sqs_record
from tests.lambda_context import FakeLambdaContext

if TYPE_CHECKING:
    from mypy_boto3_connect import ConnectClient
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass
class AgentPipeline:
    table_name: str
    queue_url: str

    def items(self) -> dict[str, dict[str, Any]]:
        table = boto3.resource("dynamodb").Table(self.table_name)
        return {str(item["agentArn"]): item for item in table.scan()["Items"]}

    def quarantined(self) -> list[dict[str, Any]]:
        return _drain(self.queue_url)


def create_agent_table(dynamodb: DynamoDBClient | None = None) -> str:
    """The agent state table, keyed as stacks/constructs/state_tables.py creates it; returns its name."""
    (dynamodb or boto3.client("dynamodb")).create_table(
        TableName="agent-state",
        KeySchema=[{"AttributeName": "agentArn", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "agentArn", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return "agent-state"


def create_agent_pipeline() -> AgentPipeline:
    create_agent_table()
    queue_url = boto3.client("sqs").create_queue(QueueName="agent-events-quarantine")["QueueUrl"]
    return AgentPipeline("agent-state", queue_url)


@dataclass
class ContactPipeline:
    table_name: str
    quarantine_url: str
    published_url: str

    def items(self) -> dict[str, dict[str, Any]]:
        table = boto3.resource("dynamodb").Table(self.table_name)
        return {str(item["contactId"]): item for item in table.scan()["Items"]}

    def quarantined(self) -> list[dict[str, Any]]:
        return _drain(self.quarantine_url)

    def published(self) -> list[dict[str, Any]]:
        return _drain(self.published_url)


def sqs_event(*bodies: str | dict[str, Any]) -> dict[str, Any]:
    """Messages as Lambda delivers them from the contact events buffer queue; each body is the EventBridge event."""
    return {
        "Records": [
            sqs_record(
                body if isinstance(body, str) else json.dumps(body),
                "arn:aws:sqs:eu-west-2:111122223333:contact-events-buffer",
                message_id=f"message-{index}",
                receipt_handle=f"handle-{index}",
                attributes={"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"},
            )
            for index, body in enumerate(bodies)
        ]
    }


def clear_table(table_name: str, key: str, dynamodb: DynamoDBClient | None = None) -> None:
    """What an operator does before a rebuild: delete every item (the table itself stays)."""
    client = dynamodb or boto3.client("dynamodb")
    scan = client.scan(TableName=table_name, ProjectionExpression="#k", ExpressionAttributeNames={"#k": key})
    for item in scan["Items"]:
        client.delete_item(TableName=table_name, Key={key: item[key]})


def without_updated_at(item: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in item.items() if name != "updatedAt"}


def _drain(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    bodies: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        bodies.extend(json.loads(m["Body"]) for m in messages)
        for m in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    return bodies


def create_contact_table(dynamodb: DynamoDBClient | None = None) -> str:
    """The contact state table: the key schema and indexes of stacks/constructs/state_tables.py. Returns its name."""
    string: Literal["S"] = "S"
    (dynamodb or boto3.client("dynamodb")).create_table(
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
    return "contact-state"


def create_contact_pipeline() -> ContactPipeline:
    """The contact table, the quarantine queue, the project bus, and a subscriber queue on \"Contact Abandoned\"."""
    create_contact_table()
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
    from connect_state.handlers import agent_events

    pipeline = create_agent_pipeline()
    monkeypatch.setenv(Env.AGENT_TABLE_NAME, pipeline.table_name)
    monkeypatch.setenv(Env.QUARANTINE_QUEUE_URL, pipeline.queue_url)
    monkeypatch.setenv(Env.STATE_TTL_DAYS, "90")
    monkeypatch.setenv(Env.MAX_AGENT_EVENT_BYTES, "131072")
    # A fresh container for every test: configuration, clients and the writer's cache are per container.
    agent_events.dependencies.reset()
    yield pipeline
    agent_events.dependencies.reset()


@pytest.fixture
def contact_pipeline(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[ContactPipeline]:
    from connect_state.handlers import contact_events

    pipeline = create_contact_pipeline()
    monkeypatch.setenv(Env.CONTACT_TABLE_NAME, "contact-state")
    monkeypatch.setenv(Env.QUARANTINE_QUEUE_URL, pipeline.quarantine_url)
    monkeypatch.setenv(Env.EVENT_BUS_NAME, "contact-state-events")
    monkeypatch.setenv(Env.STATE_TTL_DAYS, "90")
    contact_events.dependencies.reset()  # a fresh container per test
    yield pipeline
    contact_events.dependencies.reset()


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@dataclass
class EnrichmentPipeline:
    """The enrichment function's world in moto: the contact table, the call-slot table, the two trigger queues
    (COMPLETED at once, DISCONNECTED after the delay) and the dead-letter queue. DescribeContact is `stubber`."""

    contacts: ContactPipeline
    completed_url: str
    disconnected_url: str
    dead_letter_url: str
    stubber: Stubber
    last_event: dict[str, Any] = field(default_factory=dict)  # the last batch delivered, to end its backoff

    def queue_arn(self, queue_url: str) -> str:
        attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        return attributes["Attributes"]["QueueArn"]

    def send(self, queue_url: str, *events: dict[str, Any]) -> None:
        for event in events:
            boto3.client("sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))

    def poll(self, queue_url: str) -> dict[str, Any]:
        """What Lambda's SQS poller hands the function: up to 10 visible messages, with their receive counts."""
        messages = (
            boto3.client("sqs")
            .receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"])
            .get("Messages", [])
        )
        arn = self.queue_arn(queue_url)
        return {"Records": [received_sqs_record(m, arn) for m in messages]}

    def settle(self, queue_url: str, event: dict[str, Any], response: dict[str, Any]) -> None:
        """Lambda deletes what the function did not report as failed."""
        failed = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
        for record in event["Records"]:
            if record["messageId"] not in failed:
                boto3.client("sqs").delete_message(QueueUrl=queue_url, ReceiptHandle=record["receiptHandle"])

    def dead_letters(self) -> list[dict[str, Any]]:
        return _drain(self.dead_letter_url)

    def slots_claimed(self) -> int:
        return len(boto3.client("dynamodb").scan(TableName="call-slots")["Items"])


def create_enrichment_resources() -> dict[str, str]:
    """The call-slots table (keyed as the stack creates it) and the trigger and dead-letter queues: name → URL."""
    boto3.client("dynamodb").create_table(
        TableName="call-slots",
        KeySchema=[{"AttributeName": "slot", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "slot", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    sqs = boto3.client("sqs")
    return {name: sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("completed", "disconnected", "dlq")}


@pytest.fixture
def enrichment_pipeline(
    contact_pipeline: ContactPipeline, monkeypatch: pytest.MonkeyPatch
) -> Iterator[EnrichmentPipeline]:
    from connect_state.adapters.contact_api import CLIENT_CONFIG, ConnectContactApi
    from connect_state.handlers import enrichment

    urls = create_enrichment_resources()
    pipeline = EnrichmentPipeline(
        contact_pipeline,
        urls["completed"],
        urls["disconnected"],
        urls["dlq"],
        Stubber(boto3.client("connect", config=CLIENT_CONFIG)),
    )
    monkeypatch.setenv(Env.CALL_SLOTS_TABLE_NAME, "call-slots")
    monkeypatch.setenv(Env.DEAD_LETTER_QUEUE_URL, urls["dlq"])
    monkeypatch.setenv(
        Env.TRIGGER_QUEUE_URLS,
        # as the stack writes it: [[queue ARN, queue URL], ...]
        json.dumps([[pipeline.queue_arn(url), url] for url in (urls["completed"], urls["disconnected"])]),
    )
    monkeypatch.setenv(Env.RATE_PER_SECOND, "50")  # the gate's own behaviour is tested in the unit tier
    monkeypatch.setenv(Env.MAX_ATTEMPTS, "8")
    monkeypatch.setenv(Env.NOT_FOUND_ATTEMPTS, "5")
    client = cast("ConnectClient", pipeline.stubber.client)  # the Stubber wraps a real connect client
    enrichment.dependencies.reset(lambda: enrichment.build(api=ConnectContactApi(client)))
    with pipeline.stubber:
        yield pipeline
    enrichment.dependencies.reset()


@pytest.fixture
def example_cdk_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A cdk.json holding the documented example, for the tools that read cdk.json as the CDK CLI does (preflight,
    teardown): a fork whose cdk.json is configured for its own instance and stream must still pass."""
    from stacks.config import example_context
    from tools import preflight

    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": example_context()}))
    monkeypatch.setattr(preflight, "CDK_JSON", cdk_json)
    return cdk_json
