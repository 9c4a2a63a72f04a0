"""`make cost`'s measurement: a small simulated run through the real handlers on moto, counted request by request."""

from __future__ import annotations

import boto3
import pytest

from connect_state.observability import logger
from demo.contact_centre import DEFAULT_INSTANCE_ARN
from tests.bench.cost_measure import (
    AGENT_FUNCTION,
    CONTACT_FUNCTION,
    ENRICHMENT_FUNCTION,
    Measurement,
    facts_from_resources,
    measure,
)
from tests.infrastructure.conftest import synth

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("cdk")]  # a simulated run of the contact centre


@pytest.fixture(scope="module")
def measured() -> Measurement:
    _, template = synth(connectInstanceArn=DEFAULT_INSTANCE_ARN)
    session, stream = boto3.DEFAULT_SESSION, logger.registered_handler.stream  # type: ignore[attr-defined]
    result = measure(agents=2, minutes=10, seed=3, facts=facts_from_resources(template.to_json()["Resources"]))
    # The run borrows the process's default session and log stream: both are given back.
    assert boto3.DEFAULT_SESSION is session
    assert logger.registered_handler.stream is stream  # type: ignore[attr-defined]
    return result


def test_every_planned_record_reaches_its_function_and_none_fails(measured: Measurement) -> None:
    planned = dict.fromkeys(measured.usage, 0)
    for invocation in measured.traffic.invocations:
        planned[invocation.function] += len(invocation.records)
    assert {name: usage.records for name, usage in measured.usage.items()} == planned
    assert all(planned.values())
    assert sum(usage.failed_records for usage in measured.usage.values()) == 0


def test_writes_are_counted_with_their_units_and_the_contact_indexes_cost_extra(measured: Measurement) -> None:
    agent = measured.usage[AGENT_FUNCTION]
    contact = measured.usage[CONTACT_FUNCTION]
    assert 0 < agent.requests["dynamodb:UpdateItem"] <= agent.records  # at most one write per record
    assert agent.write_units["AgentState"] >= agent.requests["dynamodb:UpdateItem"]
    # The contact table's byQueue/byAgent indexes take writes of their own on top of the table's.
    assert contact.write_units["ContactState"] > contact.requests["dynamodb:UpdateItem"]
    assert measured.table_items["AgentState"] == 2
    assert measured.index_bytes["ContactState"] > 0


def test_enrichment_calls_describe_contact_once_per_completed_contact_at_most(measured: Measurement) -> None:
    enrichment = measured.usage[ENRICHMENT_FUNCTION]
    assert 0 < enrichment.describe_contact_calls <= measured.traffic.deliveries["completed"]
    assert enrichment.requests["dynamodb:PutItem"] == enrichment.describe_contact_calls  # one call slot per call


def test_logs_metrics_and_cpu_time_are_measured(measured: Measurement) -> None:
    assert all(usage.log_bytes > 0 for usage in measured.usage.values())
    assert all(usage.busy_seconds > 0 for usage in measured.usage.values())
    names = {metric for _, _, metric in measured.metric_series}
    assert {"AgentEventsApplied", "ContactEventsApplied"} <= names
    assert all(seconds > 0 for seconds in measured.init_seconds.values())
