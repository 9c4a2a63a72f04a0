"""The wallboard page as a supervisor's browser runs it: headless Chromium, the local board server, a fake board.

Given the page is open and subscribed, when the board publishes, then the figures on the screen follow; a lost agent
delta makes the page fetch the snapshot again; a dropped connection reconnects and resynchronises; tiles take the
colour of the view's levels; and nothing is logged to the console as an error.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import START, FakeBoard, agent_row, iso, queue_channel, queue_view

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

SCREENSHOT = Path(__file__).resolve().parents[2] / "build" / "wallboard.png"
ALERT_RED = "rgb(255, 93, 82)"
WARN_AMBER = "rgb(227, 179, 65)"


def metric(page: Page, name: str, queue: str | None = None) -> str:
    scope = f'[data-queue="{queue}"]' if queue else ".agent-counts"
    return f'{scope} .value[data-metric="{name}"]' if queue else f'{scope} [data-metric="{name}"]'


def wait_live(page: Page) -> None:
    expect(page.locator('[data-metric="connection"]')).to_have_attribute("data-state", "live")


def test_the_page_shows_the_snapshot_then_follows_every_push(page: Page, board: FakeBoard) -> None:
    # Given the page has connected, subscribed and read the snapshots
    wait_live(page)
    expect(page.locator(metric(page, "AGENTS_ONLINE"))).to_have_text("2")
    expect(page.locator(metric(page, "AGENTS_AVAILABLE"))).to_have_text("1")
    expect(page.locator(".queue h2")).to_have_text(["Sales", "Support"])
    expect(page.locator(".agent-list .agent-name")).to_have_text(["Alice Adams", "Bob Brown"])  # offline Carol hidden
    assert board.server is not None
    assert board.server.subscription_patterns() == ["/board/agents", "/board/queues/*"]

    # When the board publishes a queue view and an agent delta
    board.advance(5)
    waiting = [
        {"contactId": "c1", "channel": "VOICE", "queuedSince": "2026-11-20T08:28:45.000Z", "waitSeconds": 80},
        {"contactId": "c2", "channel": "CHAT", "queuedSince": "2026-11-20T08:29:50.000Z", "waitSeconds": 15},
    ]
    sales = queue_view(
        "q-sales",
        "Sales",
        CONTACTS_IN_QUEUE=2,
        OLDEST_CONTACT_AGE=80,
        AGENTS_STAFFED=2,
        AGENTS_AVAILABLE=0,
        SERVICE_LEVEL=87.5,
        ABANDONMENT_RATE=4.2,
        AVG_HANDLE_TIME=245.4,
        AVG_QUEUE_ANSWER_TIME=12,
        CONTACTS_QUEUED=24,
        CONTACTS_HANDLED=20,
        CONTACTS_ABANDONED=1,
        waiting=waiting,
        waitingTotal=2,
        levels={"SERVICE_LEVEL": "ok", "OLDEST_CONTACT_AGE": "warn", "ABANDONMENT_RATE": "ok"},
    )
    queue_message = board.set_queue(sales)
    board.publish(queue_message)
    on_call = agent_row(
        "a1",
        "Alice Adams",
        "ON_CONTACT",
        "Available",
        65,
        contacts=[
            {
                "contactId": "c0",
                "channel": "VOICE",
                "state": "CONNECTED",
                "stateStartTimestamp": "2026-11-20T08:29:00.000Z",
            }
        ],
    )
    agents_message = board.set_agents(on_call)
    board.publish(agents_message)

    # Then the figures on the screen follow, ticking durations included
    expect(page.locator(metric(page, "CONTACTS_IN_QUEUE", "q-sales"))).to_have_text("2")
    expect(page.locator(metric(page, "SERVICE_LEVEL", "q-sales"))).to_have_text("88%")
    expect(page.locator(metric(page, "SERVICE_LEVEL", "q-sales"))).to_have_attribute("data-value", "87.5")
    expect(page.locator(metric(page, "AVG_HANDLE_TIME", "q-sales"))).to_have_text("4:05")
    expect(page.locator(metric(page, "CONTACTS_HANDLED", "q-sales"))).to_have_text("20")
    expect(page.locator('[data-queue="q-sales"] .waiting li[data-contact="c1"] .channel')).to_have_text("Voice")
    expect(page.locator('[data-queue="q-sales"] .waiting li[data-contact="c2"] .channel')).to_have_text("Chat")
    expect(page.locator(metric(page, "AGENTS_ON_CONTACT"))).to_have_text("1")
    expect(page.locator(metric(page, "AGENTS_AVAILABLE"))).to_have_text("0")
    alice = page.locator(f'.agent[data-agent="{on_call["agentArn"]}"]')
    expect(alice).to_have_attribute("data-activity", "ON_CONTACT")
    call = alice.locator('.contact[data-contact="c0"]')
    expect(call).to_have_attribute("data-state", "CONNECTED")
    expect(call).to_have_text(re.compile(r"^Voice 1:0\d$"))  # on the call since 08:29:00, 65 s before 08:30:05
    # time in state counts from statusStartTimestamp (65 s before the first asOf, 70 s before this one), then ticks
    expect(alice.locator(".in-state")).to_have_text(re.compile(r"^1:1\d$"))
    oldest = page.locator(metric(page, "OLDEST_CONTACT_AGE", "q-sales"))
    expect(oldest).to_have_text(re.compile(r"^1:2\d$"))
    shown = oldest.text_content()
    expect(oldest).not_to_have_text(shown or "", timeout=3000)
    expect(oldest).to_have_attribute("data-value", "80")  # the figure as of the message, for comparisons

    # And each push was acknowledged after it was rendered (the demo's latency measurement)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(board.server.acks()) < 2:
        time.sleep(0.05)
    acked = {(ack.channel, ack.seq): ack for ack in board.server.acks()}
    for message in (queue_message, agents_message):
        ack = acked[(message["channel"], message["seq"])]
        assert ack.published_at is not None
        assert ack.published_at <= ack.rendered_at <= ack.received_at + 0.01
        assert list(ack.changed) == message["changed"]


def test_a_lost_agent_delta_is_recovered_from_a_snapshot(page: Page, board: FakeBoard) -> None:
    # Given the page is live at the agents channel's seq 1
    wait_live(page)
    counts = page.locator(".agent-counts")
    expect(counts).to_have_attribute("data-seq", "1")
    assert board.server is not None
    snapshots_before = board.server.snapshot_count

    # When delta 2 is lost on the way and delta 3 arrives
    board.set_agents(agent_row("a4", "Dan Diaz", "AVAILABLE", "Available", 5))  # seq 2, never published
    board.publish(board.set_agents(agent_row("a2", "Bob Brown", "AVAILABLE", "Available", 1)))  # seq 3

    # Then the page does not apply 3 over the gap, and after the 2 s grace it reads the snapshot (seq 3)
    time.sleep(0.5)
    expect(counts).to_have_attribute("data-seq", "1")
    expect(page.locator(metric(page, "AGENTS_AVAILABLE"))).to_have_text("1")
    expect(counts).to_have_attribute("data-seq", "3", timeout=5000)
    expect(page.locator(metric(page, "AGENTS_AVAILABLE"))).to_have_text("3")
    expect(page.locator(".agent-list .agent-name")).to_have_text(["Alice Adams", "Bob Brown", "Dan Diaz"])
    assert board.server.snapshot_count == snapshots_before + 1
    wait_live(page)

    # And deltas after the snapshot apply in sequence again
    board.publish(board.set_agents(agent_row("a4", "Dan Diaz", "AFTER_CONTACT_WORK", "Available", 0)))
    expect(page.locator(metric(page, "AGENTS_AFTER_CONTACT_WORK"))).to_have_text("1")
    expect(counts).to_have_attribute("data-seq", "4")


def test_a_dropped_connection_reconnects_and_resynchronises(page: Page, board: FakeBoard) -> None:
    # Given the page is live, and the board changes while the page will not hear of it
    wait_live(page)
    expect(page.locator(metric(page, "CONTACTS_IN_QUEUE", "q-support"))).to_have_text("0")
    assert board.server is not None
    board.set_queue(queue_view("q-support", "Support", CONTACTS_IN_QUEUE=3, OLDEST_CONTACT_AGE=42))
    board.set_agents(agent_row("a2", "Bob Brown", "AVAILABLE", "Available", 1))

    # When the service drops every connection
    assert board.server.drop_connections() == 1

    # Then the page reconnects, subscribes again and reads the snapshots: it shows what it missed
    expect(page.locator(metric(page, "CONTACTS_IN_QUEUE", "q-support"))).to_have_text("3", timeout=10000)
    expect(page.locator(metric(page, "AGENTS_AVAILABLE"))).to_have_text("2")
    wait_live(page)
    assert board.server.connection_count == 1
    assert board.server.subscription_patterns() == ["/board/agents", "/board/queues/*"]

    # And pushes flow on the new connection
    board.publish(board.set_queue(queue_view("q-support", "Support", CONTACTS_IN_QUEUE=4)))
    expect(page.locator(metric(page, "CONTACTS_IN_QUEUE", "q-support"))).to_have_text("4")


class TestSilentConnection:
    """A connection that stops sending keep-alives is dead even while its socket looks open."""

    @pytest.fixture
    def server_options(self) -> dict[str, Any]:
        return {"keepalive_seconds": 600.0, "connection_timeout_ms": 1500}  # one "ka", then silence

    def test_no_keep_alive_within_the_timeout_makes_the_page_reconnect(self, page: Page, board: FakeBoard) -> None:
        wait_live(page)
        assert board.server is not None
        board.set_queue(queue_view("q-support", "Support", CONTACTS_IN_QUEUE=2))  # missed while the line is silent

        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and board.server.connections_opened < 2:
            time.sleep(0.1)
        assert board.server.connections_opened >= 2
        expect(page.locator(metric(page, "CONTACTS_IN_QUEUE", "q-support"))).to_have_text("2")


def test_tiles_take_the_colour_of_the_views_levels(page: Page, board: FakeBoard) -> None:
    wait_live(page)
    service_level = page.locator(metric(page, "SERVICE_LEVEL", "q-sales"))
    oldest = page.locator(metric(page, "OLDEST_CONTACT_AGE", "q-sales"))

    board.publish(
        board.set_queue(
            queue_view(
                "q-sales",
                "Sales",
                SERVICE_LEVEL=55,
                OLDEST_CONTACT_AGE=95,
                CONTACTS_IN_QUEUE=1,
                levels={"SERVICE_LEVEL": "alert", "OLDEST_CONTACT_AGE": "warn", "ABANDONMENT_RATE": "ok"},
            )
        )
    )
    expect(service_level).to_have_attribute("data-level", "alert")
    expect(service_level).to_have_css("color", ALERT_RED)
    expect(oldest).to_have_css("color", WARN_AMBER)
    expect(page.locator('.queue[data-queue="q-sales"]')).to_have_attribute("data-level", "alert")

    board.publish(board.set_queue(queue_view("q-sales", "Sales", SERVICE_LEVEL=92, CONTACTS_IN_QUEUE=0)))
    expect(service_level).to_have_attribute("data-level", "ok")
    expect(service_level).not_to_have_css("color", ALERT_RED)
    expect(page.locator('.queue[data-queue="q-sales"]')).to_have_attribute("data-level", "ok")


def test_a_stale_or_repeated_queue_view_does_not_move_a_figure(page: Page, board: FakeBoard) -> None:
    wait_live(page)
    first = board.set_queue(queue_view("q-sales", "Sales", CONTACTS_IN_QUEUE=5))
    second = board.set_queue(queue_view("q-sales", "Sales", CONTACTS_IN_QUEUE=6))
    board.publish(second)
    board.publish(first)  # delivered late
    board.publish(second)  # delivered twice
    board.publish(board.set_queue(queue_view("q-support", "Support", CONTACTS_IN_QUEUE=9)))  # a later marker
    expect(page.locator(metric(page, "CONTACTS_IN_QUEUE", "q-support"))).to_have_text("9")
    expect(page.locator(metric(page, "CONTACTS_IN_QUEUE", "q-sales"))).to_have_text("6")
    expect(page.locator(f'[data-channel="{queue_channel("q-sales")}"]')).to_have_attribute("data-seq", "3")


def test_no_layout_moves_when_figures_change(page: Page, board: FakeBoard) -> None:
    wait_live(page)
    expect(page.locator(".agent-list .agent")).to_have_count(2)
    expect(page.locator(".queue")).to_have_count(2)
    boxes = (
        "() => [...document.querySelectorAll('.tile, .queue, .agent, .waiting li')].map(e => e.getBoundingClientRect())"
    )
    before = page.evaluate(boxes)
    board.publish(
        board.set_queue(
            queue_view(
                "q-sales",
                "Sales",
                CONTACTS_IN_QUEUE=128,
                OLDEST_CONTACT_AGE=4000,
                SERVICE_LEVEL=100,
                ABANDONMENT_RATE=100,
                AVG_HANDLE_TIME=36000,
                AVG_QUEUE_ANSWER_TIME=3599,
                CONTACTS_HANDLED=12345,
                CONTACTS_ABANDONED=9999,
                CONTACTS_QUEUED=22344,
                waiting=[
                    {"contactId": f"c{i}", "channel": "VOICE", "queuedSince": "", "waitSeconds": 4000 - i}
                    for i in range(50)
                ],
                waitingTotal=128,
            )
        )
    )
    board.publish(board.set_agents(agent_row("a2", "Bob Brown", "AFTER_CONTACT_WORK", "Lunch", 0)))
    expect(page.locator(metric(page, "CONTACTS_IN_QUEUE", "q-sales"))).to_have_text("128")
    expect(page.locator(metric(page, "AGENTS_AFTER_CONTACT_WORK"))).to_have_text("1")
    assert page.evaluate(boxes) == before


def test_a_queue_first_seen_in_a_push_gets_its_tile_and_the_board_fills_a_wall_screen(
    page: Page, board: FakeBoard
) -> None:
    wait_live(page)
    names = [
        "Ada Lovelace",
        "Grace Hopper",
        "Alan Turing",
        "Katherine Johnson",
        "Edsger Dijkstra",
        "Barbara Liskov",
        "Donald Knuth",
        "Frances Allen",
        "Ken Thompson",
        "Margaret Hamilton",
        "Dennis Ritchie",
        "Radia Perlman",
        "Tim Berners-Lee",
        "Hedy Lamarr",
        "John Backus",
        "Annie Easley",
        "Niklaus Wirth",
        "Adele Goldberg",
        "Leslie Lamport",
        "Shafi Goldwasser",
        "Bjarne Stroustrup",
        "Sophie Wilson",
    ]
    activities = [
        ("ON_CONTACT", "Available", [("VOICE", "CONNECTED", 95)]),
        ("AVAILABLE", "Available", []),
        ("AFTER_CONTACT_WORK", "Available", [("VOICE", "ENDED", 20)]),
        ("ON_CONTACT", "Available", [("CHAT", "CONNECTED", 300), ("CHAT", "CONNECTED", 45)]),
        ("CUSTOM_STATUS", "Training", []),
        ("ON_HOLD", "Available", [("VOICE", "CONNECTED_ONHOLD", 40)]),
        ("AFTER_CONTACT_WORK", "Lunch", [("CHAT", "ENDED", 70)]),
        ("INCOMING", "Available", [("VOICE", "CONNECTING", 4)]),
    ]
    rows = []
    for index, name in enumerate(names):
        activity, status, contacts = activities[index % len(activities)]
        rows.append(
            agent_row(
                f"w{index}",
                name,
                activity,
                status,
                30 + 37 * index,
                contacts=[
                    {
                        "contactId": f"w{index}-{n}",
                        "channel": channel,
                        "state": state,
                        "stateStartTimestamp": iso(START - timedelta(seconds=age)),
                    }
                    for n, (channel, state, age) in enumerate(contacts)
                ],
            )
        )
    board.publish(board.set_agents(*rows[:10]))
    board.publish(board.set_agents(*rows[10:]))
    board.publish(
        board.set_queue(
            queue_view(
                "q-billing",
                "Billing",
                CONTACTS_IN_QUEUE=7,
                OLDEST_CONTACT_AGE=312,
                AGENTS_STAFFED=6,
                AGENTS_AVAILABLE=0,
                SERVICE_LEVEL=54.5,
                ABANDONMENT_RATE=12.5,
                AVG_HANDLE_TIME=402,
                AVG_QUEUE_ANSWER_TIME=96,
                CONTACTS_QUEUED=48,
                CONTACTS_HANDLED=38,
                CONTACTS_ABANDONED=6,
                waiting=[
                    {"contactId": f"b{i}", "channel": "VOICE", "queuedSince": "", "waitSeconds": 312 - 41 * i}
                    for i in range(7)
                ],
                waitingTotal=7,
                levels={"SERVICE_LEVEL": "alert", "OLDEST_CONTACT_AGE": "alert", "ABANDONMENT_RATE": "alert"},
            )
        )
    )
    board.publish(
        board.set_queue(
            queue_view(
                "q-outbound",
                "Outbound",
                AGENTS_STAFFED=4,
                AGENTS_AVAILABLE=2,
                CONTACTS_HANDLED=17,
                AVG_HANDLE_TIME=188,
                levels={},
            )
        )
    )
    board.publish(
        board.set_queue(
            queue_view(
                "q-support",
                "Support",
                CONTACTS_IN_QUEUE=3,
                OLDEST_CONTACT_AGE=75,
                AGENTS_STAFFED=9,
                AGENTS_AVAILABLE=1,
                SERVICE_LEVEL=76,
                ABANDONMENT_RATE=5.5,
                AVG_HANDLE_TIME=3725,
                AVG_QUEUE_ANSWER_TIME=31,
                CONTACTS_QUEUED=131,
                CONTACTS_HANDLED=117,
                CONTACTS_ABANDONED=7,
                waiting=[
                    {"contactId": "s1", "channel": "CHAT", "queuedSince": "", "waitSeconds": 75},
                    {"contactId": "s2", "channel": "VOICE", "queuedSince": "", "waitSeconds": 33},
                    {"contactId": "s3", "channel": "TASK", "queuedSince": "", "waitSeconds": 4},
                ],
                waitingTotal=3,
                levels={"SERVICE_LEVEL": "warn", "OLDEST_CONTACT_AGE": "warn", "ABANDONMENT_RATE": "warn"},
            )
        )
    )

    # Queues in a stable order (by name), whatever order their channels were first heard in
    expect(page.locator(".queue h2")).to_have_text(["Billing", "Outbound", "Sales", "Support"])
    expect(page.locator(metric(page, "CONTACTS_IN_QUEUE", "q-billing"))).to_have_text("7")
    expect(page.locator('[data-queue="q-billing"] [data-metric="waitingTotal"]')).to_have_text("+ 2 more waiting")
    expect(page.locator('[data-metric="agentsShown"]')).to_have_text("24 logged in")
    expect(page.locator('[data-metric="agentsHidden"]')).to_have_text("")  # all 24 fit on a 1080p screen

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
