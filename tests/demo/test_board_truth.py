"""The wallboard's ground truth (demo.board_truth) on a contact centre built by hand, figure by figure, and the
comparison the demo prints."""

from __future__ import annotations

from typing import Any

import pytest

from demo.board_truth import AGENT_METRICS, QUEUE_METRICS, board_truth, compare
from demo.connect_payloads import epoch_ms
from demo.contact_centre import (
    DEFAULT_INSTANCE_ARN,
    DEFAULT_START,
    Agent,
    AgentContact,
    Contact,
    Instance,
    Simulation,
    SimulationConfig,
)

pytestmark = pytest.mark.usefixtures("no_network")
START = epoch_ms(DEFAULT_START)
INSTANCE = Instance.build(DEFAULT_INSTANCE_ARN)
SALES, SUPPORT, BILLING = (INSTANCE.queues[name] for name in ("Sales", "Support", "Billing"))
VOICE_PROFILE, _, CHAT_PROFILE = INSTANCE.profiles  # Sales + Billing voice; Support + Sales chat


def at(seconds: float) -> int:
    return START + round(seconds * 1000)


def agent(index: int, status: str = "Available", *, logged_in: bool = True, profile: Any = VOICE_PROFILE) -> Agent:
    agent_id = f"00000000-0000-4000-8000-{index:012d}"
    return Agent(
        index=index,
        agent_id=agent_id,
        arn=f"{INSTANCE.arn}/agent/{agent_id}",
        first_name="A",
        last_name=str(index),
        username=f"a{index}",
        profile=profile,
        own_queue=INSTANCE.agent_queue(agent_id),
        logged_in=logged_in,
        status=status,
        events_emitted=1,
    )


def contact(
    number: int,
    queue: Any,
    enqueued: float,
    *,
    channel: str = "VOICE",
    method: str = "INBOUND",
    connected: float | None = None,
    disconnected: float | None = None,
    acw_end: float | None = None,
) -> Contact:
    return Contact(
        contact_id=f"c{number}",
        kind="inbound_voice",
        channel=channel,
        initiation_method=method,
        initiation_ms=at(enqueued - 5),
        queue=queue,
        enqueue_ms=at(enqueued) if queue is not None else None,
        connected_to_agent_ms=at(connected) if connected is not None else None,
        disconnect_ms=at(disconnected) if disconnected is not None else None,
        acw_start_ms=at(disconnected) if disconnected is not None and connected is not None else None,
        acw_end_ms=at(acw_end) if acw_end is not None else None,
    )


def hold(agent: Agent, contact: Contact, state: str) -> None:
    agent.contacts[contact.contact_id] = AgentContact(contact, state, START)


@pytest.fixture
def simulation() -> Simulation:
    """Ten minutes; at the end:
    a1 Available on a Sales call (c1); a2 on Break with a chat in after-contact work (c2, Support); a3 Available and
    free; a4 Available dialling out (c7, ringing); a5 Available with a Sales call ringing (c5, still in the queue);
    a6 logged out; a7 never sent an event. Sales: c1 answered after 15 s, c3 abandoned after 30 s, c4 answered after
    10 s and finished (60 s talk, 30 s ACW), c5 and c6 waiting since 8:20 and 9:20."""
    a1, a3, a4, a5 = agent(1), agent(3), agent(4), agent(5)
    a2 = agent(2, "Break", profile=CHAT_PROFILE)
    a6 = agent(6, "Offline", logged_in=False)
    a7 = agent(7, "Offline", logged_in=False)
    a7.events_emitted = 0
    contacts = [
        c1 := contact(1, SALES, 10, connected=25),
        c2 := contact(2, SUPPORT, 100, channel="CHAT", method="API", connected=103, disconnected=400),
        contact(3, SALES, 20, disconnected=50),
        contact(4, SALES, 30, connected=40, disconnected=100, acw_end=130),
        c5 := contact(5, SALES, 500),
        contact(6, SALES, 560),
        c7 := contact(7, None, 590, method="OUTBOUND"),
    ]
    hold(a1, c1, "CONNECTED")
    hold(a2, c2, "ENDED")
    hold(a4, c7, "CONNECTING")
    hold(a5, c5, "CONNECTING")
    return Simulation(
        config=SimulationConfig(agents=7, minutes=10),
        instance=INSTANCE,
        start_ms=START,
        end_ms=at(600),
        agents=[a1, a2, a3, a4, a5, a6, a7],
        contacts={c.contact_id: c for c in contacts},
        agent_records=[],
        contact_records=[],
    )


