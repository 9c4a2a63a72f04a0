"""What the runbook (README "Operations", the ops tools) needs from the synthesized stack: a dead-letter queue per
EventBridge route, and outputs for every name an operator or a tool would otherwise dig out of the resources."""

from __future__ import annotations

from typing import Any

import pytest

from ops.redrive import ROUTES
from tests.infrastructure.conftest import logical_id_of, resources, synth
from tests.infrastructure.test_monitoring_infra import alarms

pytestmark = pytest.mark.xdist_group("cdk")
RULES = {
    "ContactEvents/ContactEventRule": "ContactEvents/Buffer/",
    "ContactEnrichment/CompletedRule": "ContactEnrichment/CompletedQueue/",
    "ContactEnrichment/DisconnectedRule": "ContactEnrichment/DisconnectedDelayQueue/",
}


def outputs(template: Any) -> dict[str, Any]:
    return {key: output["Value"] for key, output in template.find_outputs("*").items()}


def test_each_eventbridge_route_has_a_dead_letter_queue_of_its_own_that_alarms() -> None:
    _, template = synth()
    rules = resources(template, "AWS::Events::Rule")
    dead_letter_queues = {}
    for rule_path, queue_path in RULES.items():
        (target,) = rules[logical_id_of(template, "AWS::Events::Rule", rule_path)]["Properties"]["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [logical_id_of(template, "AWS::SQS::Queue", queue_path), "Arn"]}
        dead_letter_queues[rule_path] = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    # one queue per route: redriving one cannot hand another route's events to the wrong consumer
    assert len(set(dead_letter_queues.values())) == len(RULES)
    by_name = alarms(template)
    route_dead_letters = (
        "ContactEventRuleDeadLetter",
        "EnrichmentCompletedRuleDeadLetter",
        "EnrichmentDisconnectedRuleDeadLetter",
    )
    for name in route_dead_letters:
        alarm = by_name[f"{name}NotEmpty"]
        assert (alarm["MetricName"], alarm["Threshold"]) == ("ApproximateNumberOfMessagesVisible", 0), name


def test_outputs_name_what_an_operator_types() -> None:
    _, template = synth()
    values = outputs(template)
    function = logical_id_of(template, "AWS::Lambda::Function", "AgentEvents/Function/Resource")
    stream = logical_id_of(template, "AWS::Kinesis::Stream", "AgentEvents/AgentEventStream")
    assert values["AgentEventsFunctionName"] == {"Ref": function}
    assert values["AgentEventStreamName"] == {"Ref": stream}
    queues = {
        "ContactEventsBufferQueue": "ContactEvents/Buffer/",
        "ContactEventsDeadLetterQueue": "ContactEvents/BufferDeadLetter/",
        "ContactEnrichmentCompletedQueue": "ContactEnrichment/CompletedQueue/",
        "ContactEnrichmentDisconnectedQueue": "ContactEnrichment/DisconnectedDelayQueue/",
        "ContactEnrichmentDeadLetterQueue": "ContactEnrichment/DeadLetter/",
        "ContactEventRuleDeadLetterQueue": "ContactEvents/RuleDeadLetter/",
        "ContactEnrichmentCompletedRuleDeadLetterQueue": "ContactEnrichment/CompletedRuleDeadLetter/",
        "ContactEnrichmentDisconnectedRuleDeadLetterQueue": "ContactEnrichment/DisconnectedRuleDeadLetter/",
    }
    for name, path in queues.items():
        queue = logical_id_of(template, "AWS::SQS::Queue", path)
        assert values[f"{name}Url"] == {"Ref": queue}, name
        assert values[f"{name}Arn"] == {"Fn::GetAtt": [queue, "Arn"]}, name


def test_every_output_the_redrive_reads_exists() -> None:
    _, template = synth()
    values = outputs(template)
    for route in ROUTES:
        assert {route.source_output, route.destination_output} <= set(values), route.name
