"""The wallboard in headless Chromium against the local board server, fed by a fake board (no AWS, no read model).

`FakeBoard` keeps agent rows and queue views the way the board service would and builds its messages in the shapes of
notes/board-design.md; the figures themselves are whatever a test sets (their definitions are domain/board.py's and
are tested there). Publishing goes over HTTP to the server's AppSync Events publish endpoint, as the board function's
channel publisher does.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from demo.board_server import BoardServer

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
PLAYWRIGHT_BROWSERS = Path(__file__).resolve().parents[2] / ".tools" / "playwright"  # the Makefile's `browser` rule
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
INSTANCE = "arn:aws:connect:eu-west-2:111122223333:instance/8a3b0c55-5f4e-4b1a-9d0e-2f6d3c1b7a90"
START = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
AGENTS = "/board/agents"
AGENT_GROUPS = "/board/agentgroups/"
ACTIVITY_COUNT = {
    "AVAILABLE": "AGENTS_AVAILABLE",
    "ON_CONTACT": "AGENTS_ON_CONTACT",
    "ON_HOLD": "AGENTS_ON_CONTACT",
    "INCOMING": "AGENTS_ON_CONTACT",
    "AFTER_CONTACT_WORK": "AGENTS_AFTER_CONTACT_WORK",
    "CUSTOM_STATUS": "AGENTS_NON_PRODUCTIVE",
    "ERROR": "AGENTS_ERROR",
}


def iso(instant: datetime) -> str:
    return instant.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def queue_channel(queue_id: str) -> str:
    return f"/board/queues/{queue_id}"


def agent_row(agent_id: str, name: str, activity: str, status: str, since: float, **extra: Any) -> dict[str, Any]:
    """A compact agent row; `since` = seconds between its status start and the board's first asOf."""
    status_type = {"Available": "ROUTABLE", "Offline": "OFFLINE"}.get(status, "CUSTOM")
    return {
        "agentArn": f"{INSTANCE}/agent/{agent_id}",
        "agentId": agent_id,
        "name": name,
        "statusName": status,
        "statusType": status_type,
        "statusStartTimestamp": iso(START - timedelta(seconds=since)),
        "activity": activity,
        "loggedIn": status_type != "OFFLINE",
        "contacts": [],
        "queueArns": [],
        "routingProfileName": "Basic",
        **extra,
    }


def queue_view(queue_id: str, name: str, **figures: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "queueArn": f"{INSTANCE}/queue/{queue_id}",
        "queueId": queue_id,
        "name": name,
        "CONTACTS_IN_QUEUE": 0,
        "OLDEST_CONTACT_AGE": None,
        "AGENTS_STAFFED": 0,
        "AGENTS_AVAILABLE": 0,
        "SERVICE_LEVEL": None,
        "ABANDONMENT_RATE": None,
        "AVG_HANDLE_TIME": None,
        "AVG_QUEUE_ANSWER_TIME": None,
        "CONTACTS_QUEUED": 0,
        "CONTACTS_HANDLED": 0,
        "CONTACTS_ABANDONED": 0,
        "serviceLevelSeconds": 20,
        "interval": {"start": "2026-11-20T00:00:00.000Z", "kind": "today", "label": "Today since 00:00 UTC"},
        "levels": {"SERVICE_LEVEL": "ok", "OLDEST_CONTACT_AGE": "ok", "ABANDONMENT_RATE": "ok"},
        "waiting": [],
        "waitingTotal": 0,
    }
    view.update(figures)
    return view


