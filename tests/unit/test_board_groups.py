"""Agent-group channels (`/board/agentgroups/<hierarchyGroupId>`): the read model publishes, besides the list of every
agent, one delta per touched agent hierarchy group, with that group's rows only and counts over its members; the
snapshot of a group's channel is its members. Real service, in-memory tables (tests/fakes.py)."""

from __future__ import annotations

from typing import Any

import pytest

from connect_state.domain import board
from connect_state.models.board_settings import WallboardSettings
from connect_state.service.board import BoardService, Change, OutOfScopeError, UnknownChannelError
from tests.fakes import InMemoryBoardRows, InMemoryBoardState, RecordingChannelPublisher

INSTANCE = "arn:aws:connect:eu-west-2:111122223333:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111"
SALES = f"{INSTANCE}/queue/q-sales"
LONDON = f"{INSTANCE}/agent-group/site-london"  # Level1
BLUE = f"{INSTANCE}/agent-group/team-blue"  # Level2 under London
RED = f"{INSTANCE}/agent-group/team-red"  # Level2 under London
NOW = "2026-11-20T10:00:00.000Z"
BLUE_CHANNEL = "/board/agentgroups/team-blue"
RED_CHANNEL = "/board/agentgroups/team-red"
LONDON_CHANNEL = "/board/agentgroups/site-london"


def agent(n: int, *groups: str, version: int = 1, status: str = "Available") -> dict[str, Any]:
    item: dict[str, Any] = {
        "agentArn": f"{INSTANCE}/agent/a-{n}",
        "agentId": f"a-{n}",
        "username": f"agent{n}",
        "statusName": status,
        "statusType": "ROUTABLE" if status == "Available" else "CUSTOM",
        "loggedIn": True,
        "contacts": [],
        "routingProfileQueueArns": [SALES],
        "orderKey": f"{version:06d}",
    }
    if groups:
        item["hierarchyGroupArns"] = sorted(groups)
    return item


class World:
    def __init__(self) -> None:
        self.state = InMemoryBoardState()
        self.rows = InMemoryBoardRows()
        self.publisher = RecordingChannelPublisher()
        self.service = BoardService(self.state, self.rows, self.publisher, WallboardSettings(), lambda: NOW)

    def change(self, *items: dict[str, Any]) -> dict[str, dict[str, Any]]:
        for item in items:
            self.state.agents[item["agentArn"]] = item
        published = self.service.apply_changes([Change.agent(item["agentArn"]) for item in items])
        return {message["channel"]: message for message in published}

    def expire(self, agent_arn: str) -> dict[str, dict[str, Any]]:
        del self.state.agents[agent_arn]
        return {m["channel"]: m for m in self.service.apply_changes([Change.agent(agent_arn)])}


def arns(rows: list[dict[str, Any]]) -> list[str]:
    return [row["agentArn"] for row in rows]


def test_the_agent_row_names_its_hierarchy_groups_by_id() -> None:
    row = board.agent_row(agent(1, BLUE, LONDON))
    assert row["hierarchyGroupIds"] == ["site-london", "team-blue"]
    assert "hierarchyGroupIds" not in board.agent_row(agent(2))


def test_a_change_publishes_to_every_group_of_the_agent_with_that_groups_members_only() -> None:
    world = World()
    # Given an agent of team blue and one of team red, both in the London site
    first = world.change(agent(1, LONDON, BLUE), agent(2, LONDON, RED, status="Break"))
    assert sorted(first) == sorted(
        [board.AGENTS_CHANNEL, BLUE_CHANNEL, RED_CHANNEL, LONDON_CHANNEL, "/board/queues/q-sales"]
    )
    # Then each group's delta has its own members' rows and counts over them only
    assert arns(first[BLUE_CHANNEL]["upserts"]) == [f"{INSTANCE}/agent/a-1"]
    assert arns(first[RED_CHANNEL]["upserts"]) == [f"{INSTANCE}/agent/a-2"]
    assert arns(first[LONDON_CHANNEL]["upserts"]) == [f"{INSTANCE}/agent/a-1", f"{INSTANCE}/agent/a-2"]
    assert (first[BLUE_CHANNEL]["counts"]["AGENTS_AVAILABLE"], first[BLUE_CHANNEL]["counts"]["AGENTS_ONLINE"]) == (1, 1)
    assert (
        first[RED_CHANNEL]["counts"]["AGENTS_AVAILABLE"],
        first[RED_CHANNEL]["counts"]["AGENTS_NON_PRODUCTIVE"],
    ) == (0, 1)
    assert first[LONDON_CHANNEL]["counts"]["AGENTS_ONLINE"] == 2
    assert all(
        first[c]["kind"] == "delta" and first[c]["seq"] == 1 for c in (BLUE_CHANNEL, RED_CHANNEL, LONDON_CHANNEL)
    )
    # When only the red agent changes
    second = world.change(agent(2, LONDON, RED, version=2))
    # Then blue hears nothing; red and London get the change, counted over all their members
    assert BLUE_CHANNEL not in second
    assert (second[RED_CHANNEL]["seq"], second[LONDON_CHANNEL]["seq"]) == (2, 2)
    assert second[LONDON_CHANNEL]["counts"]["AGENTS_AVAILABLE"] == 2
    assert arns(second[LONDON_CHANNEL]["upserts"]) == [f"{INSTANCE}/agent/a-2"]


