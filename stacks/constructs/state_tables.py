"""The DynamoDB tables that wallboards, WFM tools and alerting read: the public contract (see README)."""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from connect_state.domain.board import QUEUE_ENQUEUED_INDEX_ATTRIBUTES
from stacks.constructs.encryption import table_encryption

QUEUE_INDEX = "byQueue"
AGENT_INDEX = "byAgent"
QUEUE_ENQUEUED_INDEX = "byQueueEnqueued"
# The version of the tables' public contract (README, CHANGELOG.md "Table contract"): semver, output by the stack.
TABLE_CONTRACT_VERSION = "1.1.0"


class StateTables(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, encryption_key: kms.IKey | None, deletion_protection: bool = True
    ) -> None:
        super().__init__(scope, construct_id)
        encryption = table_encryption(encryption_key)
        self._deletion_protection = deletion_protection
        # Current agent state: one item per agent, partition key agentArn.
        self.agent_table = self._state_table("AgentState", "agentArn", encryption)

        # Current contact state: one item per contact, partition key contactId. The indexes a wallboard reads:
        # - byQueue (queueArn, queuedSince): only contacts waiting in a queue right now, oldest first. `queuedSince`
        #   (enqueueTimestamp, or the QUEUED event's time when Connect omits it) exists only while the contact's
        #   status is QUEUED, so the index stays small and a Query per queue returns the waiting contacts and how
        #   long each has waited.
        # - byAgent (agentArn, connectedToAgentTimestamp): contacts that reached an agent, newest last; filter on
        #   `status` for the ones still in progress (CONNECTED_TO_AGENT) or in after-contact work (DISCONNECTED).
        # - byQueueEnqueued (queueArn, enqueuedAt): every contact that was ever queued, by when; a Query from the
        #   interval's start gives the wallboard's handled, abandoned, service level and handle times. A stack update
        #   may add or remove one index of a table at a time (DynamoDB, CloudFormation): add the next one in a
        #   release of its own.
        self.contact_table = self._state_table(
            "ContactState",
            "contactId",
            encryption,
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=QUEUE_INDEX,
                    partition_key=dynamodb.Attribute(name="queueArn", type=dynamodb.AttributeType.STRING),
                    sort_key=dynamodb.Attribute(name="queuedSince", type=dynamodb.AttributeType.STRING),
                    projection_type=dynamodb.ProjectionType.ALL,
                ),
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=AGENT_INDEX,
                    partition_key=dynamodb.Attribute(name="agentArn", type=dynamodb.AttributeType.STRING),
                    sort_key=dynamodb.Attribute(name="connectedToAgentTimestamp", type=dynamodb.AttributeType.STRING),
                    projection_type=dynamodb.ProjectionType.ALL,
                ),
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=QUEUE_ENQUEUED_INDEX,
                    partition_key=dynamodb.Attribute(name="queueArn", type=dynamodb.AttributeType.STRING),
                    sort_key=dynamodb.Attribute(name="enqueuedAt", type=dynamodb.AttributeType.STRING),
                    projection_type=dynamodb.ProjectionType.INCLUDE,
                    non_key_attributes=list(QUEUE_ENQUEUED_INDEX_ATTRIBUTES),
                ),
            ],
        )
        self.contact_table_index_names = (QUEUE_INDEX, AGENT_INDEX, QUEUE_ENQUEUED_INDEX)
        # What the wallboard's read model reads the waiting contacts and the interval's contacts from.
        self.waiting_index_name = QUEUE_INDEX
        self.interval_index_name = QUEUE_ENQUEUED_INDEX
        # Both tables' change streams (the wallboard's read model consumes them: one consumer per stream).
        self.agent_stream_arn = self._stream_arn(self.agent_table)
        self.contact_stream_arn = self._stream_arn(self.contact_table)
        self.contract_version = TABLE_CONTRACT_VERSION

    def _state_table(
        self, construct_id: str, partition_key: str, encryption: dynamodb.TableEncryptionV2, **kwargs: Any
    ) -> dynamodb.TableV2:
        """What both state tables share: on demand, point-in-time recovery, encryption, TTL on `ttl`, retained,
        deletion protection (one DeleteTable call would otherwise blank every wallboard), and a stream of every
        change with the item before and after it (the wallboard recomputes what a change touched: a contact's old
        and new queue, an agent's old and new routing profile queues)."""
        return dynamodb.TableV2(
            self,
            construct_id,
            partition_key=dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING),
            billing=dynamodb.Billing.on_demand(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=encryption,
            time_to_live_attribute="ttl",
            dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            deletion_protection=self._deletion_protection,
            # The state can be rebuilt from the streams, but a wallboard should not go blank on a stack rename.
            removal_policy=RemovalPolicy.RETAIN,
            **kwargs,
        )

    @staticmethod
    def _stream_arn(table: dynamodb.TableV2) -> str:
        stream_arn: str | None = table.table_stream_arn
        assert stream_arn is not None  # every state table has its stream (_state_table)
        return stream_arn
