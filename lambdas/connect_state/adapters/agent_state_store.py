"""Agent state persistence (service.ports.AgentStateStore): every DynamoDB expression for the agent table lives here
(or in conditional_write)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from connect_state.adapters import conditional_write
from connect_state.service.ports import WriteResult

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoDBAgentStateStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name
        self.requests = 0  # DynamoDB requests made, for the benchmark and the demo

    def compare_and_set(
        self,
        agent_arn: str,
        expected_versions: Mapping[str, str | None] | None,
        item: Mapping[str, Any],
        removable: tuple[str, ...],
        updated_at: str,
    ) -> WriteResult:
        self.requests += 1
        return conditional_write.compare_and_set(
            self._client,
            self._table_name,
            ("agentArn", agent_arn),
            expected_versions,
            item,
            removable,
            updated_at,
        )