def test_an_agent_that_moves_to_another_group_is_removed_from_the_old_one() -> None:
    world = World()
    world.change(agent(1, BLUE), agent(2, BLUE))
    # When agent 1 moves from blue to red
    moved = world.change(agent(1, RED, version=2))
    # Then blue's delta removes it (and counts one member), red's adds it
    assert (moved[BLUE_CHANNEL]["upserts"], moved[BLUE_CHANNEL]["removes"]) == ([], [f"{INSTANCE}/agent/a-1"])
    assert moved[BLUE_CHANNEL]["counts"]["AGENTS_ONLINE"] == 1
    assert arns(moved[RED_CHANNEL]["upserts"]) == [f"{INSTANCE}/agent/a-1"]
    assert moved[RED_CHANNEL]["removes"] == []
    # and the every-agent list just updates the row
    assert arns(moved[board.AGENTS_CHANNEL]["upserts"]) == [f"{INSTANCE}/agent/a-1"]


def test_an_expired_agent_is_removed_from_each_of_its_groups() -> None:
    world = World()
    world.change(agent(1, LONDON, BLUE))
    gone = world.expire(f"{INSTANCE}/agent/a-1")
    for channel in (BLUE_CHANNEL, LONDON_CHANNEL, board.AGENTS_CHANNEL):
        assert gone[channel]["removes"] == [f"{INSTANCE}/agent/a-1"], channel
        assert gone[channel]["counts"]["AGENTS_ONLINE"] == 0


def test_an_agent_in_no_group_publishes_to_no_group_channel() -> None:
    world = World()
    published = world.change(agent(1))
    assert not [channel for channel in published if channel.startswith(board.AGENT_GROUP_CHANNEL_PREFIX)]


def test_a_groups_snapshot_is_its_members_with_the_channels_number() -> None:
    world = World()
    world.change(agent(1, LONDON, BLUE), agent(2, LONDON, RED))
    world.change(agent(2, LONDON, RED, version=2, status="Break"))
    (blue,) = world.service.snapshot(BLUE_CHANNEL)
    assert (blue["channel"], blue["kind"], blue["seq"], arns(blue["agents"])) == (
        BLUE_CHANNEL,
        "snapshot",
        1,
        [f"{INSTANCE}/agent/a-1"],
    )
    assert blue["counts"]["AGENTS_ONLINE"] == 1
    (london,) = world.service.snapshot(LONDON_CHANNEL)
    assert (london["seq"], len(london["agents"]), london["counts"]["AGENTS_NON_PRODUCTIVE"]) == (2, 2, 1)
    # A group nobody is in (yet) is an empty board, not an error: its supervisor's board starts from it
    (empty,) = world.service.snapshot("/board/agentgroups/team-green")
    assert (empty["seq"], empty["agents"], empty["counts"]["AGENTS_ONLINE"]) == (0, [], 0)


def test_the_snapshot_of_every_group_and_of_every_channel() -> None:
    world = World()
    world.change(agent(1, LONDON, BLUE), agent(2, RED))
    groups = world.service.snapshot(board.ALL_AGENT_GROUPS_CHANNEL)
    assert [s["channel"] for s in groups] == [LONDON_CHANNEL, BLUE_CHANNEL, RED_CHANNEL]
    everything = world.service.snapshot(board.EVERY_CHANNEL)
    assert [s["channel"] for s in everything] == [
        board.AGENTS_CHANNEL,
        "/board/queues/q-sales",
        LONDON_CHANNEL,
        BLUE_CHANNEL,
        RED_CHANNEL,
    ]


