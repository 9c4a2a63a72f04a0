"""Alarms watch the right metrics with the configured thresholds, and notify the topic."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stacks.app_factory import STACK_NAME
from tests.infrastructure.conftest import resources, synth
from tests.metric_math import evaluate

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
        "ContactEventsQuarantine",
        "ContactEventsDeadLetter",
        "ContactEventRuleDeadLetter",
        "ContactEnrichmentDeadLetter",
        "EnrichmentCompletedRuleDeadLetter",
        "EnrichmentDisconnectedRuleDeadLetter",
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


# --- every alarm reaches someone ---------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
KEY = "arn:aws:kms:eu-west-2:111122223333:key/11111111-2222-3333-4444-555555555555"
OWN_TOPIC = "arn:aws:sns:eu-west-2:111122223333:oncall"
CLOUDWATCH = "cloudwatch.amazonaws.com"


def readme_section(title: str) -> str:
    return (ROOT / "README.md").read_text().split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def config_row(key: str) -> str:
    (row,) = [line for line in readme_section("Configuration").splitlines() if line.startswith(f"| `{key}`")]
    return row


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements_for(statements: list[dict[str, Any]], service: str, effect: str) -> list[dict[str, Any]]:
    return [
        s
        for s in statements
        if s["Effect"] == effect
        and (s.get("Principal") == "*" or service in as_list(s.get("Principal", {}).get("Service", [])))
    ]


def grants(statement: dict[str, Any], *actions: str) -> bool:
    granted = as_list(statement["Action"])
    return all(
        any(a == action or (a.endswith("*") and action.startswith(a[:-1])) for a in granted) for action in actions
    )


def assert_cloudwatch_may_publish(template: Any, topic_id: str) -> None:
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources(template, "AWS::SNS::TopicPolicy").values()
        if {"Ref": topic_id} in p["Properties"]["Topics"]
    ]
    assert policies, f"{topic_id} has no topic policy: SNS's default one would let the account's alarms publish"
    statements = [s for policy in policies for s in policy]
    allowed = [s for s in statements_for(statements, CLOUDWATCH, "Allow") if grants(s, "sns:Publish")]
    assert allowed, f"the policy of {topic_id} does not let {CLOUDWATCH} publish: every alarm is refused"
    for statement in allowed:
        # Scoped to this account's alarms, so no other account's alarm can publish through the service principal
        condition = json.dumps(statement.get("Condition", {}))
        assert all(text in condition for text in ("aws:SourceAccount", "AWS::AccountId")), statement
        assert all(text in condition for text in ("aws:SourceArn", ":cloudwatch:", ":alarm:*")), statement
    for statement in statements_for(statements, CLOUDWATCH, "Deny"):
        if grants(statement, "sns:Publish"):  # only a deny of plain-HTTP publishing is allowed
            assert statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}, statement

    key = resources(template, "AWS::SNS::Topic")[topic_id].get("Properties", {}).get("KmsMasterKeyId")
    if key is None:
        return
    keys = resources(template, "AWS::KMS::Key")
    key_id = next((ref for ref in keys if key in ({"Ref": ref}, {"Fn::GetAtt": [ref, "Arn"]})), None)
    if key_id is not None:  # a key of this stack: its policy must let CloudWatch encrypt the notification
        key_statements = keys[key_id]["Properties"]["KeyPolicy"]["Statement"]
        allowed_keys = statements_for(key_statements, CLOUDWATCH, "Allow")
        assert any(grants(s, "kms:GenerateDataKey*", "kms:Decrypt") for s in allowed_keys)
    else:  # an imported key: its policy is the user's, so the README must ask for the grant next to kmsKeyArn
        assert isinstance(key, str), key
        assert key.startswith("arn:aws:kms:"), key
        row = config_row("kmsKeyArn")
        assert all(text in row for text in (f"`{CLOUDWATCH}`", "`kms:GenerateDataKey*`", "`kms:Decrypt`")), row


@pytest.mark.parametrize(
    "overrides",
    [{}, {"kmsKeyArn": KEY}, {"alarms": {"topicArn": OWN_TOPIC}}],
    ids=["stack topic", "customer key", "own topic"],
)
def test_every_alarm_action_reaches_a_topic_that_lets_cloudwatch_publish(overrides: dict[str, Any]) -> None:
    _, template = synth(**overrides)
    topics = resources(template, "AWS::SNS::Topic")
    targets: set[str] = set()
    for alarm in alarms(template).values():
        for action in alarm.get("AlarmActions", []) + alarm.get("OKActions", []):
            if isinstance(action, dict) and action.get("Ref") in topics:
                targets.add(action["Ref"])
            else:  # the user's own topic (alarms.topicArn): its policy is theirs, the README must say what it needs
                assert action == OWN_TOPIC, action
                row = config_row("alarms.email")
                assert all(text in row for text in ("`alarms.topicArn`", f"`{CLOUDWATCH}`", "`sns:Publish`")), row
    assert targets or "topicArn" in json.dumps(overrides)
    for topic_id in targets:
        assert_cloudwatch_may_publish(template, topic_id)


# --- stable, documented alarm names --------------------------------------------------------------------------------


def documented_alarms() -> set[str]:
    section = readme_section("Operations")
    table = section.split("| alarm |", 1)[1].split("\n\n", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Za-z0-9]+)`", row.split(" | ", 1)[0])}


def test_every_alarm_has_a_stable_name_and_the_readme_lists_exactly_those() -> None:
    _, template = synth()
    found = resources(template, "AWS::CloudWatch::Alarm")
    names = {alarm["Properties"].get("AlarmName") for alarm in found.values()}
    # Given every alarm of the default deployment, Then each has a fixed name: <stack name>-<alarm>
    assert None not in names, "an alarm without AlarmName gets a generated one, unknown until it is deployed"
    for logical_id, alarm in found.items():
        construct_id = alarm["Metadata"]["aws:cdk:path"].split("/")[-2]
        assert alarm["Properties"]["AlarmName"] == f"{STACK_NAME}-{construct_id}", logical_id
    short_names = {name.removeprefix(f"{STACK_NAME}-") for name in names}
    # And the README's alarm table lists exactly those, and says how the full name is formed
    assert {
        "in the template, not in the README": short_names - documented_alarms(),
        "in the README, not in the template": documented_alarms() - short_names,
    } == {"in the template, not in the README": set(), "in the README, not in the template": set()}
    assert f"`{STACK_NAME}-<alarm>`" in readme_section("Operations")


# --- silence: no events while the centre is open -----------------------------------------------------------------

RECEIVED_AGENT = ("AgentEventsApplied", "AgentEventsStaleSkipped", "AgentEventsDuplicate")
RECEIVED_CONTACT = ("ContactEventsApplied", "ContactEventsStaleSkipped", "ContactEventsDuplicate")
OPEN = datetime(2026, 11, 18, 11, 0, tzinfo=UTC)  # a Wednesday, inside the default MON-FRI 09:00-17:00
NIGHT = datetime(2026, 11, 18, 23, 0, tzinfo=UTC)
SUNDAY = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)


def breaches(alarm: dict[str, Any], when: datetime, **values: float | None) -> bool:
    """Whether the alarm's expression, at one datapoint, is on the alarming side of its threshold."""
    value = evaluate(alarm["Metrics"], when, values)
    assert value is not None, "the expression must give a datapoint even when no event arrived"
    assert alarm["ComparisonOperator"] == "LessThanOrEqualToThreshold"
    threshold: float = alarm["Threshold"]
    return value <= threshold