def test_the_agent_counts_follow_connects_definitions(simulation: Simulation) -> None:
    figures = board_truth(simulation).figures
    assert {metric: figures[(None, metric)] for metric in AGENT_METRICS} == {
        "AGENTS_ONLINE": 5,  # a1-a5; a6 logged out
        "AGENTS_STAFFED": 4,  # not a2, on Break
        "AGENTS_AVAILABLE": 1,  # a3 only: a5 has a call ringing
        "AGENTS_ON_CONTACT": 3,  # a1 (connected), a2 (ACW), a4 (outbound ring); not a5 (inbound ring)
        "AGENTS_AFTER_CONTACT_WORK": 1,  # contacts in ACW
        "AGENTS_NON_PRODUCTIVE": 1,  # a2, on Break while in ACW: counted in both
        "AGENTS_ERROR": 0,
    }


def test_a_queues_figures_at_the_end_of_the_simulation(simulation: Simulation) -> None:
    figures = board_truth(simulation, service_level_seconds=20).figures
    assert {metric: figures[(SALES.id, metric)] for metric in QUEUE_METRICS} == {
        "CONTACTS_IN_QUEUE": 2,  # c5 (ringing) and c6
        "OLDEST_CONTACT_AGE": 100.0,  # c5, queued at 8:20
        "AGENTS_STAFFED": 4,  # a1, a3, a4, a5 (a2 takes Sales chats, but is on Break)
        "AGENTS_AVAILABLE": 1,
        "SERVICE_LEVEL": 40.0,  # c1 (15 s) and c4 (10 s) of 5 queued; c3 left after 30 s
        "ABANDONMENT_RATE": 20.0,
        "AVG_HANDLE_TIME": 90.0,  # c4 only has finished its ACW: 60 s + 30 s
        "AVG_QUEUE_ANSWER_TIME": 12.5,
        "CONTACTS_QUEUED": 5,
        "CONTACTS_HANDLED": 2,
        "CONTACTS_ABANDONED": 1,
    }
    assert figures[(SUPPORT.id, "CONTACTS_HANDLED")] == 1
    assert figures[(SUPPORT.id, "AVG_HANDLE_TIME")] is None  # c2 is still in after-contact work
    assert figures[(SUPPORT.id, "AGENTS_STAFFED")] == 0
    assert figures[(BILLING.id, "SERVICE_LEVEL")] is None  # nothing queued: nothing to divide by
    assert figures[(BILLING.id, "OLDEST_CONTACT_AGE")] is None


def test_only_queues_with_contacts_or_agents_are_on_the_board(simulation: Simulation) -> None:
    queues = {queue for queue, _ in board_truth(simulation).figures if queue is not None}
    assert queues == {SALES.id, SUPPORT.id, BILLING.id}  # not Outbound: no profile takes it, c7 was never queued


def test_a_board_that_shows_the_truth_agrees_at_the_precision_it_rounds_to(simulation: Simulation) -> None:
    truth = board_truth(simulation)
    board = dict(truth.figures)
    board[(SALES.id, "OLDEST_CONTACT_AGE")] = 100  # floored to whole seconds
    board[(SALES.id, "AVG_QUEUE_ANSWER_TIME")] = 12.5
    agreement = compare(board, truth)
    assert agreement.perfect
    assert str(agreement) == f"wallboard agreement: 100.0% ({len(truth.figures)}/{len(truth.figures)} figures)"


def test_every_difference_is_a_mismatch_in_words(simulation: Simulation) -> None:
    truth = board_truth(simulation)
    board = dict(truth.figures)
    board[(None, "AGENTS_AVAILABLE")] = 2
    board[(SALES.id, "AVG_HANDLE_TIME")] = 90.1  # more than the rounding to a tenth
    board[(SALES.id, "SERVICE_LEVEL")] = None
    del board[(BILLING.id, "CONTACTS_QUEUED")]
    board[("unknown-queue", "CONTACTS_QUEUED")] = 0
    agreement = compare(board, truth)
    total = len(truth.figures) + 1
    assert (agreement.matched, agreement.total) == (total - 5, total)
    assert not agreement.perfect
    assert str(agreement) == f"wallboard agreement: {100 * (total - 5) / total:.1f}% ({total - 5}/{total} figures)"
    assert sorted(str(m) for m in agreement.mismatches) == sorted(
        [
            "agents AGENTS_AVAILABLE: board 2, truth 1",
            "queue Sales AVG_HANDLE_TIME: board 90.1, truth 90",
            "queue Sales SERVICE_LEVEL: board None, truth 40",
            "queue Billing CONTACTS_QUEUED: board (not shown), truth 0",
            "queue unknown-queue CONTACTS_QUEUED: board 0, truth (not expected)",
        ]
    )
