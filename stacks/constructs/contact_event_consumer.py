"""Amazon Connect contact events → EventBridge rule → SQS buffer queue → the contact events function → the contact
state table; abandoned contacts announced on the project's event bus.

Why a buffer queue between the rule and the function: README "How contact events are applied". The queues are
encrypted with kmsKeyArn when it is set, and EventBridge can then write to them only if the key's policy lets it: the
stack imports the key and cannot change that policy (README "Configuration", `kmsKeyArn`).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from connect_state.config import Env
from stacks.constants import contact_event_pattern
from stacks.constructs.lambda_runtime import LambdaRuntime
from stacks.constructs.queues import dead_letter_queue, encrypted_queue, rule_target, visibility_timeout

BATCH_SIZE = 10
MAX_BATCHING_WINDOW = Duration.seconds(2)
MAX_RECEIVE_COUNT = 5


class ContactEventConsumer(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, runtime: LambdaRuntime, contact_table: dynamodb.ITableV2
    ) -> None:
        super().__init__(scope, construct_id)
        config, encryption_key = runtime.config, runtime.encryption_key
        if config.event_bus_name:
            self.event_bus: events.IEventBus = events.EventBus.from_event_bus_name(
                self, "AbandonedContactBus", config.event_bus_name
            )
        else:
            self.event_bus = events.EventBus(self, "AbandonedContactBus")

        # Bad input (not JSON, not a contact event, invalid detail) with its reason; never retried.
        self.quarantine_queue = dead_letter_queue(self, "Quarantine", encryption_key)
        # Messages the function failed on 5 times (DynamoDB or EventBridge unavailable for that long).
        self.buffer_dead_letter_queue = dead_letter_queue(self, "BufferDeadLetter", encryption_key, redrive_target=True)
        # Events EventBridge could not put on the buffer queue within 24 h.
        self.rule_dead_letter_queue = dead_letter_queue(self, "RuleDeadLetter", encryption_key)

        self.function = runtime.function(
            self,
            "Function",
            handler="connect_state.handlers.contact_events.lambda_handler",
            description="Amazon Connect contact events -> current contact state, abandoned contacts",
            environment={
                Env.CONTACT_TABLE_NAME: contact_table.table_name,
                Env.QUARANTINE_QUEUE_URL: self.quarantine_queue.queue_url,
                Env.EVENT_BUS_NAME: self.event_bus.event_bus_name,
                Env.STATE_TTL_DAYS: str(config.state_ttl_days),
            },
        )
        self.buffer_queue = encrypted_queue(
            self,
            "Buffer",
            encryption_key,
            visibility_timeout=visibility_timeout(self.function.timeout or Duration.seconds(60)),
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=MAX_RECEIVE_COUNT, queue=self.buffer_dead_letter_queue
            ),
        )

        # Connect publishes contact events on the default bus of the instance's Region.
        self.rule = events.Rule(
            self,
            "ContactEventRule",
            description="Amazon Connect contact events of the configured instances",
            event_pattern=contact_event_pattern(config.connect_instance_arns),
        )
        # Contact events are not retained anywhere else: an archive lets an operator replay a time range into the
        # rules (EventBridge Replay) to rebuild the contact state or redo enrichment after an outage.
        self.archive: events.Archive | None = None
        if config.contact_event_archive_days:
            self.archive = events.Archive(
                self,
                "ContactEventArchive",
                source_event_bus=events.EventBus.from_event_bus_name(self, "DefaultBus", "default"),
                event_pattern=contact_event_pattern(config.connect_instance_arns),
                description="Amazon Connect contact events of the configured instances, for replay",
                retention=Duration.days(config.contact_event_archive_days),
                kms_key=encryption_key,
            )
        self.rule.add_target(rule_target(self.buffer_queue, self.rule_dead_letter_queue))

        # UpdateItem on the table only: TableV2.grant would add `index/*`, and the function never reads an index.
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=["dynamodb:UpdateItem"], resources=[contact_table.table_arn])
        )
        if encryption_key is not None:
            encryption_key.grant_encrypt_decrypt(self.function)
        self.quarantine_queue.grant_send_messages(self.function)
        self.event_bus.grant_put_events_to(self.function)
        self.event_source = sources.SqsEventSource(
            self.buffer_queue,
            batch_size=BATCH_SIZE,
            max_batching_window=MAX_BATCHING_WINDOW,
            # Why a maximum, not reserved concurrency: README "Configuration" (contactEvents.maxConcurrency).
            max_concurrency=config.contact_events.max_concurrency,
            report_batch_item_failures=True,
        )
        self.function.add_event_source(self.event_source)