def test_agent_events_silent_alarms_after_ten_minutes_without_an_agent_event_while_open() -> None:
    _, template = synth()
    alarm = alarms(template)["AgentEventsSilent"]
    # Every agent event the function understood, in five-minute periods, 2 of 2 silent: 10 minutes
    stats = [q["MetricStat"] for q in alarm["Metrics"] if "MetricStat" in q]
    assert {s["Metric"]["MetricName"] for s in stats} == set(RECEIVED_AGENT)
    assert {(s["Period"], s["Stat"], s["Metric"]["Namespace"]) for s in stats} == {(300, "Sum", "ConnectRealtimeState")}
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (2, 2)
    # Given no agent event at all (the metrics are missing, not zero) during opening hours, Then it breaches
    assert breaches(alarm, OPEN)
    # Given a heartbeat or any other agent event, Then it does not
    assert not breaches(alarm, OPEN, AgentEventsDuplicate=1)
    assert not breaches(alarm, OPEN, AgentEventsApplied=3)
    # Given the centre closed (the night, a Sunday), Then silence is expected and nobody is paged
    assert not breaches(alarm, NIGHT)
    assert not breaches(alarm, SUNDAY)


def test_contact_events_silent_alarms_when_agents_are_logged_in_but_no_contact_event_arrives() -> None:
    _, template = synth()
    alarm = alarms(template)["ContactEventsSilent"]
    stats = {q["MetricStat"]["Metric"]["MetricName"] for q in alarm["Metrics"] if "MetricStat" in q}
    assert stats == set(RECEIVED_AGENT) | set(RECEIVED_CONTACT)
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (6, 6)  # 30 minutes by default
    # Agents logged in (heartbeats every 120 s reach the agent function) and no contact event: breaches
    assert breaches(alarm, OPEN, AgentEventsDuplicate=4)
    # A contact event, or no agent logged in (the agent alarm covers a dead agent stream), or closed: it does not
    assert not breaches(alarm, OPEN, AgentEventsDuplicate=4, ContactEventsApplied=1)
    assert not breaches(alarm, OPEN)
    assert not breaches(alarm, NIGHT, AgentEventsApplied=2)


def test_silence_alarms_follow_the_configured_minutes_and_hours() -> None:
    _, template = synth(
        alarms={
            "openingHoursUtc": "SAT-SUN 10:00-14:00",
            "agentEventsSilentMinutes": 15,
            "contactEventsSilentMinutes": 62,
        }
    )
    by_name = alarms(template)
    assert by_name["AgentEventsSilent"]["EvaluationPeriods"] == 3
    assert by_name["ContactEventsSilent"]["EvaluationPeriods"] == 13  # rounded up to whole five-minute periods
    assert breaches(by_name["AgentEventsSilent"], SUNDAY)
    assert not breaches(by_name["AgentEventsSilent"], OPEN)


def test_without_opening_hours_there_is_no_silence_alarm() -> None:
    _, template = synth(alarms={"openingHoursUtc": "none"})
    assert not {"AgentEventsSilent", "ContactEventsSilent"} & set(alarms(template))


def test_silence_alarms_treat_a_missing_datapoint_as_silence() -> None:
    # The expression always has datapoints (FILL); should CloudWatch ever give none, the alarm errs on the loud side
    _, template = synth()
    for name in ("AgentEventsSilent", "ContactEventsSilent"):
        assert alarms(template)[name]["TreatMissingData"] == "breaching"