class FakeBoard:
    """The board service's state and messages, set by hand: a snapshot source and a publisher for the server."""

    def __init__(self) -> None:
        self.now = START
        self.seq: dict[str, int] = {}
        self.agents: dict[str, dict[str, Any]] = {}
        self.queues: dict[str, dict[str, Any]] = {}
        self.server: BoardServer | None = None

    # the snapshot request, as the server calls it
    def snapshot(self, channel: str) -> list[dict[str, Any]]:
        if channel == AGENTS:
            return [self._message(AGENTS, "snapshot", agents=list(self.agents.values()), counts=self.counts())]
        if channel.startswith(AGENT_GROUPS):
            rows = self.group_rows(channel.removeprefix(AGENT_GROUPS))
            return [self._message(channel, "snapshot", agents=rows, counts=self.counts(rows))]
        views = self.queues.values() if channel == "/board/queues/*" else [self.queues[channel.rsplit("/", 1)[1]]]
        return [self._message(queue_channel(view["queueId"]), "view", queue=view) for view in views]

    def group_rows(self, group_id: str) -> list[dict[str, Any]]:
        return [row for row in self.agents.values() if group_id in row.get("hierarchyGroupIds", [])]

    def counts(self, rows: list[dict[str, Any]] | None = None) -> dict[str, int]:
        counts = dict.fromkeys(
            [
                "AGENTS_ONLINE",
                "AGENTS_STAFFED",
                "AGENTS_AVAILABLE",
                "AGENTS_NON_PRODUCTIVE",
                "AGENTS_ON_CONTACT",
                "AGENTS_AFTER_CONTACT_WORK",
                "AGENTS_ERROR",
            ],
            0,
        )
        for row in self.agents.values() if rows is None else rows:
            if row["loggedIn"]:
                counts["AGENTS_ONLINE"] += 1
                counts["AGENTS_STAFFED"] += row["activity"] != "CUSTOM_STATUS"
                if row["activity"] in ACTIVITY_COUNT:
                    counts[ACTIVITY_COUNT[row["activity"]]] += 1
        return counts

    # state changes: each returns the message the board function would publish for it
    def set_agents(self, *rows: dict[str, Any], removes: tuple[str, ...] = ()) -> dict[str, Any]:
        for row in rows:
            self.agents[row["agentArn"]] = row
        for arn in removes:
            self.agents.pop(arn, None)
        self.seq[AGENTS] = self.seq.get(AGENTS, 0) + 1
        changed = [row["agentArn"] for row in rows] + list(removes)
        upserts = list(rows)
        return self._message(
            AGENTS, "delta", upserts=upserts, removes=list(removes), counts=self.counts(), changed=changed
        )

    def group_delta(self, group_id: str, *rows: dict[str, Any]) -> dict[str, Any]:
        """The delta of an agent group's channel after `set_agents(*rows)`: those rows, the group's counts."""
        channel = AGENT_GROUPS + group_id
        self.seq[channel] = self.seq.get(channel, 0) + 1
        counts = self.counts(self.group_rows(group_id))
        changed = [row["agentArn"] for row in rows]
        return self._message(channel, "delta", upserts=list(rows), removes=[], counts=counts, changed=changed)

    def set_queue(self, view: dict[str, Any]) -> dict[str, Any]:
        self.queues[view["queueId"]] = view
        channel = queue_channel(view["queueId"])
        self.seq[channel] = self.seq.get(channel, 0) + 1
        return self._message(channel, "view", queue=view, changed=[f"contact-{self.seq[channel]}"])

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def publish(self, message: dict[str, Any]) -> None:
        """POST the message to the server's publish endpoint, in AppSync Events' HTTP publish format."""
        assert self.server is not None
        body = json.dumps({"channel": message["channel"], "events": [json.dumps(message)]}).encode()
        request = urllib.request.Request(
            f"{self.server.url}event", data=body, headers={"content-type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.load(response)
        assert answer["failed"] == [], answer

    def _message(self, channel: str, kind: str, **body: Any) -> dict[str, Any]:
        return {"channel": channel, "seq": self.seq.get(channel, 0), "kind": kind, "asOf": iso(self.now), **body}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Debian's Chromium where `make browser` could install it (as root); elsewhere the build it had Playwright download.
    executable = str(DEBIAN_CHROMIUM) if DEBIAN_CHROMIUM.exists() else None
    if executable is None:
        os.environ.setdefault("PLAYWRIGHT_BROWSERS_PATH", str(PLAYWRIGHT_BROWSERS))
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def server_options() -> dict[str, Any]:
    """BoardServer keyword arguments; a test overrides this fixture to run the page against other protocol timings."""
    return {"keepalive_seconds": 5.0}


@pytest.fixture
def board(server_options: dict[str, Any]) -> Iterator[FakeBoard]:
    fake = FakeBoard()
    fake.set_agents(
        agent_row("a1", "Alice Adams", "AVAILABLE", "Available", 65),
        agent_row("a2", "Bob Brown", "CUSTOM_STATUS", "Lunch", 600),
        agent_row("a3", "Carol Chen", "OFFLINE", "Offline", 3600),
    )
    fake.set_queue(queue_view("q-sales", "Sales", CONTACTS_IN_QUEUE=0, AGENTS_STAFFED=2, AGENTS_AVAILABLE=1))
    fake.set_queue(queue_view("q-support", "Support", AGENTS_STAFFED=1))
    server = BoardServer(snapshot=fake.snapshot, clock_rate=1.0, **server_options)
    fake.server = server
    server.start()
    yield fake
    server.stop()


@pytest.fixture
def page(browser: Browser, board: FakeBoard) -> Iterator[Page]:
    """The wallboard on a 1920x1080 screen; the test fails if the page logs any console error or throws."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    opened = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console error: {message.text}")

    opened.on("console", on_console)
    opened.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    assert board.server is not None
    opened.goto(board.server.url)
    yield opened
    context.close()
    assert problems == []
