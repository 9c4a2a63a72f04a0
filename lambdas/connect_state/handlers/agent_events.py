"""Kinesis agent event stream → agent state table. Powertools wiring only; the work is in service.agent_events."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from connect_state.config import agent_events_config
from connect_state.domain.agent_state import AgentState
from connect_state.metric_names import MetricName
from connect_state.observability import logger, metrics, tracer
from connect_state.service.agent_events import AgentEventBatch, AgentStateWriter, BatchReport, StreamRecord
from connect_state.store.agent_state_store import DynamoDBAgentStateStore
from connect_state.store.quarantine import SqsQuarantine

# Records are parsed by the Parser models inside the service rather than by BatchProcessor(model=...): a record that
# fails validation must be quarantined with its reason, not reported as a failure that Lambda retries forever.
processor = BatchProcessor(event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)
# Every key the service counts (tests/infrastructure/test_metric_names.py checks that none is missing).
METRIC_NAMES = {
    "applied": MetricName.AGENT_EVENTS_APPLIED,
    "stale": MetricName.AGENT_EVENTS_STALE_SKIPPED,
    "duplicate": MetricName.AGENT_EVENTS_DUPLICATE,
    "quarantined": MetricName.AGENT_EVENTS_QUARANTINED,
    "foreign:ContactTraceRecord": MetricName.FOREIGN_RECORDS_SKIPPED,
    "foreign:ContactLensSegment": MetricName.FOREIGN_RECORDS_SKIPPED,
}


@cache
def _writer() -> AgentStateWriter:
    config = agent_events_config()
    store = DynamoDBAgentStateStore(boto3.client("dynamodb"), config.agent_table_name)
    cache_: dict[str, AgentState] = {}
    return AgentStateWriter(store, config.state_ttl_days, cache_)


@cache
def _quarantine() -> SqsQuarantine:
    return SqsQuarantine(boto3.client("sqs"), agent_events_config().quarantine_queue_url)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    batch: AgentEventBatch[KinesisStreamRecord] = AgentEventBatch(
        _writer(), _quarantine(), agent_events_config().max_agent_event_bytes
    )

    def classify(record: KinesisStreamRecord) -> str:
        kinesis = record.kinesis
        origin = {
            "eventSourceARN": record.event_source_arn,
            "eventID": record.event_id,
            "partitionKey": kinesis.partition_key,
            "sequenceNumber": kinesis.sequence_number,
        }
        return batch.accept(StreamRecord(record, kinesis.data, kinesis.sequence_number, origin))

    with processor(records=event["Records"], handler=classify):
        processor.process()
        report = batch.flush()
        for record, error in report.failed:
            processor.failure_handler(record, (type(error), error, error.__traceback__))
    _publish(report)
    return processor.response()  # type: ignore[return-value]


def _publish(report: BatchReport[KinesisStreamRecord]) -> None:
    _log(report)
    for outcome, count in report.counts.items():
        metrics.add_metric(name=METRIC_NAMES[outcome], unit=MetricUnit.Count, value=count)
    if report.failed:
        metrics.add_metric(name=MetricName.AGENT_EVENTS_RETRIED, unit=MetricUnit.Count, value=len(report.failed))
    if report.lag_seconds:
        metrics.add_metric(
            name=MetricName.AGENT_EVENT_LAG_SECONDS, unit=MetricUnit.Seconds, value=max(report.lag_seconds)
        )


def _log(report: BatchReport[KinesisStreamRecord]) -> None:
    """A batch summary, then one line per agent correlated by its ARN (DEBUG unless it failed), then one per
    quarantined record with where to find it. Counts and reasons only: bodies (names, contact ids) are never logged."""
    logger.info("agent event batch", extra={"outcomes": dict(report.counts), "retried": len(report.failed)})
    for agent in report.agents:
        logger.set_correlation_id(agent.agent_arn)
        if agent.error is not None:
            logger.warning(
                "agent event write failed; Lambda will retry",
                extra={"error": type(agent.error).__name__, "events": agent.events},
            )
        else:
            logger.debug("agent state merged", extra={"events": agent.events, "outcomes": agent.outcomes})
    logger.set_correlation_id(None)
    for origin, reason in report.quarantined:
        logger.warning(
            "agent event quarantined",
            extra={"reason": reason, "sequenceNumber": origin.get("sequenceNumber"), "shard": origin.get("eventID")},
        )
