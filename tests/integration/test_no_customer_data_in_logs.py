"""No customer phone number or email address is ever logged, even at DEBUG, whatever the input."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from connect_state.handlers import agent_events, contact_events, enrichment
from connect_state.observability import logger
from tests import describe_contact, samples
from tests.contact_lifecycles import FULL, lifecycle
from tests.integration.conftest import AgentPipeline, ContactPipeline, EnrichmentPipeline, sqs_event
from tests.lambda_context import FakeLambdaContext

PHONE = re.compile(r"\+\d{7,15}")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


@pytest.fixture
def debug_logs() -> Iterator[io.StringIO]:
    """Everything the functions' Logger writes, at DEBUG."""
    level, stream = logger.log_level, io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    original = handler.setStream(stream)
    logger.setLevel("DEBUG")
    yield stream
    logger.setLevel(level)
    handler.setStream(original)


def test_handlers_log_no_customer_endpoint(
    agent_pipeline: AgentPipeline,
    contact_pipeline: ContactPipeline,
    lambda_context: FakeLambdaContext,
    debug_logs: io.StringIO,
) -> None:
    # Given every sample, including contact events and contact records that carry customer phone numbers, and bad
    # input that does (a contact event with an invalid channel type, a record that is not an agent event)
    contact_bodies = [samples.load(path) for path in samples.CONTACT_EVENTS]
    broken = samples.sample("ce03")
    broken["detail"]["channel"] = {"customerEndpoint": {"address": "+15550100099"}}
    kinesis = [samples.kinesis_record(samples.load(p), samples.sequence(i)) for i, p in enumerate(samples.AGENT_EVENTS)]
    kinesis += [
        samples.kinesis_record(samples.load(p), samples.sequence(100 + i))
        for i, p in enumerate(samples.CONTACT_RECORDS)
    ]
    kinesis.append(
        samples.kinesis_record({"EventType": "LOGIN", "CustomerPhone": "+15550100098"}, samples.sequence(200))
    )
    assert PHONE.search(json.dumps(contact_bodies + [samples.load(p) for p in samples.CONTACT_RECORDS]))
    # When both functions handle them
    agent_events.lambda_handler(samples.kinesis_event(*kinesis), lambda_context)
    contact_events.lambda_handler(sqs_event(*contact_bodies, broken), lambda_context)
    # Then the logs say what happened, and hold no phone number or email address
    logs = debug_logs.getvalue()
    assert '"message":"contact event quarantined"' in logs
    assert '"message":"agent event batch"' in logs
    # each agent's line carries its ARN as correlation id, each contact's its contact id
    ae07 = samples.sample("ae07")["AgentARN"]
    assert '"message":"agent state merged","timestamp"' in logs
    assert any(
        '"message":"agent state merged"' in line and f'"correlation_id":"{ae07}"' in line for line in logs.splitlines()
    )
    assert '"message":"agent event quarantined"' in logs
    assert PHONE.findall(logs) == []
    assert EMAIL.findall(logs) == []


def test_enrichment_logs_no_customer_endpoint(
    enrichment_pipeline: EnrichmentPipeline, lambda_context: FakeLambdaContext, debug_logs: io.StringIO
) -> None:
    # Given DescribeContact answers whose CustomerEndpoint and SystemEndpoint are phone numbers
    voice = lifecycle("c-logged", FULL)
    enrichment_pipeline.send(enrichment_pipeline.completed_url, voice[-1])
    enrichment_pipeline.stubber.add_response("describe_contact", describe_contact.answer(voice[-1], acw_seconds=7))
    enrichment.lambda_handler(enrichment_pipeline.poll(enrichment_pipeline.completed_url), lambda_context)
    # Then the logs say what happened, and hold no phone number
    logs = debug_logs.getvalue()
    assert '"outcome":"enriched"' in logs
    assert describe_contact.CUSTOMER_PHONE not in logs
    assert PHONE.findall(logs) == []
    assert EMAIL.findall(logs) == []
