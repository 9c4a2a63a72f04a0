"""In-memory stand-ins for the store interfaces, with the same conditional-write semantics as DynamoDB."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from connect_state.service.ports import ChannelSequence, ItemWrite, QuarantinedRecord, StoredRow, WriteResult


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


class InMemoryBoardState:
    """The two state tables as the board reads them (service.ports.BoardStateReader): dicts of items by key; the
    indexes are computed from them, as DynamoDB keeps a sparse index (an item without the sort key is not in it)."""

    def __init__(self) -> None:
        self.agents: dict[str, dict[str, Any]] = {}
        self.contacts: dict[str, dict[str, Any]] = {}

    def agent_items(self, agent_arns: Sequence[str]) -> dict[str, dict[str, Any]]:
        return {arn: copy.deepcopy(self.agents[arn]) for arn in agent_arns if arn in self.agents}

    def contact_items(self, contact_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return {cid: copy.deepcopy(self.contacts[cid]) for cid in contact_ids if cid in self.contacts}

    def waiting_contacts(self, queue_arn: str) -> list[dict[str, Any]]:
        found = [c for c in self.contacts.values() if c.get("queueArn") == queue_arn and "queuedSince" in c]
        return copy.deepcopy(sorted(found, key=lambda c: c["queuedSince"]))

    def enqueued_contacts(self, queue_arn: str, since: str) -> list[dict[str, Any]]:
        found = [
            c for c in self.contacts.values() if c.get("queueArn") == queue_arn and c.get("enqueuedAt", "") >= since
        ]
        return copy.deepcopy(sorted(found, key=lambda c: c["enqueuedAt"]))


class InMemoryBoardRows:
    """The board's read model (service.ports.BoardRowStore) with DynamoDB's conditional-write semantics."""

    def __init__(self) -> None:
        self.stored: dict[str, StoredRow] = {}
        self.sequences: dict[str, ChannelSequence] = {}
        self.writes = 0

    def rows(self, agent_arns: Sequence[str]) -> dict[str, StoredRow]:
        return {arn: copy.deepcopy(self.stored[arn]) for arn in agent_arns if arn in self.stored}

    def all_rows(self) -> list[StoredRow]:
        return [copy.deepcopy(self.stored[arn]) for arn in sorted(self.stored)]

    def put_row(self, stored: StoredRow) -> bool:
        current = self.stored.get(stored.agent_arn)
        if current is not None:
            for name, version in stored.versions.items():
                held = current.versions.get(name)
                if held is not None and (version is None or held > version):
                    return False
        self.stored[stored.agent_arn] = copy.deepcopy(stored)
        self.writes += 1
        return True

    def delete_row(self, stored: StoredRow) -> bool:
        current = self.stored.get(stored.agent_arn)
        if current is None or dict(current.versions) != dict(stored.versions):
            return False
        del self.stored[stored.agent_arn]
        self.writes += 1
        return True

    def next_seq(self, channel: str, queue_arn: str | None = None) -> int:
        current = self.sequences.get(channel, ChannelSequence(channel, 0, queue_arn))
        self.sequences[channel] = ChannelSequence(channel, current.seq + 1, queue_arn or current.queue_arn)
        return current.seq + 1

    def current_seq(self, channel: str) -> int:
        return self.sequences[channel].seq if channel in self.sequences else 0

    def queue_channels(self) -> list[ChannelSequence]:
        return [c for name, c in sorted(self.sequences.items()) if name.startswith("/board/queues/")]


class RecordingChannelPublisher:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    def publish(self, channel: str, messages: Sequence[Mapping[str, Any]]) -> None:
        self.published.extend((channel, copy.deepcopy(dict(message))) for message in messages)
