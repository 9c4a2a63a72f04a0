"""Contact events (EventBridge rule → SQS buffer queue) → contact state table. Wiring only; the work is in
service.contact_events. Partial batch failures as in every handler: the service returns the message ids SQS must
deliver again, returned here as `batchItemFailures` (why not Powertools' BatchProcessor: handlers.agent_events).

Why a queue between the rule and the function: EventBridge invokes a Lambda target once per event, concurrently, and
retries on its own schedule with no view of partial failure. The buffer queue gives batches (events of one contact
coalesced into one write), partial-batch failure reporting, a dead-letter queue that keeps failed messages 14 days,
and a backlog metric (ApproximateAgeOfOldestMessage) to alarm on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from connect_state.adapters.conditional_write import CLIENT_CONFIG as DYNAMODB_CONFIG
from connect_state.adapters.contact_state_store import DynamoDBContactStateStore
from connect_state.adapters.event_publisher import EventBridgePublisher
from connect_state.adapters.quarantine import SqsQuarantine
from connect_state.config import ContactEventsConfig, PerContainer, contact_events_config
from connect_state.domain.contact_state import ContactState
from connect_state.metric_names import MetricName
from connect_state.observability import add_batch_metrics, debug_enabled, instrumented, logger
from connect_state.service.coalescing import BatchReport
from connect_state.service.contact_events import ContactStateWriter, QueueMessage, process

# Every key the service counts (tests/infrastructure/test_metric_names.py checks that none is missing).
METRIC_NAMES = {
    "applied": MetricName.CONTACT_EVENTS_APPLIED,
    "stale": MetricName.CONTACT_EVENTS_STALE_SKIPPED,
    "duplicate": MetricName.CONTACT_EVENTS_DUPLICATE,
    "quarantined": MetricName.CONTACT_EVENTS_QUARANTINED,
    "abandoned": MetricName.CONTACT_ABANDONED_PUBLISHED,
    "unknown_event_type": MetricName.CONTACT_EVENTS_UNKNOWN_TYPE,
}


@dataclass(frozen=True)
class Dependencies:
    config: ContactEventsConfig
    store: DynamoDBContactStateStore
    publisher: EventBridgePublisher
    writer: ContactStateWriter
    quarantine: SqsQuarantine


def build() -> Dependencies:
    config = contact_events_config()
    store = DynamoDBContactStateStore(boto3.client("dynamodb", config=DYNAMODB_CONFIG), config.contact_table_name)
    publisher = EventBridgePublisher(boto3.client("events"), config.event_bus_name)
    return Dependencies(
        config,
        store,
        publisher,
        ContactStateWriter(store, publisher, config.state_ttl_days),
        SqsQuarantine(boto3.client("sqs"), config.quarantine_queue_url),
    )


dependencies = PerContainer(build)  # one factory per handler (config.PerContainer)


@instrumented
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    messages = [
        QueueMessage(
            record.message_id,
            record.body,
            {"messageId": record.message_id, "eventSourceARN": record.event_source_arn},
        )
        for record in SQSEvent(event).records
    ]
    # Bodies are decoded in the service rather than by a Parser envelope: a message that fails validation must be
    # quarantined with its reason, not reported as a failure that SQS redelivers until the DLQ.
    deps = dependencies()
    report = process(messages, deps.writer, deps.quarantine)
    _log(report)
    _emit_metrics(report)
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in report.failed]}


def _log(report: BatchReport[ContactState]) -> None:
    """One line per contact, correlated by contactId; never the event body (it may hold phone numbers)."""
    debug = debug_enabled()
    for contact in report.results:
        if contact.applied is not None and not contact.applied.announced and not debug:
            continue
        logger.set_correlation_id(contact.key)
        if contact.applied is None:
            logger.warning("contact events retried", extra={"error": type(contact.error).__name__})
        elif contact.applied.announced:
            logger.info("contact abandoned: announced", extra={"status": contact.applied.state.status})
        else:
            extra = {"status": contact.applied.state.status, "outcomes": contact.applied.outcomes}
            logger.debug("contact state merged", extra=extra)
    logger.set_correlation_id(None)
    for origin, reason in report.quarantined:
        logger.warning("contact event quarantined", extra={"messageId": origin.get("messageId"), "reason": reason})


def _emit_metrics(report: BatchReport[ContactState]) -> None:
    add_batch_metrics(report, METRIC_NAMES, MetricName.CONTACT_EVENTS_RETRIED, MetricName.CONTACT_EVENT_LAG_SECONDS)
