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
An agent's row is published on `/board/agents` and on the channel of each of its hierarchy groups
(`/board/agentgroups/<id>`): each group channel gets a delta of its own members and counts over them, and a remove
when an agent leaves the group, so a supervisor scoped to a group receives nothing about other agents.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from connect_state.domain import board, board_scope
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
_WILDCARDS = (board.ALL_QUEUES_CHANNEL, board.ALL_AGENT_GROUPS_CHANNEL)


class UnknownChannelError(ValueError):
    """A snapshot was asked for a channel the board does not publish."""


class OutOfScopeError(PermissionError):
    """A snapshot was asked for a channel the caller's groups do not allow (domain.board_scope)."""


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
        group_channels: set[str] = set()
        for agent_arn, row_change in row_changes.items():
            for queue_arn in board.queues_whose_agent_figures_change(_row(row_change.stored), _row(row_change.new)):
                triggers[queue_arn].add(agent_arn)
            group_channels |= _groups(row_change.stored) | _groups(row_change.new)
        if not row_changes and not triggers:
            return []
        # 2. numbers first (module docstring)
        agents_seq = self._rows.next_seq(board.AGENTS_CHANNEL) if row_changes else None
        group_seqs = {channel: self._rows.next_seq(channel) for channel in sorted(group_channels)}
        queue_seqs = {
            queue_arn: self._rows.next_seq(board.queue_channel(queue_arn), queue_arn) for queue_arn in triggers
        }
        # 3. rows, then figures
        written = self._write_rows(row_changes)
        now = self._clock()
        all_rows = [stored.row for stored in self._rows.all_rows()]
        published: list[dict[str, Any]] = []
        if agents_seq is not None:
            upserts = [change.new.row for change in written.values() if change.new is not None]
            removes = [agent_arn for agent_arn, change in written.items() if change.new is None]
            counts = board.agent_counts(all_rows)
            changed = [row["agentArn"] for row in upserts] + removes
            published.append(board.agents_delta(agents_seq, now, upserts, removes, counts, changed))
        for channel, seq in group_seqs.items():
            published.append(self._group_delta(channel, seq, now, written, all_rows))
        overlay = self._state.contact_items(changed_contacts) if changed_contacts else {}
        for queue_arn in sorted(triggers):
            view = self._queue_view(queue_arn, all_rows, now, overlay)
            published.append(board.queue_message(queue_seqs[queue_arn], now, view, triggers[queue_arn]))
        for message in published:
            self._publisher.publish(message["channel"], [message])
        return published

    def snapshot(self, channel: str) -> list[dict[str, Any]]:
        """The full state of a channel (`/board/agents`, `/board/agentgroups/<id>`, `/board/queues/<id>`, a wildcard
        `/board/agentgroups/*` or `/board/queues/*`, or `*`: all of them), each with the channel's sequence number
        read BEFORE the figures, so a later push is never older than the snapshot. Who may see which channel is not
        decided here (handlers.board_snapshot applies domain.board_scope)."""
        if channel == board.EVERY_CHANNEL:
            return [
                *self.snapshot(board.AGENTS_CHANNEL),
                *self.snapshot(board.ALL_QUEUES_CHANNEL),
                *self.snapshot(board.ALL_AGENT_GROUPS_CHANNEL),
            ]
        if channel == board.AGENTS_CHANNEL:
            seq = self._rows.current_seq(channel)
            now = self._clock()
            return [board.agents_snapshot(seq, now, [stored.row for stored in self._rows.all_rows()])]
        if channel.startswith(board.AGENT_GROUP_CHANNEL_PREFIX):
            return self._group_snapshots(channel)
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

    def snapshot_for(self, channel: str, groups: Iterable[str]) -> dict[str, Any]:
        """What a signed-in supervisor gets: `{"snapshots": [...], "channels": [...]}`, `channels` being the channels
        their board subscribes to (domain.board_scope.subscriptions). `*` is the snapshot of each of those channels; a
        wildcard they may not subscribe to is narrowed to their own channels under it; any other channel must be
        allowed. Raises OutOfScopeError (a caller with no scope at all is refused everything), or UnknownChannelError
        for an allowed channel the board has never published."""
        groups = list(groups)
        channels = board_scope.subscriptions(groups)
        if channel in (board.EVERY_CHANNEL, *_WILDCARDS) and not board_scope.allowed(groups, channel):
            if not channels:
                raise OutOfScopeError(channel)
            under = channel.removesuffix("*")
            snapshots: list[dict[str, Any]] = []
            for wanted in channels:
                if wanted.startswith(under):
                    snapshots.extend(self._snapshot_if_known(wanted))
            return {"snapshots": snapshots, "channels": channels}
        if not board_scope.allowed(groups, channel):
            raise OutOfScopeError(channel)
        return {"snapshots": self.snapshot(channel), "channels": channels}

    def _snapshot_if_known(self, channel: str) -> list[dict[str, Any]]:
        """A queue that has published nothing yet has no snapshot: its board shows it from its first view."""
        try:
            return self.snapshot(channel)
        except UnknownChannelError:
            return []

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

    def _write_rows(self, row_changes: Mapping[str, _RowChange]) -> dict[str, _RowChange]:
        """Write the rows; the changes that were written (a new row put, or a row deleted), by agent."""
        written: dict[str, _RowChange] = {}
        for agent_arn, change in row_changes.items():
            if change.new is None:
                if change.stored is not None and self._rows.delete_row(change.stored):
                    written[agent_arn] = change
            elif self._rows.put_row(change.new):
                written[agent_arn] = change
            # not written: a newer row is stored, and the invocation that wrote it publishes it
        return written

    def _group_delta(
        self,
        channel: str,
        seq: int,
        now: str,
        written: Mapping[str, _RowChange],
        all_rows: Sequence[Mapping[str, Any]],
    ) -> dict[str, Any]:
        """One agent group's delta: the written rows of its members, a remove for each agent that left it (moved to
        another group, or gone), and counts over its members now.

        The row read before the write is the one replaced: one agent's records are in one stream shard, whose
        batches Lambda hands over one at a time, in order, so two invocations never write the same agent's row at
        once."""
        upserts = [c.new.row for c in written.values() if c.new is not None and channel in _groups(c.new)]
        removes = [
            agent_arn
            for agent_arn, c in written.items()
            if channel in _groups(c.stored) and (c.new is None or channel not in _groups(c.new))
        ]
        members = [row for row in all_rows if channel in board.agent_group_channels(row)]
        changed = [row["agentArn"] for row in upserts] + removes
        return board.agents_delta(seq, now, upserts, removes, board.agent_counts(members), changed, channel=channel)

    def _group_snapshots(self, channel: str) -> list[dict[str, Any]]:
        """`/board/agentgroups/<id>`: its members (none yet is an empty board, not an unknown channel: a supervisor
        of the group starts from it); `/board/agentgroups/*`: every group some agent is in now."""
        if channel == board.ALL_AGENT_GROUPS_CHANNEL:
            wanted = sorted(set().union(*(board.agent_group_channels(s.row) for s in self._rows.all_rows())))
        elif (
            channel != board.AGENT_GROUP_CHANNEL_PREFIX
            and board.agent_group_channel(channel.removeprefix(board.AGENT_GROUP_CHANNEL_PREFIX)) == channel
        ):
            wanted = [channel]
        else:
            raise UnknownChannelError(channel)
        seqs = {name: self._rows.current_seq(name) for name in wanted}  # before the rows (the docstring's order)
        now = self._clock()
        all_rows = [stored.row for stored in self._rows.all_rows()]
        return [
            board.agents_snapshot(
                seq, now, [row for row in all_rows if name in board.agent_group_channels(row)], channel=name
            )
            for name, seq in seqs.items()
        ]

    def _queue_view(
        self, queue_arn: str, all_rows: Sequence[Mapping[str, Any]], now: str, overlay: Mapping[str, dict[str, Any]]
    ) -> dict[str, Any]:
        since = board.interval_start(now, self._settings)
        waiting = _overlaid(self._state.waiting_contacts(queue_arn), overlay)
        enqueued = _overlaid(self._state.enqueued_contacts(queue_arn, since), overlay)
        return board.queue_view(
            queue_arn, waiting=waiting, enqueued=enqueued, rows=all_rows, settings=self._settings, now=now
        )


def _row(stored: StoredRow | None) -> Mapping[str, Any] | None:
    return stored.row if stored else None


def _groups(stored: StoredRow | None) -> set[str]:
    return board.agent_group_channels(stored.row if stored else None)


def _overlaid(from_index: Iterable[dict[str, Any]], overlay: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The index's answer with the contacts read from the table itself in their place (queue_view filters by queue
    and times, so a contact that has left the queue or the interval drops out there)."""
    return [c for c in from_index if c.get("contactId") not in overlay] + list(overlay.values())
