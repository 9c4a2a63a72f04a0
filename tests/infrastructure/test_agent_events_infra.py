"""The agent event pipeline as synthesized: the properties that decide how it behaves."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Annotations, Match

from tests.infrastructure.conftest import logical_id_of, only, properties_at, resources, synth

pytestmark = pytest.mark.xdist_group("cdk")
STREAM_ARN = "arn:aws:kinesis:eu-west-2:111122223333:stream/connect-agent-events"
KEY = "arn:aws:kms:eu-west-2:111122223333:key/11111111-2222-3333-4444-555555555555"


def is_kinesis(mapping: dict[str, Any]) -> bool:
    """The agent stream's mapping: a stream source that is not a DynamoDB table's stream (the wallboard's)."""
    properties = mapping["Properties"]
    return "StartingPosition" in properties and "StreamArn" not in str(properties["EventSourceArn"])


def kinesis_mapping(template: Any) -> dict[str, Any]:
    mappings = resources(template, "AWS::Lambda::EventSourceMapping")
    mapping: dict[str, Any]
    (mapping,) = [m["Properties"] for m in mappings.values() if is_kinesis(m)]
    return mapping


def test_stream_consumer_never_blocks_a_shard_and_never_loses_a_batch() -> None:
    _, template = synth()
    mapping = kinesis_mapping(template)
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 5
    assert mapping["MaximumRecordAgeInSeconds"] == 3600
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    bucket = logical_id_of(template, "AWS::S3::Bucket", "AgentEvents/FailedBatches")
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [bucket, "Arn"]}


def test_failed_batches_are_kept_with_their_records_in_a_private_tls_only_bucket_for_30_days() -> None:
    # An SQS destination only gets the shard and sequence numbers, and the stream forgets the records in 24 hours:
    # an S3 destination gets the records themselves.
    _, template = synth()
    assert [p for p in _paths(template, "AWS::SQS::Queue") if "AgentEvents/OnFailure" in p] == []
    bucket_id = logical_id_of(template, "AWS::S3::Bucket", "AgentEvents/FailedBatches")
    bucket = resources(template, "AWS::S3::Bucket")[bucket_id]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (encryption,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    expirations = [r["ExpirationInDays"] for r in bucket["LifecycleConfiguration"]["Rules"] if "ExpirationInDays" in r]
    assert expirations == [30]
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources(template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    (plain_http,) = [s for s in policy if s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}]
    assert (plain_http["Effect"], plain_http["Action"], plain_http["Principal"]) == ("Deny", "s3:*", {"AWS": "*"})
    (output,) = [o for name, o in template.to_json()["Outputs"].items() if name == "AgentEventsFailedBatchBucketName"]
    assert output["Value"] == {"Ref": bucket_id}


def test_failed_batch_retention_comes_from_configuration() -> None:
    _, template = synth(agentStream={"failedBatchRetentionDays": 7})
    bucket = properties_at(template, "AWS::S3::Bucket", "AgentEvents/FailedBatches")
    assert [r["ExpirationInDays"] for r in bucket["LifecycleConfiguration"]["Rules"] if "ExpirationInDays" in r] == [7]


def test_agent_function_may_only_write_failed_batches_not_read_or_delete_them() -> None:
    # What Lambda needs for an S3 on-failure destination: s3:PutObject and s3:ListBucket (AWS Lambda developer guide).
    _, template = synth()
    bucket_id = logical_id_of(template, "AWS::S3::Bucket", "AgentEvents/FailedBatches")
    statements = agent_function_statements(template)
    s3 = [s for s in statements if any(str(a).startswith("s3:") for a in _list(s["Action"]))]
    granted = sorted((a, json.dumps(s["Resource"], sort_keys=True)) for s in s3 for a in _list(s["Action"]))
    assert granted == [
        ("s3:ListBucket", json.dumps({"Fn::GetAtt": [bucket_id, "Arn"]})),
        ("s3:PutObject", json.dumps({"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/*"]]}, sort_keys=True)),
    ]


def test_with_a_customer_key_failed_batches_are_encrypted_with_it_and_the_function_may_generate_data_keys() -> None:
    _, template = synth(kmsKeyArn=KEY)
    bucket = properties_at(template, "AWS::S3::Bucket", "AgentEvents/FailedBatches")
    (encryption,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY}
    statements = agent_function_statements(template)
    assert any("kms:GenerateDataKey" in _list(s["Action"]) and s["Resource"] == KEY for s in statements)


def test_records_given_up_on_alarm_whether_they_reached_the_bucket_or_not() -> None:
    # Lambda's event source mapping metrics: OnFailureDestinationDeliveredEventCount counts records sent to the
    # bucket, DroppedEventCount those dropped (including when the bucket could not be written).
    _, template = synth()
    mappings = resources(template, "AWS::Lambda::EventSourceMapping")
    (mapping_id,) = [key for key, mapping in mappings.items() if is_kinesis(mapping)]
    assert kinesis_mapping(template)["MetricsConfig"] == {"Metrics": ["EventCount"]}
    (alarm,) = [
        a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Metadata"]["aws:cdk:path"].endswith("/AgentEventsFailedBatches/Resource")
    ]
    metrics = {q["MetricStat"]["Metric"]["MetricName"]: q["MetricStat"] for q in alarm["Metrics"] if "MetricStat" in q}
    assert set(metrics) == {"OnFailureDestinationDeliveredEventCount", "DroppedEventCount"}
    for stat in metrics.values():
        assert stat["Metric"]["Namespace"] == "AWS/Lambda"
        assert stat["Metric"]["Dimensions"] == [{"Name": "EventSourceMappingUUID", "Value": {"Ref": mapping_id}}]
        assert stat["Stat"] == "Sum"
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")


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
    policy_id = logical_id_of(template, "AWS::IAM::Policy", "AgentEvents/FunctionRole/DefaultPolicy")
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


def agent_function_statements(template: Any) -> list[dict[str, Any]]:
    policy_id = logical_id_of(template, "AWS::IAM::Policy", "AgentEvents/FunctionRole/DefaultPolicy")
    return resources(template, "AWS::IAM::Policy")[policy_id]["Properties"]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


def _paths(template: Any, resource_type: str) -> list[str]:
    return [r.get("Metadata", {}).get("aws:cdk:path", "") for r in resources(template, resource_type).values()]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
