"""The live wallboard's read model: which channels a batch of state changes touched, their figures recomputed from
the state, the agent rows kept, one message per touched channel published.

A stream record only says WHAT to recompute (a contact's old and new queue, an agent); the figures come from the
tables as they are now (domain.board), so a redelivered, reordered or replayed batch publishes the same figures, and
at most a sequence number is spent. Per batch (one invocation = Lambda's batching window) each channel gets at most
one message: that is the coalescing.

Order of the steps, and why:
1. read the changed agents' items and their stored rows (both strongly consistent);
2. take the sequence numbers of every channel this batch will publish, BEFORE writing rows and reading the figures:
   a message with a higher number is then always computed from a state read after every change that came before it
   was numbered, so whichever message a board shows last (the highest number) is never older than another one;
3. write the rows (conditional: a row never replaces a newer one), then read the figures and publish.
If the function dies between 2 and 3, the numbers are spent without a message: a board sees the gap in the agents
channel and fetches a snapshot (design: "resynchronise after a gap"); a queue channel's next view replaces it.
The contacts that triggered a queue's recompute are read from the table itself (consistent) and laid over what the
queue's indexes return, since a global secondary index may lag its table by a moment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from connect_state.domain import board
from connect_state.models.board_settings import WallboardSettings
from connect_state.service.ports import (
    BoardRowStore,
    BoardStateReader,
    ChannelPublisher,
    ChannelSequence,
    Clock,
    StoredRow,
)

AGENT: Literal["agent"] = "agent"
CONTACT: Literal["contact"] = "contact"


class UnknownChannelError(ValueError):
    """A snapshot was asked for a channel the board does not publish."""


@dataclass(frozen=True)
class Change:
    """What one stream record says: this agent changed, or this contact changed in (between) these queues."""

    kind: Literal["agent", "contact"]
    key: str  # agentArn or contactId
    queue_arns: tuple[str, ...] = ()  # a contact's queueArn in its old and new image

    @classmethod
    def agent(cls, agent_arn: str) -> Change:
        return cls(AGENT, agent_arn)

    @classmethod
    def contact(cls, contact_id: str, *queue_arns: str | None) -> Change:
        return cls(CONTACT, contact_id, tuple(sorted({q for q in queue_arns if q})))


@dataclass
class _RowChange:
    stored: StoredRow | None  # what the read model has
    new: StoredRow | None  # what it should have (None: the agent item is gone)


class BoardService:
    def __init__(
        self,
        state: BoardStateReader,
        rows: BoardRowStore,
        publisher: ChannelPublisher,
        settings: WallboardSettings,
        clock: Clock,
    ) -> None:
        self._state = state
        self._rows = rows
        self._publisher = publisher
        self._settings = settings
        self._clock = clock

    def apply_changes(self, changes: Iterable[Change]) -> list[dict[str, Any]]:
        """Recompute and publish every channel the changes touched; returns the messages published, in order."""
        changes = list(changes)
        triggers: dict[str, set[str]] = defaultdict(set)  # queue ARN -> the contact ids / agent ARNs behind it
        changed_contacts = sorted({change.key for change in changes if change.kind == CONTACT})
        for change in changes:
            for queue_arn in change.queue_arns:
                triggers[queue_arn].add(change.key)
        row_changes = self._row_changes(sorted({change.key for change in changes if change.kind == AGENT}))
        for agent_arn, row_change in row_changes.items():
            for queue_arn in _served(row_change.stored) | _served(row_change.new):
                triggers[queue_arn].add(agent_arn)
        if not row_changes and not triggers:
            return []
        # 2. numbers first (module docstring)
        agents_seq = self._rows.next_seq(board.AGENTS_CHANNEL) if row_changes else None
        queue_seqs = {
            queue_arn: self._rows.next_seq(board.queue_channel(queue_arn), queue_arn) for queue_arn in triggers
        }
        # 3. rows, then figures
        upserts, removes = self._write_rows(row_changes)
        now = self._clock()
        all_rows = [stored.row for stored in self._rows.all_rows()]
        published: list[dict[str, Any]] = []
        if agents_seq is not None:
            counts = board.agent_counts(all_rows)
            changed = [row["agentArn"] for row in upserts] + removes
            published.append(board.agents_delta(agents_seq, now, upserts, removes, counts, changed))
        overlay = self._state.contact_items(changed_contacts) if changed_contacts else {}
        for queue_arn in sorted(triggers):
            view = self._queue_view(queue_arn, all_rows, now, overlay)
            published.append(board.queue_message(queue_seqs[queue_arn], now, view, triggers[queue_arn]))
        for message in published:
            self._publisher.publish(message["channel"], [message])
        return published

    def snapshot(self, channel: str) -> list[dict[str, Any]]:
        """The full state of a channel (`/board/agents`, `/board/queues/<id>` or `/board/queues/*`), each with the
        channel's sequence number read BEFORE the figures, so a later push is never older than the snapshot."""
        if channel == board.AGENTS_CHANNEL:
            seq = self._rows.current_seq(channel)
            now = self._clock()
            return [board.agents_snapshot(seq, now, [stored.row for stored in self._rows.all_rows()])]
        if not channel.startswith(board.QUEUE_CHANNEL_PREFIX):
            raise UnknownChannelError(channel)
        known = {c.queue_arn: c for c in self._rows.queue_channels() if c.queue_arn}
        now = self._clock()
        all_rows = [stored.row for stored in self._rows.all_rows()]
        for row in all_rows:
            for queue_arn in row.get("queueArns") or ():
                known.setdefault(queue_arn, ChannelSequence(board.queue_channel(queue_arn), 0, queue_arn))
        wanted = sorted(
            (c for c in known.values() if channel in (board.ALL_QUEUES_CHANNEL, c.channel)), key=lambda c: c.channel
        )
        if not wanted and channel != board.ALL_QUEUES_CHANNEL:
            raise UnknownChannelError(channel)
        return [board.queue_snapshot(c.seq, now, self._queue_view(str(c.queue_arn), all_rows, now, {})) for c in wanted]

    def _row_changes(self, agent_arns: Sequence[str]) -> dict[str, _RowChange]:
        """The agents whose row must change: the current item says something a board shows differently (a
        heartbeat changes nothing a board shows, so it costs no write and no message), or the item is gone."""
        if not agent_arns:
            return {}
        items = self._state.agent_items(agent_arns)
        stored = self._rows.rows(agent_arns)
        changes: dict[str, _RowChange] = {}
        for agent_arn in agent_arns:
            old, item = stored.get(agent_arn), items.get(agent_arn)
            if item is None:
                if old is not None:
                    changes[agent_arn] = _RowChange(old, None)
                continue
            ttl = item.get("ttl")
            new = StoredRow(agent_arn, board.agent_row(item), board.row_versions(item), int(ttl) if ttl else None)
            if old is None or old.row != new.row:
                changes[agent_arn] = _RowChange(old, new)
        return changes

    def _write_rows(self, row_changes: Mapping[str, _RowChange]) -> tuple[list[Mapping[str, Any]], list[str]]:
        upserts: list[Mapping[str, Any]] = []
        removes: list[str] = []
        for agent_arn, change in row_changes.items():
            if change.new is None:
                if change.stored is not None and self._rows.delete_row(change.stored):
                    removes.append(agent_arn)
            elif self._rows.put_row(change.new):
                upserts.append(change.new.row)
            # not written: a newer row is stored, and the invocation that wrote it publishes it
        return upserts, removes

    def _queue_view(
        self, queue_arn: str, all_rows: Sequence[Mapping[str, Any]], now: str, overlay: Mapping[str, dict[str, Any]]
    ) -> dict[str, Any]:
        since = board.interval_start(now, self._settings)
        waiting = _overlaid(self._state.waiting_contacts(queue_arn), overlay)
        enqueued = _overlaid(self._state.enqueued_contacts(queue_arn, since), overlay)
        return board.queue_view(
            queue_arn, waiting=waiting, enqueued=enqueued, rows=all_rows, settings=self._settings, now=now
        )


def _served(stored: StoredRow | None) -> set[str]:
    return board.queues_served(stored.row if stored else None)


def _overlaid(from_index: Iterable[dict[str, Any]], overlay: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The index's answer with the contacts read from the table itself in their place (queue_view filters by queue
    and times, so a contact that has left the queue or the interval drops out there)."""
    return [c for c in from_index if c.get("contactId") not in overlay] + list(overlay.values())
