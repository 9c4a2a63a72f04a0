"""Alarms watch the right metrics with the configured thresholds, and notify the topic."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infrastructure.conftest import resources, synth

pytestmark = pytest.mark.xdist_group("cdk")


def alarms(template: Any) -> dict[str, dict[str, Any]]:
    found = resources(template, "AWS::CloudWatch::Alarm")
    return {v["Metadata"]["aws:cdk:path"].split("/")[-2]: v["Properties"] for v in found.values()}


def test_iterator_age_alarm_uses_the_configured_threshold_in_milliseconds() -> None:
    _, template = synth(alarms={"iteratorAgeSeconds": 120})
    alarm = alarms(template)["AgentStreamIteratorAge"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/Lambda", "IteratorAge", "Maximum")
    assert alarm["Threshold"] == 120_000
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_every_queue_that_must_stay_empty_alarms_on_its_first_message() -> None:
    _, template = synth()
    by_name = alarms(template)
    for name in (
        "AgentEventsQuarantine",
        "AgentEventsOnFailure",
        "ContactEventsQuarantine",
        "ContactEventsDeadLetter",
        "ContactEventRuleDeadLetter",
    ):
        alarm = by_name[f"{name}NotEmpty"]
        assert (alarm["MetricName"], alarm["Threshold"]) == ("ApproximateNumberOfMessagesVisible", 0), name
        assert alarm["TreatMissingData"] == "notBreaching"


def test_end_to_end_lag_alarms_read_the_functions_emf_metrics() -> None:
    _, template = synth(alarms={"endToEndLagSeconds": 45})
    for name in ("AgentEventLag", "ContactEventLag"):
        alarm = alarms(template)[name]
        assert alarm["Namespace"] == "ConnectRealtimeState"
        assert alarm["MetricName"] == f"{name}Seconds"
        assert alarm["Dimensions"] == [{"Name": "service", "Value": "connect-realtime-state"}]
        assert alarm["Threshold"] == 45


def test_function_errors_and_throttles_alarm_and_every_alarm_notifies_the_topic() -> None:
    _, template = synth()
    by_name = alarms(template)
    assert {"AgentEventsErrors", "AgentEventsThrottles", "ContactEventsErrors", "ContactEventsThrottles"} <= set(
        by_name
    )
    (topic_id,) = resources(template, "AWS::SNS::Topic")
    for alarm in by_name.values():
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]


def test_alarm_email_subscribes_to_the_topic() -> None:
    _, template = synth(alarms={"email": "oncall@example.com"})
    (subscription,) = resources(template, "AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "oncall@example.com"


def test_function_error_and_throttle_alarms_use_the_configured_thresholds() -> None:
    _, template = synth(alarms={"functionErrors": 3, "functionThrottles": 5})
    by_name = alarms(template)
    for function in ("AgentEvents", "ContactEvents", "ContactEnrichment"):
        errors, throttles = by_name[f"{function}Errors"], by_name[f"{function}Throttles"]
        assert (errors["Namespace"], errors["MetricName"], errors["Statistic"]) == ("AWS/Lambda", "Errors", "Sum")
        assert (errors["Threshold"], throttles["MetricName"], throttles["Threshold"]) == (3, "Throttles", 5)
