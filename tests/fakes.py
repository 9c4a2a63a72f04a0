"""In-memory stand-ins for the store interfaces, with the same conditional-write semantics as DynamoDB."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from connect_state.service.ports import ItemWrite, QuarantinedRecord, WriteResult


class InMemoryAgentStateStore:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.requests = 0

    def compare_and_set(
        self, agent_arn: str, expected_versions: Mapping[str, str | None] | None, write: ItemWrite
    ) -> WriteResult:
        item, removable, updated_at = write.item, write.removable, write.updated_at
        self.requests += 1
        current = self.items.get(agent_arn)
        if expected_versions is None:
            matches = current is None
        else:
            matches = current is not None and all(current.get(k) == v for k, v in expected_versions.items())
        if not matches:
            return WriteResult(written=False, current=copy.deepcopy(current))
        stored = {k: v for k, v in (current or {}).items() if k not in removable}
        stored.update(copy.deepcopy(dict(item)))
        stored["updatedAt"] = updated_at
        self.items[agent_arn] = stored
        return WriteResult(written=True)


class InMemoryQuarantine:
    def __init__(self, fail: bool = False) -> None:
        self.records: list[QuarantinedRecord] = []
        self.fail = fail

    def send(self, records: Sequence[QuarantinedRecord]) -> list[int]:
        if self.fail:
            return list(range(len(records)))
        self.records.extend(records)
        return []


class InMemoryCallSlots:
    """The call-slot ledger, shared by every simulated container of a test."""

    def __init__(self) -> None:
        self.claimed: set[int] = set()

    def claim(self, slot: int, now_epoch_seconds: int) -> bool:
        if slot in self.claimed:
            return False
        self.claimed.add(slot)
        return True


class RecordingMessageRetry:
    def __init__(self) -> None:
        self.postponed: list[tuple[str, str, int]] = []

    def postpone(self, queue_arn: str, receipt_handle: str, seconds: int) -> None:
        self.postponed.append((queue_arn, receipt_handle, seconds))
