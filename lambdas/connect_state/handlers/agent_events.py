"""Kinesis agent event stream → agent state table. Wiring only; the work is in service.agent_events.

Partial batch failures, the same shape in every handler: the service takes the whole batch and returns the ids of the
records Lambda must deliver again; the handler returns them as `batchItemFailures` (the event source mapping reports
batch item failures). Powertools' BatchProcessor is not used: it settles each record when its record handler returns,
but here a record's fate is known only once the batch is coalesced and written (one write per agent), so using it
meant pushing failures back into it by hand after flush() and carrying its record objects through the service.

Dependencies, the same shape in every handler: one factory, `dependencies` (connect_state.config.PerContainer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools.utilities.data_classes import KinesisStreamEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from connect_state.adapters.agent_state_store import DynamoDBAgentStateStore
from connect_state.adapters.conditional_write import CLIENT_CONFIG as DYNAMODB_CONFIG
from connect_state.adapters.quarantine import SqsQuarantine
from connect_state.config import AgentEventsConfig, PerContainer, agent_events_config
from connect_state.domain.agent_state import AgentState
from connect_state.metric_names import MetricName
from connect_state.observability import add_batch_metrics, debug_enabled, instrumented, logger
from connect_state.service.agent_events import AgentStateWriter, StreamRecord, process
from connect_state.service.coalescing import BatchReport

# Every key the service counts (tests/infrastructure/test_metric_names.py checks that none is missing).
METRIC_NAMES = {
    "applied": MetricName.AGENT_EVENTS_APPLIED,
    "stale": MetricName.AGENT_EVENTS_STALE_SKIPPED,
    "duplicate": MetricName.AGENT_EVENTS_DUPLICATE,
    "quarantined": MetricName.AGENT_EVENTS_QUARANTINED,
    # Contact records are counted with the foreign records until the contact state applies them (issue 17).
    "contactRecordSkipped": MetricName.FOREIGN_RECORDS_SKIPPED,
    "foreign:ContactLensSegment": MetricName.FOREIGN_RECORDS_SKIPPED,
}


@dataclass(frozen=True)
class Dependencies:
    config: AgentEventsConfig
    store: DynamoDBAgentStateStore
    writer: AgentStateWriter
    quarantine: SqsQuarantine


def build() -> Dependencies:
    config = agent_events_config()
    store = DynamoDBAgentStateStore(boto3.client("dynamodb", config=DYNAMODB_CONFIG), config.agent_table_name)
    return Dependencies(
        config,
        store,
        AgentStateWriter(store, config.state_ttl_days),
        SqsQuarantine(boto3.client("sqs"), config.quarantine_queue_url),
    )


dependencies = PerContainer(build)


@instrumented
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = [
        StreamRecord(
            record.kinesis.sequence_number,
            record.kinesis.data,
            {
                "eventSourceARN": record.event_source_arn,
                "eventID": record.event_id,
                "partitionKey": record.kinesis.partition_key,
                "sequenceNumber": record.kinesis.sequence_number,
            },
        )
        for record in KinesisStreamEvent(event).records
    ]
    # Records are decoded in the service rather than by a Parser envelope: a record that fails validation must be
    # quarantined with its reason, not reported as a failure that Lambda retries forever.
    deps = dependencies()
    report = process(records, deps.writer, deps.quarantine, deps.config.max_agent_event_bytes)
    _log(report)
    _emit_metrics(report)
    return {"batchItemFailures": [{"itemIdentifier": sequence_number} for sequence_number in report.failed]}


def _emit_metrics(report: BatchReport[AgentState]) -> None:
    add_batch_metrics(report, METRIC_NAMES, MetricName.AGENT_EVENTS_RETRIED, MetricName.AGENT_EVENT_LAG_SECONDS)


def _log(report: BatchReport[AgentState]) -> None:
    """A batch summary, then one line per agent correlated by its ARN (DEBUG unless it failed), then one per
    quarantined record with where to find it. Counts and reasons only: bodies (names, contact ids) are never logged."""
    logger.info("agent event batch", extra={"outcomes": dict(report.counts), "retried": len(report.failed)})
    debug = debug_enabled()
    for agent in report.results:
        if agent.applied is not None and not debug:
            continue
        logger.set_correlation_id(agent.key)
        if agent.applied is None:
            logger.warning(
                "agent event write failed; Lambda will retry",
                extra={"error": type(agent.error).__name__, "events": agent.events},
            )
        else:
            logger.debug("agent state merged", extra={"events": agent.events, "outcomes": agent.applied.outcomes})
    logger.set_correlation_id(None)
    for origin, reason in report.quarantined:
        logger.warning(
            "agent event quarantined",
            extra={"reason": reason, "sequenceNumber": origin.get("sequenceNumber"), "shard": origin.get("eventID")},
        )
