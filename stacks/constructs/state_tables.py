"""The DynamoDB tables that wallboards, WFM tools and alerting read: the public contract (see README)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct


class StateTables(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, encryption_key: kms.IKey | None) -> None:
        super().__init__(scope, construct_id)
        encryption = (
            dynamodb.TableEncryptionV2.customer_managed_key(encryption_key)
            if encryption_key
            else dynamodb.TableEncryptionV2.aws_managed_key()
        )
        # Current agent state: one item per agent, partition key agentArn.
        self.agent_table = dynamodb.TableV2(
            self,
            "AgentState",
            partition_key=dynamodb.Attribute(name="agentArn", type=dynamodb.AttributeType.STRING),
            billing=dynamodb.Billing.on_demand(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=encryption,
            time_to_live_attribute="ttl",
            # The state can be rebuilt from the streams, but a wallboard should not go blank on a stack rename.
            removal_policy=RemovalPolicy.RETAIN,
        )
