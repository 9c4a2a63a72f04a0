"""DescribeContact enrichment as synthesized: triggers, the delay, the rate settings, retries and least privilege."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infrastructure.conftest import logical_id_of, properties_at, resources, synth
from tests.infrastructure.test_contact_events_infra import INSTANCE
from tests.infrastructure.test_monitoring_infra import alarms

pytestmark = pytest.mark.xdist_group("cdk")
COMPLETED_QUEUE = "ContactEnrichment/CompletedQueue/"
DELAY_QUEUE = "ContactEnrichment/DisconnectedDelayQueue/"


def function(template: Any) -> dict[str, Any]:
    return properties_at(template, "AWS::Lambda::Function", "ContactEnrichment/Function/")


def statements(template: Any) -> list[dict[str, Any]]:
    policy = properties_at(template, "AWS::IAM::Policy", "ContactEnrichment/FunctionRole/DefaultPolicy")
    return policy["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("event_type", "queue"), [("COMPLETED", COMPLETED_QUEUE), ("DISCONNECTED", DELAY_QUEUE)])
def test_each_trigger_rule_sends_its_event_type_to_its_queue(event_type: str, queue: str) -> None:
    _, template = synth()
    rule = properties_at(template, "AWS::Events::Rule", f"ContactEnrichment/{event_type.title()}Rule/")
    assert rule["EventPattern"] == {
        "source": ["aws.connect"],
        "detail-type": ["Amazon Connect Contact Event"],
        "detail": {"instanceArn": [INSTANCE], "eventType": [event_type]},
    }
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [logical_id_of(template, "AWS::SQS::Queue", queue), "Arn"]}
    # its own dead-letter queue: a redrive sends its events back to its queue only (ops.redrive)
    rule_dlq = logical_id_of(template, "AWS::SQS::Queue", f"ContactEnrichment/{event_type.title()}RuleDeadLetter/")
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [rule_dlq, "Arn"]}}


def test_disconnected_events_wait_in_a_delay_queue_for_the_configured_minutes() -> None:
    _, default = synth()
    assert properties_at(default, "AWS::SQS::Queue", DELAY_QUEUE)["DelaySeconds"] == 900
    assert "DelaySeconds" not in properties_at(default, "AWS::SQS::Queue", COMPLETED_QUEUE)
    _, custom = synth(enrichment={"disconnectedDelayMinutes": 5})
    assert properties_at(custom, "AWS::SQS::Queue", DELAY_QUEUE)["DelaySeconds"] == 300


def test_both_queues_feed_the_function_in_batches_with_bounded_concurrency_and_partial_failures() -> None:
    _, template = synth()
    mappings = resources(template, "AWS::Lambda::EventSourceMapping")
    queues = {logical_id_of(template, "AWS::SQS::Queue", q) for q in (COMPLETED_QUEUE, DELAY_QUEUE)}
    enrichment = [
        m["Properties"] for m in mappings.values() if m["Properties"]["EventSourceArn"]["Fn::GetAtt"][0] in queues
    ]
    assert len(enrichment) == 2
    for mapping in enrichment:
        assert mapping["BatchSize"] == 10
        assert mapping["ScalingConfig"] == {"MaximumConcurrency": 2}
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_rate_and_attempt_limits_reach_the_function() -> None:
    _, template = synth(enrichment={"ratePerSecond": 2.5, "maxAttempts": 4, "notFoundAttempts": 3})
    environment = function(template)["Environment"]["Variables"]
    assert (environment["RATE_PER_SECOND"], environment["MAX_ATTEMPTS"], environment["NOT_FOUND_ATTEMPTS"]) == (
        "2.5",
        "4",
        "3",
    )
    # SQS moves a message itself only a few receives after the function's own limit (crashes, timeouts)
    redrive = properties_at(template, "AWS::SQS::Queue", COMPLETED_QUEUE)["RedrivePolicy"]
    dlq = logical_id_of(template, "AWS::SQS::Queue", "ContactEnrichment/DeadLetter")
    assert redrive == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]}, "maxReceiveCount": 4 + 3}


def test_describe_contact_is_allowed_only_on_the_configured_instances_contacts() -> None:
    _, template = synth()
    connect = [s for s in statements(template) if "connect" in str(s["Action"])]
    assert connect == [{"Action": "connect:DescribeContact", "Effect": "Allow", "Resource": f"{INSTANCE}/contact/*"}]


def test_the_function_reads_and_updates_contact_items_and_claims_slots_nothing_more() -> None:
    _, template = synth()
    dynamodb = {
        s["Action"] if isinstance(s["Action"], str) else tuple(s["Action"]): s["Resource"]
        for s in statements(template)
        if "dynamodb" in str(s["Action"])
    }
    contact_table = logical_id_of(template, "AWS::DynamoDB::GlobalTable", "State/ContactState")
    slots = logical_id_of(template, "AWS::DynamoDB::GlobalTable", "ContactEnrichment/CallSlots")
    assert dynamodb == {
        ("dynamodb:GetItem", "dynamodb:UpdateItem"): {"Fn::GetAtt": [contact_table, "Arn"]},
        "dynamodb:PutItem": {"Fn::GetAtt": [slots, "Arn"]},
    }
    assert properties_at(template, "AWS::DynamoDB::GlobalTable", "ContactEnrichment/CallSlots")[
        "TimeToLiveSpecification"
    ] == {
        "AttributeName": "ttl",
        "Enabled": True,
    }


def test_backlog_and_dead_letter_alarms_use_the_configured_threshold() -> None:
    _, template = synth(alarms={"enrichmentBacklogAgeSeconds": 600})
    by_name = alarms(template)
    completed, delayed = by_name["EnrichmentCompletedBacklog"], by_name["EnrichmentDisconnectedBacklog"]
    assert (completed["MetricName"], completed["Statistic"]) == ("ApproximateAgeOfOldestMessage", "Maximum")
    assert completed["Threshold"] == 600
    assert delayed["Threshold"] == 900 + 600  # its messages are 15 minutes old before they may be read
    assert by_name["ContactEnrichmentDeadLetterNotEmpty"]["Threshold"] == 0
    assert {"ContactEnrichmentErrors", "ContactEnrichmentThrottles"} <= by_name.keys()


def test_enrichment_can_be_switched_off() -> None:
    _, template = synth(enrichment={"enabled": False})
    handlers = {f["Properties"]["Handler"] for f in resources(template, "AWS::Lambda::Function").values()}
    assert "connect_state.handlers.enrichment.lambda_handler" not in handlers
    assert "connect:DescribeContact" not in str(template.to_json())
