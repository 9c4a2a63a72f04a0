"""The real stack, `cdk bootstrap` + `cdk deploy`ed into a fresh moto server (demo/emulator.py): ~20 s."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from demo.emulator import CREDENTIALS, LocalAws, deploy_stack, function_environments

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("emulator")]

INSTANCE_ARN = "arn:aws:connect:eu-west-2:111122223333:instance/11111111-2222-3333-4444-555555555555"
AGENT_HANDLER = "connect_state.handlers.agent_events.lambda_handler"
CONTACT_HANDLER = "connect_state.handlers.contact_events.lambda_handler"
ENRICHMENT_HANDLER = "connect_state.handlers.enrichment.lambda_handler"
BOARD_HANDLER = "connect_state.handlers.board_changes.lambda_handler"


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[str, dict[str, str]]]:
    with LocalAws() as aws:
        yield aws.endpoint_url, deploy_stack(aws.endpoint_url, {"connectInstanceArn": INSTANCE_ARN})


def client(endpoint_url: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint_url, region_name="eu-west-2", **CREDENTIALS)  # type: ignore[call-overload]


def test_outputs_name_the_stack_resources(deployed: tuple[str, dict[str, str]]) -> None:
    endpoint_url, outputs = deployed
    assert set(outputs) == {
        "AgentStateTableName",
        "AgentEventStreamArn",
        "AgentEventStreamName",
        "AgentEventsFunctionName",
        "AgentEventsQuarantineQueueUrl",
        "AgentEventsFailedBatchBucketName",
        "ContactStateTableName",
        "StateReadOnlyPolicyArn",
        "TableContractVersion",
        "ContactAbandonedEventBusName",
        "ContactEventsQuarantineQueueUrl",
        *(
            f"{queue}Queue{attribute}"
            for queue in (
                "ContactEventsBuffer",
                "ContactEventsDeadLetter",
                "ContactEventRuleDeadLetter",
                "ContactEnrichmentDeadLetter",
                "ContactEnrichmentCompleted",
                "ContactEnrichmentDisconnected",
                "ContactEnrichmentCompletedRuleDeadLetter",
                "ContactEnrichmentDisconnectedRuleDeadLetter",
                "WallboardFailedBatches",
            )
            for attribute in ("Url", "Arn")
        ),
        "BoardTableName",
        "BoardFunctionName",
        "ContactEventRuleArn",
        "ContactEventArchiveArn",
        "ContactEnrichmentRuleArns",
        "AlarmTopicArn",
        "DashboardName",
    }
    dynamodb = client(endpoint_url, "dynamodb")
    contact_table = dynamodb.describe_table(TableName=outputs["ContactStateTableName"])["Table"]
    assert {index["IndexName"] for index in contact_table["GlobalSecondaryIndexes"]} == {
        "byQueue",
        "byAgent",
        "byQueueEnqueued",
    }
    ttl = dynamodb.describe_time_to_live(TableName=outputs["AgentStateTableName"])["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}

    stream_name = outputs["AgentEventStreamArn"].split("/")[-1]
    assert client(endpoint_url, "kinesis").describe_stream_summary(StreamName=stream_name)

    sqs = client(endpoint_url, "sqs")
    for key in [key for key in outputs if key.endswith("QueueUrl")]:
        attributes = sqs.get_queue_attributes(QueueUrl=outputs[key], AttributeNames=["MessageRetentionPeriod"])
        assert attributes["Attributes"]["MessageRetentionPeriod"] == str(14 * 24 * 3600)
    events = client(endpoint_url, "events")
    assert events.describe_event_bus(Name=outputs["ContactAbandonedEventBusName"])
    archive = events.describe_archive(ArchiveName=outputs["ContactEventArchiveArn"].rsplit("/", 1)[-1])
    assert archive["RetentionDays"] == 7
    read_only = client(endpoint_url, "iam").get_policy(PolicyArn=outputs["StateReadOnlyPolicyArn"])["Policy"]
    assert read_only["AttachmentCount"] == 0


def test_failed_batches_have_a_bucket_and_the_state_tables_refuse_deletion_while_protected(
    deployed: tuple[str, dict[str, str]],
) -> None:
    endpoint_url, outputs = deployed
    # (moto's CloudFormation leaves out the bucket's lifecycle and public access block: the infrastructure tests
    # check those)
    encryption = client(endpoint_url, "s3").get_bucket_encryption(Bucket=outputs["AgentEventsFailedBatchBucketName"])
    (rule,) = encryption["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    dynamodb = client(endpoint_url, "dynamodb")
    for key in ("AgentStateTableName", "ContactStateTableName"):
        name = outputs[key]
        assert dynamodb.describe_table(TableName=name)["Table"]["DeletionProtectionEnabled"] is True
        with pytest.raises(ClientError, match="DeletionProtectionEnabled"):
            dynamodb.delete_table(TableName=name)
        # What the README tells an operator to do before deleting a table (and undone here: the table is kept).
        dynamodb.update_table(TableName=name, DeletionProtectionEnabled=False)
        assert dynamodb.describe_table(TableName=name)["Table"]["DeletionProtectionEnabled"] is False
        dynamodb.update_table(TableName=name, DeletionProtectionEnabled=True)
    # The contact events consumer runs at most 10 invocations at once, the enrichment consumers 2 each.
    mappings = client(endpoint_url, "lambda").list_event_source_mappings()["EventSourceMappings"]
    concurrency = [m["ScalingConfig"]["MaximumConcurrency"] for m in mappings if m.get("ScalingConfig")]
    assert sorted(concurrency) == [2, 2, 10]


def test_functions_get_the_deployed_names(deployed: tuple[str, dict[str, str]]) -> None:
    endpoint_url, outputs = deployed
    functions = function_environments(endpoint_url)
    assert set(functions) == {AGENT_HANDLER, CONTACT_HANDLER, ENRICHMENT_HANDLER, BOARD_HANDLER}
    board = functions[BOARD_HANDLER].environment
    assert board["BOARD_TABLE_NAME"] == outputs["BoardTableName"]
    assert (board["AGENT_TABLE_NAME"], board["CONTACT_TABLE_NAME"]) == (
        outputs["AgentStateTableName"],
        outputs["ContactStateTableName"],
    )
    agent = functions[AGENT_HANDLER].environment
    assert agent["AGENT_TABLE_NAME"] == outputs["AgentStateTableName"]
    assert agent["QUARANTINE_QUEUE_URL"] == outputs["AgentEventsQuarantineQueueUrl"]
    contact = functions[CONTACT_HANDLER].environment
    assert contact["CONTACT_TABLE_NAME"] == outputs["ContactStateTableName"]
    assert contact["QUARANTINE_QUEUE_URL"] == outputs["ContactEventsQuarantineQueueUrl"]
    assert contact["EVENT_BUS_NAME"] == outputs["ContactAbandonedEventBusName"]
    enrichment = functions[ENRICHMENT_HANDLER].environment
    assert enrichment["CONTACT_TABLE_NAME"] == outputs["ContactStateTableName"]
    assert enrichment["DEAD_LETTER_QUEUE_URL"] == outputs["ContactEnrichmentDeadLetterQueueUrl"]
    trigger_queues = dict(json.loads(enrichment["TRIGGER_QUEUE_URLS"]))
    sqs = client(endpoint_url, "sqs")
    delays = {
        url.rsplit("/", 1)[-1]: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])["Attributes"]
        for url in trigger_queues.values()
    }
    assert sorted(int(a["DelaySeconds"]) for a in delays.values()) == [0, 900]
    # Disabled by deploy_stack: moto cannot run them, and an enabled SQS mapping takes every message once.
    mappings = client(endpoint_url, "lambda").list_event_source_mappings()["EventSourceMappings"]
    assert [mapping["State"] for mapping in mappings] == ["Disabled"] * 6


def test_each_state_table_streams_its_changes_with_the_item_before_and_after(
    deployed: tuple[str, dict[str, str]],
) -> None:
    # Given the deployed state tables (the wallboard's mappings on their streams, disabled as every mapping here)
    endpoint_url, outputs = deployed
    dynamodb, streams = client(endpoint_url, "dynamodb"), client(endpoint_url, "dynamodbstreams")
    for key, name in (("AgentStateTableName", "agentArn"), ("ContactStateTableName", "contactId")):
        table = outputs[key]
        stream_arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        # When an item is written twice
        for status in ("first", "second"):
            dynamodb.put_item(TableName=table, Item={name: {"S": f"stream-check-{key}"}, "status": {"S": status}})
        # Then a stream reader gets both changes, each with the item before and after it
        description = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]
        assert description["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=description["Shards"][0]["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = [
            r["dynamodb"] for r in streams.get_records(ShardIterator=iterator)["Records"] if "stream-check" in str(r)
        ]
        assert [r.get("OldImage", {}).get("status") for r in records] == [None, {"S": "first"}]
        assert [r["NewImage"]["status"] for r in records] == [{"S": "first"}, {"S": "second"}]
        dynamodb.delete_item(TableName=table, Key={name: {"S": f"stream-check-{key}"}})


def test_contact_events_reach_the_buffer_queue(deployed: tuple[str, dict[str, str]]) -> None:
    endpoint_url, _ = deployed
    events = client(endpoint_url, "events")
    # (the archive has a managed rule of its own, "Events-Archive-<name>")
    rules = [r for r in events.list_rules(EventBusName="default")["Rules"] if not r["Name"].startswith("Events-")]
    # the contact state rule takes every contact event; the enrichment rules take COMPLETED and DISCONNECTED only
    patterns = sorted(json.dumps(json.loads(r["EventPattern"])["detail"], sort_keys=True) for r in rules)
    assert patterns == sorted(
        json.dumps({"instanceArn": [INSTANCE_ARN], **extra}, sort_keys=True)
        for extra in ({}, {"eventType": ["COMPLETED"]}, {"eventType": ["DISCONNECTED"]})
    )
    (rule,) = [r for r in rules if "eventType" not in r["EventPattern"]]
    (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]

    events.put_events(
        Entries=[
            {"Source": "aws.connect", "DetailType": "Amazon Connect Contact Event", "Detail": json.dumps(detail)}
            for detail in (
                {"instanceArn": INSTANCE_ARN, "contactId": "ours"},
                {"instanceArn": INSTANCE_ARN.replace("1111-2222", "9999-2222"), "contactId": "another instance"},
            )
        ]
    )
    sqs = client(endpoint_url, "sqs")
    buffer_url = sqs.get_queue_url(QueueName=target["Arn"].split(":")[-1])["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=buffer_url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert [json.loads(message["Body"])["detail"]["contactId"] for message in messages] == ["ours"]
    assert messages[0]["Attributes"]["ApproximateReceiveCount"] == "1"


def test_the_server_is_stopped_on_exit() -> None:
    with LocalAws() as aws:
        pid = aws.pid
        assert pid is not None
        os.kill(pid, 0)  # running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert aws.pid is None
