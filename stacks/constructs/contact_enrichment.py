"""DescribeContact enrichment: finished contacts → the enrichment function → their contact state items.

A rule per trigger sends COMPLETED contact events to the completed queue and DISCONNECTED ones to a delay queue; each
rule has a dead-letter queue of its own, so that a redrive sends each event back to its own rule's queue
(ops.redrive). The call-slots table is the ledger that holds the rate whichever container calls. When a contact is
enriched, how the rate holds, and how failures are retried and bounded: README "Enrichment".
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from connect_state.config import Env
from stacks.config import DeploymentConfig
from stacks.constants import contact_event_pattern
from stacks.constructs.encryption import table_encryption
from stacks.constructs.lambda_runtime import LambdaRuntime, allow_wildcard
from stacks.constructs.queues import dead_letter_queue, encrypted_queue, rule_target, visibility_timeout

BATCH_SIZE = 10
MAX_BATCHING_WINDOW = Duration.seconds(1)
MAX_CONCURRENCY_PER_QUEUE = 2  # Lambda's minimum for an SQS event source
FUNCTION_TIMEOUT_SECONDS = 60
# Receives beyond the function's own attempt limits before SQS moves a message itself: deferrals (no call slot
# before the timeout) and invocations that died also count as receives.
SPARE_RECEIVES = 3


class ContactEnrichment(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, runtime: LambdaRuntime, contact_table: dynamodb.ITableV2
    ) -> None:
        super().__init__(scope, construct_id)
        config, encryption_key = runtime.config, runtime.encryption_key
        settings = config.enrichment

        # Messages given up on (throttled or failing every attempt, or not a valid trigger), each with its reason.
        self.dead_letter_queue = dead_letter_queue(self, "DeadLetter", encryption_key, redrive_target=True)
        # Events EventBridge could not put on a trigger queue within 24 h, one queue per rule.
        self.rule_dead_letter_queues = {
            trigger: dead_letter_queue(self, f"{trigger.title()}RuleDeadLetter", encryption_key)
            for trigger in ("COMPLETED", "DISCONNECTED")
        }
        # The shared ledger of call slots; its items expire after an hour, nothing in it is worth keeping.
        self.call_slots_table = dynamodb.TableV2(
            self,
            "CallSlots",
            partition_key=dynamodb.Attribute(name="slot", type=dynamodb.AttributeType.STRING),
            billing=dynamodb.Billing.on_demand(),
            encryption=table_encryption(encryption_key),
            time_to_live_attribute="ttl",
            removal_policy=RemovalPolicy.DESTROY,
        )

        redrive = sqs.DeadLetterQueue(
            max_receive_count=max(settings.max_attempts, settings.not_found_attempts) + SPARE_RECEIVES,
            queue=self.dead_letter_queue,
        )
        read_timeout = visibility_timeout(Duration.seconds(FUNCTION_TIMEOUT_SECONDS))
        self.completed_queue = encrypted_queue(
            self, "CompletedQueue", encryption_key, visibility_timeout=read_timeout, dead_letter_queue=redrive
        )
        self.disconnected_queue = encrypted_queue(
            self,
            "DisconnectedDelayQueue",
            encryption_key,
            visibility_timeout=read_timeout,
            dead_letter_queue=redrive,
            delivery_delay=Duration.minutes(settings.disconnected_delay_minutes),
        )
        self.rules = {
            trigger: self._rule(trigger, queue, config, self.rule_dead_letter_queues[trigger])
            for trigger, queue in (("COMPLETED", self.completed_queue), ("DISCONNECTED", self.disconnected_queue))
        }

        self.function = runtime.function(
            self,
            "Function",
            handler="connect_state.handlers.enrichment.lambda_handler",
            description="Finished Amazon Connect contacts -> DescribeContact -> contact state (ACW, recordings)",
            timeout_seconds=FUNCTION_TIMEOUT_SECONDS,
            environment={
                Env.CONTACT_TABLE_NAME: contact_table.table_name,
                Env.CALL_SLOTS_TABLE_NAME: self.call_slots_table.table_name,
                Env.DEAD_LETTER_QUEUE_URL: self.dead_letter_queue.queue_url,
                # [queue ARN, queue URL] pairs: Lambda's event names the queue by ARN, ChangeMessageVisibility by URL.
                Env.TRIGGER_QUEUE_URLS: Stack.of(self).to_json_string(
                    [[queue.queue_arn, queue.queue_url] for queue in (self.completed_queue, self.disconnected_queue)]
                ),
                Env.RATE_PER_SECOND: str(settings.rate_per_second),
                Env.MAX_ATTEMPTS: str(settings.max_attempts),
                Env.NOT_FOUND_ATTEMPTS: str(settings.not_found_attempts),
                Env.STATE_TTL_DAYS: str(config.state_ttl_days),
            },
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["connect:DescribeContact"],
                resources=[f"{arn}/contact/*" for arn in config.connect_instance_arns],
            )
        )
        allow_wildcard(
            self.function,
            [f"Resource::{arn}/contact/*" for arn in config.connect_instance_arns],
            "DescribeContact is authorised per contact, and contacts are created all day: the resource is every "
            "contact of the configured instance(s), nothing wider.",
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:GetItem", "dynamodb:UpdateItem"], resources=[contact_table.table_arn]
            )
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=["dynamodb:PutItem"], resources=[self.call_slots_table.table_arn])
        )
        if encryption_key is not None:
            encryption_key.grant_encrypt_decrypt(self.function)
        self.dead_letter_queue.grant_send_messages(self.function)
        for queue in (self.completed_queue, self.disconnected_queue):
            # The event source grants receive, delete and ChangeMessageVisibility (the backoff).
            self.function.add_event_source(
                sources.SqsEventSource(
                    queue,
                    batch_size=BATCH_SIZE,
                    max_batching_window=MAX_BATCHING_WINDOW,
                    max_concurrency=MAX_CONCURRENCY_PER_QUEUE,
                    report_batch_item_failures=True,
                )
            )

    def _rule(
        self, event_type: str, queue: sqs.IQueue, config: DeploymentConfig, rule_dead_letter_queue: sqs.IQueue
    ) -> events.Rule:
        rule = events.Rule(
            self,
            f"{event_type.title()}Rule",
            description=f"{event_type} contact events of the configured instances, to enrich with DescribeContact",
            event_pattern=contact_event_pattern(config.connect_instance_arns, event_type=event_type),
        )
        rule.add_target(rule_target(queue, rule_dead_letter_queue))
        return rule
