"""SQS queues for bad input, failures and buffering: encrypted, TLS only, messages kept 14 days for an operator."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from cdk_nag import NagSuppressions
from constructs import Construct

RETENTION = Duration.days(14)
# A rule → queue hop: EventBridge retries up to 24 h (its maximum), then the event goes to the rule's DLQ.
RULE_TARGET_RETRY_ATTEMPTS = 185
RULE_TARGET_MAX_EVENT_AGE = Duration.hours(24)
# AWS's advice for an SQS event source: visibility timeout = 6 x the function timeout. For the contact events
# function it must also exceed the Contact Abandoned claim lease (2 minutes, service.contact_events.CLAIM_LEASE).
VISIBILITY_TIMEOUT_FACTOR = 6


def encrypted_queue(scope: Construct, construct_id: str, key: kms.IKey | None, **kwargs: Any) -> sqs.Queue:
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.KMS if key else sqs.QueueEncryption.SQS_MANAGED,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=RETENTION,
        **kwargs,
    )


def dead_letter_queue(
    scope: Construct, construct_id: str, key: kms.IKey | None, *, redrive_target: bool = False
) -> sqs.Queue:
    """A queue where things end up (quarantine, dead-letter queue): it needs no DLQ of its own.

    cdk-nag (SQS3) recognises a queue that another queue's redrive policy names (`redrive_target`); one that a
    function or an EventBridge target writes to directly is a dead end it cannot see, so that one says so.
    """
    queue = encrypted_queue(scope, construct_id, key)
    if not redrive_target:
        NagSuppressions.add_resource_suppressions(
            queue,
            [
                {
                    "id": "AwsSolutions-SQS3",
                    "reason": "This queue is itself the dead end: a function or an EventBridge target writes to it "
                    "directly, and an operator reads or redrives its messages.",
                }
            ],
        )
    return queue


def visibility_timeout(function_timeout: Duration) -> Duration:
    """The visibility timeout of a queue that `function_timeout`'s function reads (an SQS event source)."""
    return Duration.seconds(function_timeout.to_seconds() * VISIBILITY_TIMEOUT_FACTOR)


def rule_target(queue: sqs.IQueue, rule_dead_letter_queue: sqs.IQueue) -> targets.SqsQueue:
    """An EventBridge rule's target that puts the event on `queue`, or after 24 h of retries on the DLQ."""
    return targets.SqsQueue(
        queue,
        dead_letter_queue=rule_dead_letter_queue,
        retry_attempts=RULE_TARGET_RETRY_ATTEMPTS,
        max_event_age=RULE_TARGET_MAX_EVENT_AGE,
    )