def test_a_malformed_group_channel_is_unknown() -> None:
    world = World()
    for channel in ("/board/agentgroups/", "/board/agentgroups/a_b", "/board/agentgroups/a/b", "/board/agentgroups/*x"):
        with pytest.raises(UnknownChannelError):
            world.service.snapshot(channel)


# --- the snapshot a signed-in supervisor gets: only what their groups allow ----------------------------------------
OTHER = f"{INSTANCE}/queue/q-other"


def scoped_world() -> World:
    world = World()
    other = agent(3, RED)
    other["routingProfileQueueArns"] = [OTHER]
    world.change(agent(1, LONDON, BLUE), agent(2, RED), other)
    return world


def channels_of(document: dict[str, Any]) -> list[str]:
    return [snapshot["channel"] for snapshot in document["snapshots"]]


def test_everything_for_a_supervisor_of_a_queue_and_a_group_is_that_queue_and_that_group() -> None:
    world = scoped_world()
    document = world.service.snapshot_for("*", ["queue-q-sales", "agents-team-blue", "supervisors"])
    assert document["channels"] == [BLUE_CHANNEL, "/board/queues/q-sales"]
    assert channels_of(document) == [BLUE_CHANNEL, "/board/queues/q-sales"]
    (blue, _) = document["snapshots"]
    assert arns(blue["agents"]) == [f"{INSTANCE}/agent/a-1"]


def test_everything_for_wallboard_all_is_every_agent_and_every_queue() -> None:
    document = scoped_world().service.snapshot_for("*", ["wallboard-all"])
    assert document["channels"] == [board.AGENTS_CHANNEL, board.ALL_QUEUES_CHANNEL]
    assert channels_of(document) == [board.AGENTS_CHANNEL, "/board/queues/q-other", "/board/queues/q-sales"]


def test_a_queue_not_seen_yet_is_subscribed_to_but_has_no_snapshot() -> None:
    document = scoped_world().service.snapshot_for("*", ["queue-q-new"])
    assert (document["channels"], document["snapshots"]) == (["/board/queues/q-new"], [])


def test_a_wildcard_snapshot_of_a_scoped_supervisor_holds_only_their_own() -> None:
    world = scoped_world()
    document = world.service.snapshot_for(board.ALL_QUEUES_CHANNEL, ["queue-q-sales", "agents-team-red"])
    assert channels_of(document) == ["/board/queues/q-sales"]
    document = world.service.snapshot_for(board.ALL_AGENT_GROUPS_CHANNEL, ["queue-q-sales", "agents-team-red"])
    assert channels_of(document) == [RED_CHANNEL]


@pytest.mark.parametrize(
    ("channel", "groups"),
    [
        ("/board/queues/q-other", ["queue-q-sales"]),  # a supervisor of queue A never gets queue B
        (board.AGENTS_CHANNEL, ["agents-team-blue"]),  # nor a group's supervisor every agent
        (RED_CHANNEL, ["agents-team-blue"]),
        ("/board/queues/q-sales", []),
        ("*", []),  # no group: nothing at all
        ("*", ["supervisors"]),
        (board.ALL_QUEUES_CHANNEL, ["supervisors"]),
        ("/other", ["wallboard-all"]),
    ],
)
def test_a_channel_outside_the_callers_scope_is_refused(channel: str, groups: list[str]) -> None:
    with pytest.raises(OutOfScopeError):
        scoped_world().service.snapshot_for(channel, groups)


def test_an_allowed_channel_is_the_plain_snapshot_with_the_callers_channels() -> None:
    world = scoped_world()
    document = world.service.snapshot_for("/board/queues/q-sales", ["queue-q-sales", "queue-q-other"])
    assert document == {
        "snapshots": world.service.snapshot("/board/queues/q-sales"),
        "channels": ["/board/queues/q-other", "/board/queues/q-sales"],
    }
    with pytest.raises(UnknownChannelError):  # allowed, but the board has never seen it
        world.service.snapshot_for("/board/queues/q-new", ["queue-q-new"])
