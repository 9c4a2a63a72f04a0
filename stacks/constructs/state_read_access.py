"""Least-privilege read access to the state tables for the readers the stack does not know: a workforce management
(WFM) tool, a wallboard, a reporting job.

A customer-managed policy, not a role. A role needs a trust policy naming who may assume it (an account, a service,
an identity provider), which only the reader's owner knows, and most readers already run under a role of their own
(an ECS task role, an EC2 instance profile, an IAM Identity Center permission set, IAM Roles Anywhere): the policy
attaches to that one. A reader in another account gets a role in this account that trusts it, with this policy.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

# Reads only: GetItem/BatchGetItem for an agent or contact, Query for an index (byQueue, byAgent), Scan for a whole
# wallboard, DescribeTable for tools that discover the key schema. ConditionCheckItem is left out: it is part of a
# transactional write.
READ_ACTIONS = [
    "dynamodb:BatchGetItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
]


class StateReadAccess(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        agent_table: dynamodb.ITableV2,
        contact_table: dynamodb.ITableV2,
        contact_table_index_names: Sequence[str],
        encryption_key: kms.IKey | None,
    ) -> None:
        super().__init__(scope, construct_id)
        contact_table_arn = contact_table.table_arn
        statements = [
            iam.PolicyStatement(
                sid="ReadStateTables",
                actions=READ_ACTIONS,
                resources=[
                    agent_table.table_arn,
                    contact_table_arn,
                    # Each index by name rather than `index/*`: exactly what the contract documents, no wildcard.
                    *(f"{contact_table_arn}/index/{name}" for name in contact_table_index_names),
                ],
            )
        ]
        if encryption_key is not None:
            # DynamoDB decrypts the table key on the reader's behalf, with the reader's permission; the condition
            # keeps the key usable only through DynamoDB, not to decrypt anything else it protects.
            statements.append(
                iam.PolicyStatement(
                    sid="DecryptStateTablesThroughDynamoDB",
                    actions=["kms:Decrypt", "kms:DescribeKey"],
                    resources=[encryption_key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{Stack.of(self).region}.amazonaws.com"}},
                )
            )
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description="Read-only access to the connect-realtime-state agent and contact state tables",
            statements=statements,
        )
