"""A supervisor sees only their scope: the page against the local server playing the deployed board's authorisation.

The server answers as one caller with the given Cognito groups (demo.board_server `groups=`), applying the scope rule
of connect_state.domain.board_scope to subscriptions and snapshots, as AppSync Events' subscribe handler and the
snapshot API do in AWS. The page asks for `*`, subscribes to exactly the channels the answer lists, and shows those.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import FakeBoard, agent_row, queue_channel, queue_view

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

SCREENSHOT = Path(__file__).resolve().parents[2] / "build" / "wallboard-scoped.png"
SALES, SUPPORT = queue_channel("q-sales"), queue_channel("q-support")

# A WebSocket of the page's own origin, as a curious supervisor would open one from the developer tools: the same
# subprotocols as the page, then a subscription the page itself never asks for.
SNEAK_SUBSCRIBE = """async ({url, channel}) => new Promise((resolve) => {
  const header = btoa(JSON.stringify({host: location.host}))
    .replace(/[+]/g, "-").replace(/[/]/g, "_").replace(/=+$/, "");
  const socket = new WebSocket(url, ["aws-appsync-event-ws", `header-${header}`]);
  socket.onopen = () => socket.send(JSON.stringify({type: "connection_init"}));
  socket.onmessage = (message) => {
    const frame = JSON.parse(message.data);
    if (frame.type === "connection_ack") {
      socket.send(JSON.stringify({type: "subscribe", id: "sneak", channel, authorization: {host: location.host}}));
    } else if (frame.type.startsWith("subscribe_")) {
      socket.close();
      resolve(frame);
    }
  };
})"""


def snapshot_of(url: str, channel: str) -> tuple[int, list[str] | None]:
    """GET the snapshot of a channel: (status, the channels of its snapshots when it answered)."""
    try:
        with urllib.request.urlopen(f"{url}snapshot?{urllib.parse.urlencode({'channel': channel})}") as response:
            return response.status, [s["channel"] for s in json.load(response)["snapshots"]]
    except urllib.error.HTTPError as refused:
        return refused.code, None


def wait_live(page: Page) -> None:
    expect(page.locator('[data-metric="connection"]')).to_have_attribute("data-state", "live")


def count(page: Page, name: str, channel: str) -> Any:
    return page.locator(f'.agent-counts[data-channel="{channel}"] .value[data-metric="{name}"]')


class TestQueueScopedSupervisor:
    @pytest.fixture
    def server_options(self) -> dict[str, Any]:
        return {"keepalive_seconds": 5.0, "groups": ["queue-q-sales"]}

    def test_sees_only_queue_a_and_never_receives_queue_b(self, page: Page, board: FakeBoard) -> None:
        server = board.server
        assert server is not None
        # Given a supervisor of Sales only: the page subscribed to exactly the Sales channel and shows nothing else
        wait_live(page)
        expect(page.locator(".queue h2")).to_have_text(["Sales"])
        expect(page.locator(".agent-counts, .agents")).to_have_count(0)
        assert server.subscription_patterns() == [SALES]

        # When the board publishes Support, the agents and Sales
        board.publish(board.set_queue(queue_view("q-support", "Support", CONTACTS_IN_QUEUE=7)))
        board.publish(board.set_agents(agent_row("a2", "Bob Brown", "AVAILABLE", "Available", 1)))
        board.publish(board.set_queue(queue_view("q-sales", "Sales", CONTACTS_IN_QUEUE=4)))

        # Then Sales moves on the screen, Support never appears, and only Sales was ever sent to the page
        expect(page.locator('[data-queue="q-sales"] .value[data-metric="CONTACTS_IN_QUEUE"]')).to_have_text("4")
        expect(page.locator(".queue h2")).to_have_text(["Sales"])
        expect(page.locator('[data-queue="q-support"]')).to_have_count(0)
        deliveries = server.deliveries()
        assert [(d.channel, d.pattern) for d in deliveries] == [(SALES, SALES)]
        published = {p.channel: p.subscribers for p in server.publications()}
        assert published[SUPPORT] == 0
        assert published["/board/agents"] == 0

    def test_a_manual_subscription_or_snapshot_outside_the_scope_is_refused(self, page: Page, board: FakeBoard) -> None:
        server = board.server
        assert server is not None
        wait_live(page)
        realtime = server.url.replace("http", "ws") + "event/realtime"

        for channel in (SUPPORT, "/board/queues/*", "/board/agents"):
            refused = page.evaluate(SNEAK_SUBSCRIBE, {"url": realtime, "channel": channel})
            assert refused["type"] == "subscribe_error", channel
            assert refused["errors"][0]["errorType"] == "UnauthorizedException"
        # (from Python: a 403 in the page would be a console error of the test's own making)
        assert [snapshot_of(server.url, c) for c in (SUPPORT, "/board/queues/*", "*")] == [
            (403, None),
            (200, [SALES]),
            (200, [SALES]),
        ]

        # And nothing of Support reaches anyone on this server afterwards
        board.publish(board.set_queue(queue_view("q-support", "Support", CONTACTS_IN_QUEUE=9)))
        board.publish(board.set_queue(queue_view("q-sales", "Sales", CONTACTS_IN_QUEUE=1)))
        expect(page.locator('[data-queue="q-sales"] .value[data-metric="CONTACTS_IN_QUEUE"]')).to_have_text("1")
        assert {d.channel for d in server.deliveries()} == {SALES}


class TestRefusedSubscription:
    """The snapshot API lists a channel that the realtime service refuses (scopes out of step): shown, not retried."""

    @pytest.fixture
    def server_options(self) -> dict[str, Any]:
        return {"keepalive_seconds": 5.0, "groups": ["queue-q-sales"]}

    @pytest.fixture
    def board(self, board: FakeBoard) -> FakeBoard:
        assert board.server is not None
        board.server._snapshot_scoped = True  # answer as a scoped snapshot function that lists one channel too many
        unscoped = board.snapshot

        def snapshot(channel: str, groups: list[str]) -> dict[str, Any]:
            snapshots = unscoped(channel) if channel != "*" else unscoped("/board/queues/*")
            return {"snapshots": snapshots, "channels": [SALES, SUPPORT]}

        board.server._snapshot = snapshot
        return board

    def test_the_refusal_is_a_banner_and_the_rest_stays_live(self, page: Page, board: FakeBoard) -> None:
        server = board.server
        assert server is not None
        wait_live(page)
        expect(page.locator(".notice")).to_have_text([f"not allowed: {SUPPORT}"])
        expect(page.locator(".queue h2")).to_have_text(["Sales"])  # the snapshot's Support view was filtered out
        board.publish(board.set_queue(queue_view("q-sales", "Sales", CONTACTS_IN_QUEUE=3)))
        expect(page.locator('[data-queue="q-sales"] .value[data-metric="CONTACTS_IN_QUEUE"]')).to_have_text("3")
        time.sleep(1.5)
        attempts = [a for a in server.authorizations() if a.kind == "subscribe" and a.channel == SUPPORT]
        assert len(attempts) == 1  # not retried in a loop (the page fixture also fails on any console error)
        wait_live(page)


class TestAgentGroupSupervisors:
    @pytest.fixture
    def server_options(self) -> dict[str, Any]:
        groups = ["queue-q-sales", "queue-q-support", "agents-team-blue", "agents-team-red"]
        return {"keepalive_seconds": 5.0, "groups": groups}

    @pytest.fixture
    def board(self, board: FakeBoard) -> FakeBoard:
        team = {"a1": "team-blue", "a2": "team-blue", "a3": "team-red"}
        board.set_agents(
            *(
                {**row, "hierarchyGroupIds": [team[row["agentId"]], "site-london"]}
                for row in [
                    agent_row("a1", "Alice Adams", "AVAILABLE", "Available", 65),
                    agent_row("a2", "Bob Brown", "CUSTOM_STATUS", "Lunch", 600),
                    agent_row("a3", "Carol Chen", "ON_CONTACT", "Available", 30),
                ]
            )
        )
        board.set_agents(agent_row("a9", "Zed Outsider", "AVAILABLE", "Available", 5, hierarchyGroupIds=["team-green"]))
        return board

    def test_one_agents_section_per_group_and_group_pushes_apply(self, page: Page, board: FakeBoard) -> None:
        server = board.server
        assert server is not None
        blue, red = "/board/agentgroups/team-blue", "/board/agentgroups/team-red"
        wait_live(page)
        assert server.subscription_patterns() == [blue, red, SALES, SUPPORT]
        expect(page.locator(".agent-counts")).to_have_count(2)
        expect(page.locator(".agent-counts .group-name")).to_have_text(["team-blue", "team-red"])  # by id: no names
        expect(page.locator(".agents .group-name")).to_have_text(["team-blue", "team-red"])
        expect(page.locator(f'.agents[data-channel="{blue}"] .agent-name')).to_have_text(["Alice Adams", "Bob Brown"])
        expect(page.locator(f'.agents[data-channel="{red}"] .agent-name')).to_have_text(["Carol Chen"])
        expect(page.locator(".agent-name", has_text="Zed Outsider")).to_have_count(0)
        expect(count(page, "AGENTS_ONLINE", blue)).to_have_text("2")
        expect(count(page, "AGENTS_ON_CONTACT", red)).to_have_text("1")

        # When Bob, of team blue, comes back from lunch: the all-agents delta goes nowhere, the group's applies
        bob = {**agent_row("a2", "Bob Brown", "AVAILABLE", "Available", 0), "hierarchyGroupIds": ["team-blue"]}
        board.publish(board.set_agents(bob))
        board.publish(board.group_delta("team-blue", bob))
        expect(count(page, "AGENTS_AVAILABLE", blue)).to_have_text("2")
        expect(page.locator(f'.agent-counts[data-channel="{blue}"]')).to_have_attribute("data-seq", "1")
        assert "/board/agents" not in {d.channel for d in server.deliveries()}

        board.publish(
            board.set_queue(
                queue_view(
                    "q-sales",
                    "Sales",
                    CONTACTS_IN_QUEUE=3,
                    OLDEST_CONTACT_AGE=95,
                    SERVICE_LEVEL=72,
                    AGENTS_STAFFED=2,
                    AGENTS_AVAILABLE=1,
                    waiting=[
                        {"contactId": f"s{i}", "channel": "VOICE", "queuedSince": "", "waitSeconds": 95 - 30 * i}
                        for i in range(3)
                    ],
                    waitingTotal=3,
                    levels={"SERVICE_LEVEL": "warn", "OLDEST_CONTACT_AGE": "warn", "ABANDONMENT_RATE": "ok"},
                )
            )
        )
        expect(page.locator('[data-queue="q-sales"] .value[data-metric="CONTACTS_IN_QUEUE"]')).to_have_text("3")
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))
