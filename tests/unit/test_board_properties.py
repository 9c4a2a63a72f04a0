"""The board's read model is as order-independent as the state: stream records redelivered and reordered end in the
same agent rows and the same boards as processing each record once, in order; the agent-group channels too. And the
scope rule holds on the read model's channel routing: every message goes out on a channel that the scope rule
(domain.board_scope) gives, besides `wallboard-all`, only to the supervisors of the queue or group the message is about.

The state tables and the read model are the in-memory fakes (tests/fakes.py); the service is the real one. A
"board" is what a browser following the design's client rules ends with: per queue channel the view with the
highest sequence number, on the agents channel every delta applied in sequence order.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connect_state.domain import board, board_scope
from connect_state.models.board_settings import WallboardSettings, queue_id
from connect_state.service.board import BoardService, Change
from tests.fakes import InMemoryBoardRows, InMemoryBoardState, RecordingChannelPublisher

INSTANCE = "arn:aws:connect:eu-west-2:111122223333:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111"
QUEUES = (f"{INSTANCE}/queue/q-1", f"{INSTANCE}/queue/q-2")
AGENTS = tuple(f"{INSTANCE}/agent/a-{n}" for n in range(3))
GROUPS = tuple(f"{INSTANCE}/agent-group/g-{n}" for n in range(3))
SCOPES = tuple(f"queue-{queue_id(q)}" for q in QUEUES) + tuple(f"agents-{board.hierarchy_group_id(g)}" for g in GROUPS)
CONTACTS = tuple(f"c-{n}" for n in range(4))
NOW = "2026-11-20T10:00:00.000Z"
SETTINGS = WallboardSettings()
STATUSES = (("Available", "ROUTABLE"), ("Break", "CUSTOM"), ("Offline", "OFFLINE"))
CONTACT_STATES = ((), ("CONNECTED",), ("ENDED",), ("ENDED", "CONNECTED"), ("ERROR",))


@dataclass
class Board:
    """What a browser shows after applying every message it received by the client rules."""

    queues: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    deltas: list[dict[str, Any]] = field(default_factory=list)
    group_deltas: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by agent-group channel

    def receive(self, message: dict[str, Any]) -> None:
        if message["channel"] == board.AGENTS_CHANNEL:
            self.deltas.append(message)
        elif message["channel"].startswith(board.AGENT_GROUP_CHANNEL_PREFIX):
            self.group_deltas.setdefault(message["channel"], []).append(message)
        elif message["seq"] > self.queues.get(message["channel"], (0, {}))[0]:
            self.queues[message["channel"]] = (message["seq"], message["queue"])

    def agents(self, channel: str = board.AGENTS_CHANNEL) -> tuple[dict[str, Any], dict[str, int] | None]:
        """The agent list of an agents channel (every agent, or one group's): its deltas applied in order."""
        shown: dict[str, Any] = {}
        counts = None
        deltas = self.deltas if channel == board.AGENTS_CHANNEL else self.group_deltas.get(channel, [])
        for delta in sorted(deltas, key=lambda d: d["seq"]):
            shown.update({row["agentArn"]: row for row in delta["upserts"]})
            for agent_arn in delta["removes"]:
                shown.pop(agent_arn, None)
            counts = delta["counts"]
        return shown, counts


class World:
    def __init__(self) -> None:
        self.state = InMemoryBoardState()
        self.rows = InMemoryBoardRows()
        self.publisher = RecordingChannelPublisher()
        self.service = BoardService(self.state, self.rows, self.publisher, SETTINGS, lambda: NOW)
        self.board = Board()

    def process(self, records: list[Change]) -> None:
        for message in self.service.apply_changes(records):
            assert_only_its_own_supervisors_may_receive(message)
            self.board.receive(message)


def assert_only_its_own_supervisors_may_receive(message: dict[str, Any]) -> None:
    """Of all the queue-<id> and agents-<id> scopes, the message's channel is allowed to the one of the queue or group
    the message is about, and to no other (the every-agent list to none: `wallboard-all` only)."""
    channel = message["channel"]
    receivers = {scope for scope in SCOPES if board_scope.allowed([scope], channel)}
    assert board_scope.allowed([board_scope.EVERYTHING], channel)
    if channel == board.AGENTS_CHANNEL:
        assert receivers == set()
    elif channel.startswith(board.QUEUE_CHANNEL_PREFIX):
        assert receivers == {f"queue-{message['queue']['queueId']}"}
        assert {c["contactId"] for c in message["queue"]["waiting"]} <= set(CONTACTS)
    else:
        group_id = channel.removeprefix(board.AGENT_GROUP_CHANNEL_PREFIX)
        assert receivers == {f"agents-{group_id}"}
        assert all(group_id in row["hierarchyGroupIds"] for row in message["upserts"])


def agent_item(agent_arn: str, version: int, draw: st.DrawFn) -> dict[str, Any]:
    status, status_type = draw(st.sampled_from(STATUSES))
    states = draw(st.sampled_from(CONTACT_STATES))
    return {
        "agentArn": agent_arn,
        "agentId": agent_arn.rsplit("/", 1)[-1],
        "username": "agent",
        "statusName": status,
        "statusType": status_type,
        "loggedIn": draw(st.booleans()),
        "contacts": [{"contactId": f"{agent_arn[-3:]}-{i}", "state": s} for i, s in enumerate(states)],
        "routingProfileQueueArns": sorted(draw(st.sets(st.sampled_from(QUEUES)))),
        "hierarchyGroupArns": sorted(draw(st.sets(st.sampled_from(GROUPS)))) or None,
        "orderKey": f"{version:06d}",  # every change of an agent raises its order key
        "ttl": 1_900_000_000 + version,
    }


def contact_item(contact_id: str, draw: st.DrawFn) -> dict[str, Any]:
    enqueued = f"2026-11-20T09:{draw(st.integers(0, 50)):02d}:00.000Z"
    item: dict[str, Any] = {
        "contactId": contact_id,
        "queueArn": draw(st.sampled_from(QUEUES)),
        "channel": "VOICE",
        "initiationMethod": draw(st.sampled_from(("INBOUND", "CALLBACK"))),
        "enqueuedAt": enqueued,
        "abandoned": False,
    }
    outcome = draw(st.sampled_from(("waiting", "talking", "completed", "abandoned")))
    if outcome == "waiting":
        item.update(status="QUEUED", queuedSince=enqueued)
    elif outcome == "abandoned":
        item.update(status="COMPLETED", abandoned=True, disconnectTimestamp=enqueued.replace(":00.000Z", ":30.000Z"))
    else:
        item.update(status="CONNECTED_TO_AGENT", connectedToAgentTimestamp=enqueued.replace(":00.000Z", ":15.000Z"))
        if outcome == "completed":
            item.update(status="COMPLETED", disconnectTimestamp=enqueued.replace(":00.000Z", ":45.000Z"))
    return item


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Changes to the state tables in the order they happen: (table, key, new item or None for a deleted one)."""
    changes: list[tuple[str, str, dict[str, Any] | None]] = []
    for version in range(draw(st.integers(1, 14))):
        if draw(st.booleans()):
            agent_arn = draw(st.sampled_from(AGENTS))
            expired = draw(st.integers(0, 5)) == 0
            changes.append(("agent", agent_arn, None if expired else agent_item(agent_arn, version, draw)))
        else:
            contact_id = draw(st.sampled_from(CONTACTS))
            changes.append(("contact", contact_id, contact_item(contact_id, draw)))
    return changes


def apply(world: World, change: tuple[str, str, dict[str, Any] | None]) -> Change:
    """Make the change in the state tables; return its stream record (what the handler turns it into)."""
    table, key, new = change
    if table == "agent":
        if new is None:
            world.state.agents.pop(key, None)
        else:
            world.state.agents[key] = new
        return Change.agent(key)
    old = world.state.contacts.get(key)
    assert new is not None
    world.state.contacts[key] = new
    return Change.contact(key, old.get("queueArn") if old else None, new.get("queueArn"))


def shown_by(world: World) -> tuple[Any, ...]:
    agents, counts = world.board.agents()
    views = {channel: view for channel, (_, view) in world.board.queues.items()}
    # the rows' content; their order keys are the item's when the row last CHANGED (an equal row is not rewritten),
    # so they may differ between runs without a row differing
    rows = {row.agent_arn: dict(row.row) for row in world.rows.all_rows()}
    groups = {channel: world.board.agents(channel)[0] for channel in GROUP_CHANNELS}
    return agents, counts, views, rows, groups


GROUP_CHANNELS = tuple(board.agent_group_channel(board.hierarchy_group_id(g)) for g in GROUPS)


def assert_board_matches_a_snapshot(world: World) -> None:
    """Every channel a browser shows is what a fresh snapshot of the final state shows."""
    agents, counts = world.board.agents()
    (agents_snapshot,) = world.service.snapshot(board.AGENTS_CHANNEL)
    if world.board.deltas:
        assert agents == {row["agentArn"]: row for row in agents_snapshot["agents"]}
        assert counts == agents_snapshot["counts"]
    snapshots = {s["channel"]: s["queue"] for s in world.service.snapshot(board.ALL_QUEUES_CHANNEL)}
    for channel, (_, view) in world.board.queues.items():
        assert view == snapshots[channel], channel
    for channel in GROUP_CHANNELS:
        members, group_counts = world.board.agents(channel)
        (group_snapshot,) = world.service.snapshot(channel)
        assert members == {row["agentArn"]: row for row in group_snapshot["agents"]}, channel
        if group_counts is not None:
            assert group_counts == group_snapshot["counts"], channel


@settings(max_examples=100, deadline=None)
@given(history=histories(), chaos=st.randoms(use_true_random=False))
def test_redelivered_and_reordered_records_end_in_the_same_board_and_rows(
    history: list[tuple[str, str, dict[str, Any] | None]], chaos: random.Random
) -> None:
    # Given the history processed once, in order: each change's record right after the change
    in_order = World()
    for change in history:
        in_order.process([apply(in_order, change)])

    # When the same history's records arrive redelivered and reordered: after each change, a batch of any records
    # already emitted (repeats included, any order); at the end, every record not yet processed and one more of
    # each key, shuffled, in batches (the last processing of each key comes after its last change)
    chaotic = World()
    emitted: list[Change] = []
    processed: set[int] = set()
    for change in history:
        emitted.append(apply(chaotic, change))
        picks = [chaos.randrange(len(emitted)) for _ in range(chaos.randrange(4))]
        processed.update(picks)
        chaotic.process([emitted[i] for i in picks])
    last_of_key = {record.key: index for index, record in enumerate(emitted)}
    final = [i for i in range(len(emitted)) if i not in processed] + list(last_of_key.values())
    final += [chaos.randrange(len(emitted)) for _ in range(3)]
    chaos.shuffle(final)
    while final:
        cut = chaos.randrange(1, len(final) + 1)
        chaotic.process([emitted[i] for i in final[:cut]])
        final = final[cut:]

    # Then both show the same: the same rows, the same agent list and counts, the same view of every queue both
    # published (the chaotic run may skip publishing a queue an agent passed through and left before it looked)
    agents, counts, views, rows, groups = shown_by(in_order)
    chaotic_agents, chaotic_counts, chaotic_views, chaotic_rows, chaotic_groups = shown_by(chaotic)
    assert chaotic_rows == rows
    assert chaotic_agents == agents
    assert chaotic_groups == groups
    if chaotic.board.deltas and in_order.board.deltas:
        assert chaotic_counts == counts
    for channel in views.keys() & chaotic_views.keys():
        assert chaotic_views[channel] == views[channel], channel
    # and what each shows is the truth: a fresh snapshot of the final state
    assert_board_matches_a_snapshot(in_order)
    assert_board_matches_a_snapshot(chaotic)


def test_a_heartbeat_costs_no_write_and_no_message() -> None:
    # Given an agent whose row is current
    world = World()
    item = {
        "agentArn": AGENTS[0],
        "statusName": "Available",
        "statusType": "ROUTABLE",
        "loggedIn": True,
        "contacts": [],
        "routingProfileQueueArns": [QUEUES[0]],
        "orderKey": "000001",
        "lastEventType": "STATE_CHANGE",
    }
    world.state.agents[AGENTS[0]] = item
    world.process([Change.agent(AGENTS[0])])
    writes, messages = world.rows.writes, len(world.publisher.published)
    # When a HEART_BEAT changes only what the board does not show
    world.state.agents[AGENTS[0]] = {**item, "orderKey": "000002", "lastEventType": "HEART_BEAT"}
    world.process([Change.agent(AGENTS[0])])
    # Then nothing is written and nothing is published
    assert (world.rows.writes, len(world.publisher.published)) == (writes, messages)


def test_a_stale_row_never_replaces_a_newer_one() -> None:
    rows = InMemoryBoardRows()
    newer = board.agent_row({"agentArn": AGENTS[0], "statusName": "Break"})
    older = board.agent_row({"agentArn": AGENTS[0], "statusName": "Available"})
    from connect_state.service.ports import StoredRow

    assert rows.put_row(StoredRow(AGENTS[0], newer, {"orderKey": "000002"}))
    assert not rows.put_row(StoredRow(AGENTS[0], older, {"orderKey": "000001"}))
    assert rows.all_rows()[0].row == newer
