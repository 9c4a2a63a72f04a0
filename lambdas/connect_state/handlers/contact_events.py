"""Contact events (EventBridge rule → SQS buffer queue) → contact state table. Powertools wiring only; the work is in
service.contact_events.

Why a queue between the rule and the function: EventBridge invokes a Lambda target once per event, concurrently, and
retries on its own schedule with no view of partial failure. The buffer queue gives batches (events of one contact
coalesced into one write), partial-batch failure reporting through BatchProcessor(EventType.SQS), a dead-letter queue
that keeps failed messages 14 days, and a backlog metric (ApproximateAgeOfOldestMessage) to alarm on.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from connect_state.config import contact_events_config
from connect_state.metric_names import MetricName
from connect_state.observability import logger, metrics, tracer
from connect_state.service.contact_events import (
    BatchReport,
    ContactEventBatch,
    ContactStateWriter,
    LruCache,
    QueueMessage,
)
from connect_state.store.contact_state_store import DynamoDBContactStateStore
from connect_state.store.event_publisher import EventBridgePublisher
from connect_state.store.quarantine import SqsQuarantine

# Bodies are parsed by the Parser models inside the service rather than by BatchProcessor(model=...): a message that
# fails validation must be quarantined with its reason, not reported as a failure that SQS redelivers until the DLQ.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
# Every key the service counts (tests/infrastructure/test_metric_names.py checks that none is missing).
METRIC_NAMES = {
    "applied": MetricName.CONTACT_EVENTS_APPLIED,
    "stale": MetricName.CONTACT_EVENTS_STALE_SKIPPED,
    "duplicate": MetricName.CONTACT_EVENTS_DUPLICATE,
    "quarantined": MetricName.CONTACT_EVENTS_QUARANTINED,
    "abandoned": MetricName.CONTACTS_ABANDONED,
    "unknown_event_type": MetricName.CONTACT_EVENTS_UNKNOWN_TYPE,
    "no_envelope": MetricName.CONTACT_EVENTS_WITHOUT_ENVELOPE,
}


@cache
def _store() -> DynamoDBContactStateStore:
    return DynamoDBContactStateStore(boto3.client("dynamodb"), contact_events_config().contact_table_name)


@cache
def _writer() -> ContactStateWriter:
    config = contact_events_config()
    publisher = EventBridgePublisher(boto3.client("events"), config.event_bus_name)
    return ContactStateWriter(_store(), publisher, config.state_ttl_days, LruCache())


@cache
def _quarantine() -> SqsQuarantine:
    return SqsQuarantine(boto3.client("sqs"), contact_events_config().quarantine_queue_url)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    batch: ContactEventBatch[SQSRecord] = ContactEventBatch(_writer(), _quarantine())

    def parse(record: SQSRecord) -> str:
        origin = {"messageId": record.message_id, "eventSourceARN": record.event_source_arn}
        return batch.accept(QueueMessage(record, record.body, origin))

    with processor(records=event["Records"], handler=parse):
        processor.process()
        report = batch.flush()
        for record, error in report.failed:
            processor.failure_handler(record, (type(error), error, error.__traceback__))
    _log(report)
    _publish(report)
    return processor.response()  # type: ignore[return-value]


def _log(report: BatchReport[SQSRecord]) -> None:
    """One line per contact, correlated by contactId; never the event body (it may hold phone numbers)."""
    for contact in report.contacts:
        logger.set_correlation_id(contact.contact_id)
        if contact.error is not None:
            logger.warning("contact events retried", extra={"error": type(contact.error).__name__})
        elif contact.announced:
            logger.info("contact abandoned: announced", extra={"status": contact.status})
        else:
            logger.debug("contact state merged", extra={"status": contact.status, "outcomes": contact.outcomes})
    logger.set_correlation_id(None)
    for message_id, reason in report.quarantined:
        logger.warning("contact event quarantined", extra={"messageId": message_id, "reason": reason})


def _publish(report: BatchReport[SQSRecord]) -> None:
    for outcome, count in report.counts.items():
        metrics.add_metric(name=METRIC_NAMES[outcome], unit=MetricUnit.Count, value=count)
    if report.failed:
        metrics.add_metric(name=MetricName.CONTACT_EVENTS_RETRIED, unit=MetricUnit.Count, value=len(report.failed))
    if report.lag_seconds:
        metrics.add_metric(
            name=MetricName.CONTACT_EVENT_LAG_SECONDS, unit=MetricUnit.Seconds, value=max(report.lag_seconds)
        )
