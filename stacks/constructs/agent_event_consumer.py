"""Agent event stream (imported or created) → the agent events function → the agent state table."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from cdk_nag import NagSuppressions
from constructs import Construct

from stacks.config import DeploymentConfig
from stacks.constructs.lambda_runtime import LambdaRuntime
from stacks.constructs.queues import dead_letter_queue


class AgentEventConsumer(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        runtime: LambdaRuntime,
        agent_table: dynamodb.ITableV2,
        encryption_key: kms.IKey | None,
    ) -> None:
        super().__init__(scope, construct_id)
        settings = config.agent_stream
        if config.agent_event_stream_arn:
            # The usual case: the stream Amazon Connect already writes to (instance > Data streaming).
            self.stream: kinesis.IStream = kinesis.Stream.from_stream_attributes(
                self, "AgentEventStream", stream_arn=config.agent_event_stream_arn, encryption_key=encryption_key
            )
        else:
            self.stream = kinesis.Stream(
                self,
                "AgentEventStream",
                stream_mode=kinesis.StreamMode.ON_DEMAND,
                encryption=kinesis.StreamEncryption.KMS if encryption_key else kinesis.StreamEncryption.MANAGED,
                encryption_key=encryption_key,
                retention_period=Duration.hours(24),
            )
            if encryption_key is None:
                NagSuppressions.add_resource_suppressions(
                    self.stream,
                    [
                        {
                            "id": "AwsSolutions-KDS3",
                            "reason": "No kmsKeyArn configured: the stream uses the AWS-managed key. Amazon Connect "
                            "can only write to it if the instance uses the same key; set kmsKeyArn otherwise.",
                        }
                    ],
                )

        # Bad input (not base64, not JSON, not an agent event, oversized) with its reason; never retried.
        self.quarantine_queue = dead_letter_queue(self, "Quarantine", encryption_key)
        # Batches that still fail after the retries: Lambda sends the shard and sequence range here.
        self.on_failure_queue = dead_letter_queue(self, "OnFailure", encryption_key)

        self.function = runtime.function(
            self,
            "Function",
            handler="connect_state.handlers.agent_events.lambda_handler",
            description="Agent event stream -> current agent state",
            environment={
                "AGENT_TABLE_NAME": agent_table.table_name,
                "QUARANTINE_QUEUE_URL": self.quarantine_queue.queue_url,
                "STATE_TTL_DAYS": str(config.state_ttl_days),
                "MAX_AGENT_EVENT_BYTES": str(config.max_agent_event_bytes),
            },
        )
        agent_table.grant(self.function, "dynamodb:UpdateItem")
        self.quarantine_queue.grant_send_messages(self.function)

        self.event_source = sources.KinesisEventSource(
            self.stream,
            # From the oldest retained record: the state is order-independent, so catching up is always safe.
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=settings.batch_size,
            max_batching_window=Duration.seconds(settings.max_batching_window_seconds),
            # Connect uses the agent ARN as partition key, so one agent's events stay in order per shard
            # even when a shard is read by several concurrent batches.
            parallelization_factor=settings.parallelization_factor,
            retry_attempts=settings.retry_attempts,
            max_record_age=Duration.seconds(settings.max_record_age_seconds),
            bisect_batch_on_error=True,
            report_batch_item_failures=True,
            on_failure=sources.SqsDlq(self.on_failure_queue),
        )
        self.function.add_event_source(self.event_source)
