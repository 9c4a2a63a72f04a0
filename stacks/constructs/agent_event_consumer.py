"""Agent event stream (imported or created) → the agent events function → the agent state table.

A batch that still fails after its retries goes to the failed-batch bucket: Lambda writes one object per batch with
the records themselves (an SQS or SNS destination would only get the shard and sequence numbers, which the stream
forgets after its retention, 24 hours by default, and an imported stream's retention is not the stack's to set).
"""

from __future__ import annotations

import jsii
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from cdk_nag import NagSuppressions
from constructs import Construct

from connect_state.config import Env
from stacks.constructs.lambda_runtime import LambdaRuntime, allow_wildcard
from stacks.constructs.queues import dead_letter_queue


class AgentEventConsumer(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, runtime: LambdaRuntime, agent_table: dynamodb.ITableV2
    ) -> None:
        super().__init__(scope, construct_id)
        config, encryption_key = runtime.config, runtime.encryption_key
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
                # Deleted with the stack (the CDK default retains it): on demand, it bills by the hour, and once the
                # stack is gone nothing reads it; a new deployment creates its own.
                removal_policy=RemovalPolicy.DESTROY,
            )
            if encryption_key is not None:
                NagSuppressions.add_resource_suppressions(
                    self.stream,
                    [
                        {
                            "id": "AwsSolutions-KDS3",
                            "reason": "kmsKeyArn is set: the stream is encrypted with that customer-managed key on "
                            "purpose (its policy and rotation are the operator's, and Amazon Connect writes with the "
                            "key its instance uses), not with aws/kinesis.",
                        }
                    ],
                )

        # Bad input (not base64, not JSON, not an agent event, oversized) with its reason; never retried.
        self.quarantine_queue = dead_letter_queue(self, "Quarantine", encryption_key)
        # Batches that still fail after the retries, with their records, for an operator to replay.
        self.failed_batch_bucket = s3.Bucket(
            self,
            "FailedBatches",
            encryption=s3.BucketEncryption.KMS if encryption_key else s3.BucketEncryption.S3_MANAGED,
            encryption_key=encryption_key,
            bucket_key_enabled=encryption_key is not None,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireFailedBatches",
                    expiration=Duration.days(settings.failed_batch_retention_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            # The only copy of those records once the stream has dropped them.
            removal_policy=RemovalPolicy.RETAIN,
        )
        NagSuppressions.add_resource_suppressions(
            self.failed_batch_bucket,
            [
                {
                    "id": "AwsSolutions-S1",
                    "reason": "Only the agent events function writes here (no public access, TLS only) and an operator "
                    "reads a batch to replay it; who read what is in CloudTrail S3 data events where an account "
                    "audits S3. Server access logs would need another bucket, itself without access logs.",
                }
            ],
        )

        self.function = runtime.function(
            self,
            "Function",
            handler="connect_state.handlers.agent_events.lambda_handler",
            description="Agent event stream -> current agent state",
            environment={
                Env.AGENT_TABLE_NAME: agent_table.table_name,
                Env.QUARANTINE_QUEUE_URL: self.quarantine_queue.queue_url,
                Env.STATE_TTL_DAYS: str(config.state_ttl_days),
                Env.MAX_AGENT_EVENT_BYTES: str(config.max_agent_event_bytes),
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
            on_failure=WriteOnlyS3OnFailureDestination(self.failed_batch_bucket, encryption_key),
            # OnFailureDestinationDeliveredEventCount and DroppedEventCount: the records given up on.
            metrics_config=lambda_.MetricsConfig(metrics=[lambda_.MetricType.EVENT_COUNT]),
        )
        self.function.add_event_source(self.event_source)
        # cdk-nag names the bucket by its logical id, as in the template.
        cfn_bucket = self.failed_batch_bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        bucket_id = Stack.of(self).resolve(cfn_bucket.logical_id)
        allow_wildcard(
            self.function,
            f"Resource::<{bucket_id}.Arn>/*",
            "Lambda names each failed-batch object itself: s3:PutObject on the objects of the failed-batch bucket, "
            "that bucket only.",
        )

    def records_given_up(self, period: Duration) -> cloudwatch.IMetric:
        """Records Lambda gave up on after the retries: sent to the failed-batch bucket, or dropped when even that
        failed (DroppedEventCount excludes those delivered to the destination)."""
        mapping_id = self.event_source.event_source_mapping_id

        def metric(name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/Lambda",
                metric_name=name,
                dimensions_map={"EventSourceMappingUUID": mapping_id},
                statistic="Sum",
                period=period,
            )

        return cloudwatch.MathExpression(
            expression="FILL(delivered, 0) + FILL(dropped, 0)",
            using_metrics={
                "delivered": metric("OnFailureDestinationDeliveredEventCount"),
                "dropped": metric("DroppedEventCount"),
            },
            label="Agent event records given up on",
            period=period,
        )


@jsii.implements(lambda_.IEventSourceDlq)
class WriteOnlyS3OnFailureDestination:
    """An S3 on-failure destination whose function may only write to the bucket.

    Hand-written because CDK's S3OnFailureDestination grants read and write (s3:GetObject*, s3:DeleteObject*, ...):
    the function could read or delete the failed batches. AWS documents what Lambda needs: s3:PutObject and
    s3:ListBucket, and kms:GenerateDataKey when the bucket has a customer-managed key.
    """

    def __init__(self, bucket: s3.IBucket, encryption_key: kms.IKey | None) -> None:
        self._bucket = bucket
        self._encryption_key = encryption_key

    def bind(
        self, target: lambda_.IEventSourceMapping, target_handler: lambda_.IFunction
    ) -> lambda_.DlqDestinationConfig:
        target_handler.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:PutObject"], resources=[self._bucket.arn_for_objects("*")])
        )
        target_handler.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self._bucket.bucket_arn])
        )
        if self._encryption_key is not None:
            self._encryption_key.grant(target_handler, "kms:GenerateDataKey")
        return lambda_.DlqDestinationConfig(destination=self._bucket.bucket_arn)
