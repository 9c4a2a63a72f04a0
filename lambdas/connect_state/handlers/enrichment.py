"""Finished contacts (COMPLETED at once, DISCONNECTED after a delay; both SQS queues) → DescribeContact → the contact
state table. Wiring only; the work is in service.enrichment. Partial batch failures as in every handler: the service
returns the message ids SQS must deliver again, returned here as `batchItemFailures` (why not Powertools'
BatchProcessor: handlers.agent_events).

The rate limit holds across containers because every call claims a slot in the call-slots table; the container's
RateGate is kept (in `dependencies`, one factory per handler: config.PerContainer) so it remembers which slots it has
seen taken.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from connect_state.adapters.call_slots import DynamoDBCallSlots
from connect_state.adapters.conditional_write import CLIENT_CONFIG as DYNAMODB_CONFIG
from connect_state.adapters.contact_api import CLIENT_CONFIG, ConnectContactApi
from connect_state.adapters.contact_state_store import DynamoDBContactStateStore
from connect_state.adapters.message_retry import SqsMessageRetry
from connect_state.adapters.quarantine import SqsQuarantine
from connect_state.config import EnrichmentConfig, PerContainer, enrichment_config
from connect_state.metric_names import MetricName
from connect_state.observability import add_counts, instrumented, logger
from connect_state.service.enrichment import (
    BatchReport,
    EnrichmentBatch,
    EnrichmentMessage,
    Outcome,
    RetryPolicy,
)
from connect_state.service.ports import ContactApi
from connect_state.service.rate_gate import RateGate

# Every key the service counts (tests/infrastructure/test_metric_names.py checks that none is missing).
METRIC_NAMES = {
    Outcome.ENRICHED.value: MetricName.CONTACTS_ENRICHED,
    Outcome.ACW_IN_PROGRESS.value: MetricName.CONTACTS_ENRICHED_ACW_IN_PROGRESS,
    Outcome.NOT_FOUND.value: MetricName.CONTACT_ENRICHMENT_NOT_FOUND,
    Outcome.SKIPPED.value: MetricName.CONTACT_ENRICHMENT_SKIPPED,
    Outcome.SUPERSEDED.value: MetricName.CONTACT_ENRICHMENT_SUPERSEDED,
    Outcome.RETRIED.value: MetricName.CONTACT_ENRICHMENT_RETRIED,
    Outcome.DEAD_LETTERED.value: MetricName.CONTACT_ENRICHMENT_DEAD_LETTERED,
    "throttled": MetricName.DESCRIBE_CONTACT_THROTTLED,
    "calls": MetricName.DESCRIBE_CONTACT_CALLS,
    "postpone_failed": MetricName.CONTACT_ENRICHMENT_POSTPONE_FAILED,
}


@dataclass(frozen=True)
class Dependencies:
    config: EnrichmentConfig
    api: ContactApi
    store: DynamoDBContactStateStore
    gate: RateGate
    dead_letters: SqsQuarantine
    retry: SqsMessageRetry


def build(api: ContactApi | None = None) -> Dependencies:
    """`api`: DescribeContact answered by something else than Amazon Connect (the tests' stub, the demo's simulator)."""
    config = enrichment_config()
    dynamodb, sqs = boto3.client("dynamodb", config=DYNAMODB_CONFIG), boto3.client("sqs")
    return Dependencies(
        config,
        api or ConnectContactApi(boto3.client("connect", config=CLIENT_CONFIG)),
        DynamoDBContactStateStore(dynamodb, config.contact_table_name),
        RateGate(DynamoDBCallSlots(dynamodb, config.call_slots_table_name), config.rate_per_second),
        SqsQuarantine(sqs, config.dead_letter_queue_url),
        SqsMessageRetry(sqs, config.queue_urls),
    )


dependencies = PerContainer(build)


@instrumented
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    messages = [
        EnrichmentMessage(
            body=record.body,
            attempt=int(record.attributes.approximate_receive_count or 1),
            queue_arn=record.event_source_arn,
            receipt_handle=record.receipt_handle,
            message_id=record.message_id,
        )
        for record in SQSEvent(event).records
    ]
    deps = dependencies()
    config = deps.config
    batch = EnrichmentBatch(
        deps.api,
        deps.store,
        deps.gate,
        deps.dead_letters,
        deps.retry,
        config.state_ttl_days,
        RetryPolicy(max_attempts=config.max_attempts, not_found_attempts=config.not_found_attempts),
        deadline=time.time() + context.get_remaining_time_in_millis() / 1000,
    )
    report = batch.process(messages)
    _log(report)
    _emit_metrics(report)
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in report.failed]}


def _log(report: BatchReport) -> None:
    """One line per contact, correlated by contactId; never the answer (it holds the customer's endpoint)."""
    for contact in report.contacts:
        logger.set_correlation_id(contact.contact_id)
        if contact.outcome is Outcome.RETRIED:
            logger.warning("contact enrichment retried", extra={"reason": contact.reason})
        else:
            logger.info("contact enrichment", extra={"outcome": contact.outcome.value})
    logger.set_correlation_id(None)
    for message_id, reason in report.dead_lettered:
        logger.error("contact enrichment dead-lettered", extra={"messageId": message_id, "reason": reason})


def _emit_metrics(report: BatchReport) -> None:
    add_counts(report.counts, METRIC_NAMES)
