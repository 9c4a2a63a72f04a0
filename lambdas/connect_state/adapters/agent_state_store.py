"""Agent state persistence (service.ports.AgentStateStore): every DynamoDB expression for the agent table lives here
(or in conditional_write)."""

from __future__ import annotations

from collections.abc import Mapping

from connect_state.adapters.conditional_write import ConditionalWriteTable
from connect_state.service.ports import ItemWrite, WriteResult


class DynamoDBAgentStateStore(ConditionalWriteTable):
    def compare_and_set(
        self, agent_arn: str, expected_versions: Mapping[str, str | None] | None, write: ItemWrite
    ) -> WriteResult:
        return self._compare_and_set(("agentArn", agent_arn), expected_versions, write)
