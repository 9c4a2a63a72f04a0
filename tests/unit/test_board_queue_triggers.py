"""Which queue channels an agent's change recomputes: only those whose agent figures (AGENTS_STAFFED,
AGENTS_AVAILABLE) the change can move. Every other agent change (a contact ringing, connected, in ACW while the agent
was already unavailable) leaves every queue figure as it was, so recomputing the queue would cost two index queries
and a message per queue the agent serves for nothing. Real service, in-memory tables (tests/fakes.py)."""

from __future__ import annotations

from typing import Any

from connect_state.domain import board
from connect_state.models.board_settings import WallboardSettings
from connect_state.service.board import BoardService, Change
from tests.fakes import InMemoryBoardRows, InMemoryBoardState, RecordingChannelPublisher

INSTANCE = "arn:aws:connect:eu-west-2:111122223333:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111"
SALES = f"{INSTANCE}/queue/q-sales"
SUPPORT = f"{INSTANCE}/queue/q-support"
AGENT = f"{INSTANCE}/agent/a-1"
NOW = "2026-11-20T10:00:00.000Z"


def agent(
    version: int, status: str = "Available", contacts: tuple[str, ...] = (), queues: tuple[str, ...] = (SALES, SUPPORT)
) -> dict[str, Any]:
    return {
        "agentArn": AGENT,
        "agentId": "a-1",
        "username": "agent1",
        "statusName": status,
        "statusType": {"Available": "ROUTABLE", "Offline": "OFFLINE"}.get(status, "CUSTOM"),
        "loggedIn": True,
        "contacts": [{"contactId": f"c-{n}", "channel": "VOICE", "state": state} for n, state in enumerate(contacts)],
        "routingProfileQueueArns": list(queues),
        "orderKey": f"{version:06d}",
    }


class World:
    def __init__(self) -> None:
        self.state = InMemoryBoardState()
        self.service = BoardService(
            self.state, InMemoryBoardRows(), RecordingChannelPublisher(), WallboardSettings(), lambda: NOW
        )

    def change(self, item: dict[str, Any]) -> list[str]:
        """The queue channels the change published to."""
        self.state.agents[AGENT] = item
        published = self.service.apply_changes([Change.agent(AGENT)])
        return sorted(m["channel"] for m in published if m["channel"].startswith(board.QUEUE_CHANNEL_PREFIX))


def test_a_contact_moving_on_an_agent_who_is_already_unavailable_recomputes_no_queue() -> None:
    world = World()
    # Given an agent of two queues, on a call (staffed, not available)
    assert world.change(agent(1, contacts=("CONNECTED",))) == ["/board/queues/q-sales", "/board/queues/q-support"]
    # When the call ends and the agent is in after-contact work, still staffed and still not available
    after_call = world.change(agent(2, contacts=("ENDED",)))
    # Then the agent list changes, but no queue's figures can have: no queue is recomputed
    assert after_call == []


def test_a_change_of_availability_recomputes_every_queue_the_agent_serves() -> None:
    world = World()
    world.change(agent(1, contacts=("ENDED",)))
    # When the agent clears ACW and is available again
    assert world.change(agent(2)) == ["/board/queues/q-sales", "/board/queues/q-support"]
    # When the agent goes on Break (not staffed, not available)
    assert world.change(agent(3, status="Break")) == ["/board/queues/q-sales", "/board/queues/q-support"]


def test_a_routing_profile_change_recomputes_the_queues_left_and_joined_only() -> None:
    world = World()
    world.change(agent(1))
    # When the agent's routing profile drops Support and takes Billing, staying available
    billing = f"{INSTANCE}/queue/q-billing"
    assert world.change(agent(2, queues=(SALES, billing))) == ["/board/queues/q-billing", "/board/queues/q-support"]


def test_an_agent_who_counts_nowhere_before_or_after_recomputes_no_queue() -> None:
    world = World()
    world.change(agent(1, status="Break"))
    # When an agent on Break changes to Lunch (neither staffed nor available in either)
    assert world.change(agent(2, status="Lunch")) == []


# --- contact changes ------------------------------------------------------------------------------------------------
def _image(**attributes: Any) -> dict[str, Any]:
    """A DynamoDB stream image (typed JSON) of a contact item: strings and booleans."""
    typed: dict[str, Any] = {
        name: {"BOOL": value} if isinstance(value, bool) else {"S": value} for name, value in attributes.items()
    }
    return {"contactId": {"S": "c-1"}, **typed}


def _record(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    stream: dict[str, Any] = {"Keys": {"contactId": {"S": "c-1"}}, "SequenceNumber": "1"}
    if old is not None:
        stream["OldImage"] = old
    if new is not None:
        stream["NewImage"] = new
    return {"eventName": "MODIFY", "dynamodb": stream}


QUEUED: dict[str, Any] = {
    "queueArn": SALES,
    "enqueuedAt": "2026-11-20T09:59:00.000Z",
    "status": "COMPLETED",
    "abandoned": False,
}


def test_a_contact_change_no_queue_figure_reads_recomputes_nothing() -> None:
    from connect_state.handlers.board_changes import change_of

    # Given a completed contact, When DescribeContact's enrichment (or the abandoned claim) is written on it
    before = _image(**QUEUED)
    after = _image(**QUEUED, enrichmentStatus="ENRICHED", disconnectReason="CUSTOMER_DISCONNECT")
    # Then no queue figure can have moved: the record asks for no recompute
    assert change_of(_record(before, after)) is None


def test_a_contact_change_a_queue_figure_reads_recomputes_its_old_and_new_queue() -> None:
    from connect_state.handlers.board_changes import change_of

    before = _image(**{**QUEUED, "status": "DISCONNECTED"})
    after = _image(**{**QUEUED, "queueArn": SUPPORT})
    assert change_of(_record(before, after)) == Change.contact("c-1", SALES, SUPPORT)
    # a new contact, and one the TTL removed, always count
    assert change_of(_record(None, after)) == Change.contact("c-1", SUPPORT)
    assert change_of(_record(before, None)) == Change.contact("c-1", SALES)


def test_a_published_agent_row_names_its_queues_by_id_which_keeps_the_message_small() -> None:
    world = World()
    world.state.agents[AGENT] = agent(1)
    delta = next(m for m in world.service.apply_changes([Change.agent(AGENT)]) if m["channel"] == board.AGENTS_CHANNEL)
    # The read model keeps the ARNs (a queue's staffed count needs them); a board needs no more than the ids
    (row,) = delta["upserts"]
    assert row["queueIds"] == ["q-sales", "q-support"]
    assert "queueArns" not in row
    (snapshot,) = world.service.snapshot(board.AGENTS_CHANNEL)
    assert snapshot["agents"] == [row]
