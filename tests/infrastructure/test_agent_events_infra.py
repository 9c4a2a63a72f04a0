"""The agent event pipeline as synthesized: the properties that decide how it behaves."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Annotations, Match

from tests.infrastructure.conftest import only, resources, synth

pytestmark = pytest.mark.xdist_group("cdk")
STREAM_ARN = "arn:aws:kinesis:eu-west-2:111122223333:stream/connect-agent-events"


def kinesis_mapping(template: Any) -> dict[str, Any]:
    mappings = resources(template, "AWS::Lambda::EventSourceMapping")
    (mapping,) = [m["Properties"] for m in mappings.values() if "StartingPosition" in m["Properties"]]
    return mapping


def logical_id_of(template: Any, resource_type: str, path_part: str) -> str:
    (logical_id,) = [
        key
        for key, value in resources(template, resource_type).items()
        if path_part in value.get("Metadata", {}).get("aws:cdk:path", "")
    ]
    return logical_id


def test_stream_consumer_never_blocks_a_shard_and_never_loses_a_batch() -> None:
    _, template = synth()
    mapping = kinesis_mapping(template)
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 5
    assert mapping["MaximumRecordAgeInSeconds"] == 3600
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    on_failure = logical_id_of(template, "AWS::SQS::Queue", "AgentEvents/OnFailure")
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [on_failure, "Arn"]}


def test_batching_comes_from_configuration() -> None:
    _, template = synth(agentStream={"batchSize": 250, "maxBatchingWindowSeconds": 5, "parallelizationFactor": 4})
    mapping = kinesis_mapping(template)
    assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"], mapping["ParallelizationFactor"]) == (
        250,
        5,
        4,
    )


def test_existing_connect_stream_is_imported_not_created() -> None:
    _, template = synth(agentEventStreamArn=STREAM_ARN)
    assert resources(template, "AWS::Kinesis::Stream") == {}
    assert kinesis_mapping(template)["EventSourceArn"] == STREAM_ARN


def test_created_stream_is_on_demand_and_encrypted() -> None:
    _, template = synth()
    stream = only(template, "AWS::Kinesis::Stream")
    assert stream["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert stream["StreamEncryption"]["EncryptionType"] == "KMS"


def test_customer_key_encrypts_stream_table_and_queues() -> None:
    key = "arn:aws:kms:eu-west-2:111122223333:key/11111111-2222-3333-4444-555555555555"
    _, template = synth(kmsKeyArn=key)
    assert only(template, "AWS::Kinesis::Stream")["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": key}
    for table in resources(template, "AWS::DynamoDB::GlobalTable").values():
        assert table["Properties"]["SSESpecification"]["SSEType"] == "KMS"
    for queue in resources(template, "AWS::SQS::Queue").values():
        assert queue["Properties"]["KmsMasterKeyId"] == key


def test_agent_table_is_keyed_by_agent_arn_with_recovery_encryption_and_ttl() -> None:
    _, template = synth()
    agent_table = logical_id_of(template, "AWS::DynamoDB::GlobalTable", "State/AgentState")
    table = resources(template, "AWS::DynamoDB::GlobalTable")[agent_table]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "agentArn", "KeyType": "HASH"}]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert table["Replicas"][0]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_agent_function_runs_python313_on_arm64_with_the_layer_and_its_configuration() -> None:
    _, template = synth()
    function_id = logical_id_of(template, "AWS::Lambda::Function", "AgentEvents/Function")
    function = resources(template, "AWS::Lambda::Function")[function_id]["Properties"]
    assert (function["Runtime"], function["Architectures"]) == ("python3.13", ["arm64"])
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert len(function["Layers"]) == 1
    environment = function["Environment"]["Variables"]
    assert environment["STATE_TTL_DAYS"] == "90"
    assert environment["POWERTOOLS_METRICS_NAMESPACE"] == "ConnectRealtimeState"
    assert set(environment) >= {"AGENT_TABLE_NAME", "QUARANTINE_QUEUE_URL", "MAX_AGENT_EVENT_BYTES"}


def test_tracing_and_log_level_are_configurable() -> None:
    _, template = synth(tracing=False, logLevel="debug")
    function_id = logical_id_of(template, "AWS::Lambda::Function", "AgentEvents/Function")
    function = resources(template, "AWS::Lambda::Function")[function_id]["Properties"]
    assert "TracingConfig" not in function or function["TracingConfig"] == {"Mode": "PassThrough"}
    assert function["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert function["Environment"]["Variables"]["POWERTOOLS_LOG_LEVEL"] == "DEBUG"


def test_agent_function_may_only_update_items_of_the_agent_table() -> None:
    _, template = synth()
    agent_table = logical_id_of(template, "AWS::DynamoDB::GlobalTable", "State/AgentState")
    policy_id = logical_id_of(template, "AWS::IAM::Policy", "AgentEvents/Function/ServiceRole")
    statements = resources(template, "AWS::IAM::Policy")[policy_id]["Properties"]["PolicyDocument"]["Statement"]
    dynamodb = [s for s in statements if any(str(a).startswith("dynamodb:") for a in _list(s["Action"]))]
    assert dynamodb == [{"Action": "dynamodb:UpdateItem", "Effect": "Allow", "Resource": Match.any_value()}] or all(
        _list(s["Action"]) == ["dynamodb:UpdateItem"] for s in dynamodb
    )
    assert agent_table in json.dumps([s["Resource"] for s in dynamodb])


def test_cdk_nag_reports_no_unsuppressed_finding() -> None:
    stack, _ = synth()
    annotations = Annotations.from_stack(stack)
    errors = annotations.find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    warnings = annotations.find_warning("*", Match.string_like_regexp("AwsSolutions-.*"))
    assert [e.entry.data for e in errors] == []
    assert [w.entry.data for w in warnings] == []


def test_every_nag_suppression_gives_its_reason() -> None:
    _, template = synth()
    suppressions = [
        rule
        for section in ("Resources",)
        for resource in template.to_json()[section].values()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]
    assert suppressions
    assert all(len(rule["reason"]) > 30 for rule in suppressions)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
