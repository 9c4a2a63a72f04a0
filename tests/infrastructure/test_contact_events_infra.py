"""The contact event pipeline as synthesized: the properties that decide how it behaves."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Annotations, Match
from pydantic import ValidationError

from stacks.config import ContactEventSettings
from stacks.constructs.contact_event_consumer import ContactEventConsumer
from tests.infrastructure.conftest import logical_id_of, properties_at, resources, synth

pytestmark = pytest.mark.xdist_group("cdk")
INSTANCE = "arn:aws:connect:eu-west-2:111122223333:instance/11111111-2222-3333-4444-555555555555"
KEY = "arn:aws:kms:eu-west-2:111122223333:key/11111111-2222-3333-4444-555555555555"


def contact_function_policy(template: Any) -> list[dict[str, Any]]:
    policy = properties_at(template, "AWS::IAM::Policy", "ContactEvents/FunctionRole/DefaultPolicy")
    return policy["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


def test_rule_takes_only_contact_events_of_the_configured_instances() -> None:
    _, template = synth()
    rule = properties_at(template, "AWS::Events::Rule", "ContactEvents/ContactEventRule")
    assert rule["EventPattern"] == {
        "source": ["aws.connect"],
        "detail-type": ["Amazon Connect Contact Event"],
        "detail": {"instanceArn": [INSTANCE]},
    }
    assert "EventBusName" not in rule  # Connect publishes on the default bus


def test_rule_delivers_to_the_buffer_queue_with_retries_and_a_dead_letter_queue() -> None:
    _, template = synth()
    (target,) = properties_at(template, "AWS::Events::Rule", "ContactEvents/ContactEventRule")["Targets"]
    buffer = logical_id_of(template, "AWS::SQS::Queue", "ContactEvents/Buffer/")
    rule_dlq = logical_id_of(template, "AWS::SQS::Queue", "ContactEvents/RuleDeadLetter")
    assert target["Arn"] == {"Fn::GetAtt": [buffer, "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [rule_dlq, "Arn"]}}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86_400, "MaximumRetryAttempts": 185}


def test_buffer_queue_redrives_to_its_dead_letter_queue_and_outlives_the_claim_lease() -> None:
    _, template = synth()
    buffer = properties_at(template, "AWS::SQS::Queue", "ContactEvents/Buffer/")
    dlq = logical_id_of(template, "AWS::SQS::Queue", "ContactEvents/BufferDeadLetter")
    assert buffer["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]}, "maxReceiveCount": 5}
    assert buffer["VisibilityTimeout"] == 360  # 6 x the 60 s function timeout, > the 120 s claim lease
    assert properties_at(template, "AWS::SQS::Queue", "ContactEvents/BufferDeadLetter")["MessageRetentionPeriod"] == (
        14 * 86_400
    )


def test_function_reports_partial_batch_failures_from_the_buffer_queue() -> None:
    _, template = synth()
    buffer = logical_id_of(template, "AWS::SQS::Queue", "ContactEvents/Buffer/")
    (mapping,) = [
        m["Properties"]
        for m in resources(template, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [buffer, "Arn"]}
    ]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == 10
    assert 0 < mapping["MaximumBatchingWindowInSeconds"] <= 5


def buffer_mapping(template: Any) -> dict[str, Any]:
    buffer = logical_id_of(template, "AWS::SQS::Queue", "ContactEvents/Buffer/")
    mapping: dict[str, Any]
    (mapping,) = [
        m["Properties"]
        for m in resources(template, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [buffer, "Arn"]}
    ]
    return mapping


def test_a_backlog_drain_runs_at_most_10_invocations_at_once_by_default() -> None:
    # Without MaximumConcurrency a redrive or a replay scales the consumer to the account's concurrency.
    _, template = synth()
    assert buffer_mapping(template)["ScalingConfig"] == {"MaximumConcurrency": 10}
    function = properties_at(template, "AWS::Lambda::Function", "ContactEvents/Function/Resource")
    assert "ReservedConcurrentExecutions" not in function  # throttling an SQS consumer burns receive counts


def test_the_contact_events_maximum_concurrency_comes_from_configuration_within_what_lambda_allows() -> None:
    _, template = synth(contactEvents={"maxConcurrency": 50})
    assert buffer_mapping(template)["ScalingConfig"] == {"MaximumConcurrency": 50}
    for allowed in (2, 1000):
        assert ContactEventSettings.model_validate({"maxConcurrency": allowed}).max_concurrency == allowed
    for refused in (1, 1001):
        with pytest.raises(ValidationError):
            ContactEventSettings.model_validate({"maxConcurrency": refused})


def test_contact_table_is_keyed_by_contact_id_with_recovery_encryption_ttl_and_wallboard_indexes() -> None:
    _, template = synth()
    table = properties_at(template, "AWS::DynamoDB::GlobalTable", "State/ContactState")
    assert table["KeySchema"] == [{"AttributeName": "contactId", "KeyType": "HASH"}]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    (replica,) = table["Replicas"]
    assert replica["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["SSESpecification"]["SSEEnabled"] is True
    indexes = {i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in table["GlobalSecondaryIndexes"]}
    assert indexes == {
        "byQueue": (
            [{"AttributeName": "queueArn", "KeyType": "HASH"}, {"AttributeName": "queuedSince", "KeyType": "RANGE"}],
            {"ProjectionType": "ALL"},
        ),
        "byAgent": (
            [
                {"AttributeName": "agentArn", "KeyType": "HASH"},
                {"AttributeName": "connectedToAgentTimestamp", "KeyType": "RANGE"},
            ],
            {"ProjectionType": "ALL"},
        ),
        # the wallboard's interval metrics (its projection: tests/infrastructure/test_wallboard_infra.py)
        "byQueueEnqueued": (
            [{"AttributeName": "queueArn", "KeyType": "HASH"}, {"AttributeName": "enqueuedAt", "KeyType": "RANGE"}],
            indexes["byQueueEnqueued"][1],
        ),
    }


def test_function_may_only_update_the_contact_table_and_put_events_on_the_project_bus() -> None:
    stack, template = synth()
    statements = contact_function_policy(template)
    table = logical_id_of(template, "AWS::DynamoDB::GlobalTable", "State/ContactState")
    bus = logical_id_of(template, "AWS::Events::EventBus", "ContactEvents/AbandonedContactBus")
    by_action = {s["Action"] if isinstance(s["Action"], str) else tuple(s["Action"]): s for s in statements}
    assert by_action["dynamodb:UpdateItem"]["Resource"] == {"Fn::GetAtt": [table, "Arn"]}
    assert by_action["events:PutEvents"]["Resource"] == {"Fn::GetAtt": [bus, "Arn"]}
    dynamodb_actions = [a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
    assert [a for a in dynamodb_actions if a.startswith("dynamodb:")] == ["dynamodb:UpdateItem"]
    (consumer,) = [c for c in stack.node.find_all() if isinstance(c, ContactEventConsumer)]
    environment = properties_at(template, "AWS::Lambda::Function", "ContactEvents/Function/Resource")["Environment"]
    assert environment["Variables"]["EVENT_BUS_NAME"] == {"Ref": bus}
    assert consumer.function.runtime.name == "python3.13"


def test_existing_bus_is_used_when_configured() -> None:
    _, template = synth(eventBusName="default")
    assert resources(template, "AWS::Events::EventBus") == {}
    (put_events,) = [s for s in contact_function_policy(template) if s["Action"] == "events:PutEvents"]
    assert put_events["Resource"]["Fn::Join"][1][-1] == ":event-bus/default"


def test_customer_key_encrypts_the_contact_queues_and_cdk_nag_stays_clean() -> None:
    stack, template = synth(kmsKeyArn=KEY)
    for path in ("Buffer/", "BufferDeadLetter", "RuleDeadLetter", "Quarantine"):
        assert properties_at(template, "AWS::SQS::Queue", f"ContactEvents/{path}")["KmsMasterKeyId"] == KEY
    findings = Annotations.from_stack(stack).find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    assert [f for f in findings if "ContactEvents" in f.id] == []


def test_cdk_nag_has_no_unsuppressed_finding_on_the_contact_pipeline() -> None:
    stack, _ = synth()
    errors = Annotations.from_stack(stack).find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("AwsSolutions-.*"))
    assert [f.id for f in [*errors, *warnings] if "ContactEvents" in f.id or "ContactState" in f.id] == []


def test_contact_events_are_archived_for_replay_for_the_configured_days() -> None:
    _, template = synth()
    archive = properties_at(template, "AWS::Events::Archive", "ContactEvents/ContactEventArchive")
    assert archive["EventPattern"] == {
        "source": ["aws.connect"],
        "detail-type": ["Amazon Connect Contact Event"],
        "detail": {"instanceArn": [INSTANCE]},
    }
    assert archive["RetentionDays"] == 7
    assert "default" in json.dumps(archive["SourceArn"])
    _, without = synth(contactEventArchiveDays=0)
    assert resources(without, "AWS::Events::Archive") == {}
