"""The live wallboard's read model: both state tables' streams → the board function → the board table and the channels.

One function reads both streams (one event source mapping per stream: one consumer per stream). A stream record
only says which channels to recompute (a queue, the agent list); the function recomputes each from the state tables,
so a retried, bisected or replayed batch republishes the same figures and moves no number.

The board table holds what the state tables cannot answer cheaply: one compact row per agent (rewritten from the
agent's current item) and each channel's sequence number. Without the hosted board (`wallboard.hosted=false`: the
demo) the function publishes nothing (`CHANNEL_PUBLISH_URL=disabled`): the rows and sequence numbers are kept current
all the same. With it, `publish_to` points the function at the AppSync Events namespace it alone may publish to.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_appsync as appsync
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from connect_state.config import PUBLISHING_DISABLED, Env
from stacks.constructs.encryption import table_encryption
from stacks.constructs.lambda_runtime import LambdaRuntime
from stacks.constructs.queues import dead_letter_queue

# Lambda gathers a stream's records for up to a second: one invocation per shard per second publishes at most one
# message per channel it touched (the coalescing that keeps pushes at about one a second per channel).
BATCHING_WINDOW = Duration.seconds(1)
# Enough that a busy second fits one batch (an invocation's payload stops at 6 MB, whatever the count).
BATCH_SIZE = 1000
# A failing batch is bisected on each error and retried at most this often, and a record is not retried once this
# old: the board recomputes a view from the state at the next change, so an old record is worth little, and a
# poison one must not hold its shard (and every board) back for the stream's 24 hours.
RETRY_ATTEMPTS = 5
MAX_RECORD_AGE = Duration.hours(1)
# The board table's own reads and writes (service/board.py through adapters/board_tables.py): agent rows are put and
# deleted with a condition, a channel's sequence number is an UpdateItem ADD, the snapshot queries the agent rows.
BOARD_TABLE_ACTIONS = [
    "dynamodb:BatchGetItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
]


class WallboardReadModel(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: LambdaRuntime,
        agent_table: dynamodb.ITableV2,
        contact_table: dynamodb.ITableV2,
        contact_index_names: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        config, encryption_key = runtime.config, runtime.encryption_key
        self.board_table = dynamodb.TableV2(
            self,
            "BoardTable",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing=dynamodb.Billing.on_demand(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=table_encryption(encryption_key),
            # An agent row expires with the agent's state item (the row copies its `ttl`).
            time_to_live_attribute="ttl",
            deletion_protection=config.state_table_deletion_protection,
            # Retained like the state tables: the channels' sequence numbers must not restart under connected boards.
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Batches Lambda gave up on after the retries: the record of which shard and sequence range (not the
        # records themselves: nothing needs replaying, every view is recomputed from the state at its next change).
        self.failed_batch_queue = dead_letter_queue(self, "FailedBatches", encryption_key)

        self.function = runtime.function(
            self,
            "Function",
            handler="connect_state.handlers.board_changes.lambda_handler",
            description="State table changes -> wallboard read model and channel messages",
            environment={
                Env.AGENT_TABLE_NAME: agent_table.table_name,
                Env.CONTACT_TABLE_NAME: contact_table.table_name,
                Env.BOARD_TABLE_NAME: self.board_table.table_name,
                Env.WALLBOARD_SETTINGS: config.wallboard.to_environment(),
                # Nothing is published until `publish_to` names the channel service (AppSync Events).
                Env.CHANNEL_PUBLISH_URL: PUBLISHING_DISABLED,
                Env.CHANNEL_PUBLISH_AUTH: "none",
            },
        )
        # Least privilege, by resource and by what adapters/board_tables.py calls: the current agent and contact
        # items (strongly consistent BatchGetItem: a changed contact's item corrects the index's lagging copy), the
        # contact table's two indexes the queue views read, the board table's rows and sequence numbers.
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                sid="ReadCurrentItems",
                actions=["dynamodb:BatchGetItem"],
                resources=[agent_table.table_arn, contact_table.table_arn],
            )
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                sid="QueryQueueIndexes",
                actions=["dynamodb:Query"],
                resources=[f"{contact_table.table_arn}/index/{name}" for name in contact_index_names],
            )
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                sid="ReadWriteBoardTable", actions=BOARD_TABLE_ACTIONS, resources=[self.board_table.table_arn]
            )
        )
        if encryption_key is not None:
            encryption_key.grant_encrypt_decrypt(self.function)

        # One mapping per stream. Each grants the function its stream's reads (and the key's, with kmsKeyArn) and
        # the failed-batch queue's SendMessage.
        self.event_sources = [
            sources.DynamoEventSource(
                table,
                # From the oldest record the stream keeps (24 h): the stream and its mapping are created in the same
                # deployment, so LATEST could miss the changes made in between, and an agent row is rewritten only
                # when its agent changes again. Replaying is harmless: every view is recomputed from the state.
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=BATCH_SIZE,
                max_batching_window=BATCHING_WINDOW,
                bisect_batch_on_error=True,
                retry_attempts=RETRY_ATTEMPTS,
                max_record_age=MAX_RECORD_AGE,
                report_batch_item_failures=True,
                on_failure=sources.SqsDlq(self.failed_batch_queue),
            )
            for table in (agent_table, contact_table)
        ]
        for event_source in self.event_sources:
            self.function.add_event_source(event_source)

    def publish_to(self, publish_url: str, namespace: appsync.ChannelNamespace) -> None:
        """Publish the channels' messages to `publish_url` (the Event API's HTTP `/event` endpoint), signed with the
        function's role (SigV4), which may publish to this one namespace and nothing else of the API."""
        self.function.add_environment(Env.CHANNEL_PUBLISH_URL, publish_url)
        self.function.add_environment(Env.CHANNEL_PUBLISH_AUTH, "iam")
        namespace.grant_publish(self.function)
