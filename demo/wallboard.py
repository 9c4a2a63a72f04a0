"""A terminal wallboard drawn from the two state tables, the way a supervisor's wallboard would read them.

Pure: it takes the items (as boto3's resource API returns them) and returns text, so the demo, the replay command and
the tests draw the same board.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from statistics import mean
from typing import Any

ACTIVITY_ORDER = (
    "AVAILABLE",
    "INCOMING",
    "ON_CONTACT",
    "ON_HOLD",
    "AFTER_CONTACT_WORK",
    "MISSED",
    "ERROR",
    "CUSTOM_STATUS",
    "OFFLINE",
)


@dataclass(frozen=True)
class QueueLine:
    name: str
    waiting: int
    handled: int
    abandoned: int
    average_wait_seconds: float | None


@dataclass(frozen=True)
class Board:
    agents_by_activity: Mapping[str, int]
    agents_logged_in: int
    agents_total: int
    queues: list[QueueLine]
    contacts_total: int
    contacts_by_status: Mapping[str, int]
    abandoned: int
    average_handle_seconds: float | None
    average_acw_seconds: float | None
    enrichment: Mapping[str, int]

    def render(self, title: str = "connect-realtime-state wallboard") -> str:
        width = 78
        lines = [title.center(width, "="), ""]
        lines.append(f"AGENTS  {self.agents_logged_in} logged in of {self.agents_total}")
        for activity in [a for a in ACTIVITY_ORDER if a in self.agents_by_activity] + sorted(
            set(self.agents_by_activity) - set(ACTIVITY_ORDER)
        ):
            count = self.agents_by_activity[activity]
            lines.append(f"  {activity:<20} {count:>5}  {_bar(count, self.agents_total)}")
        lines += ["", f"{'QUEUE':<34} {'waiting':>8} {'handled':>8} {'abandoned':>10} {'avg wait':>10}"]
        for queue in self.queues:
            wait = _seconds(queue.average_wait_seconds)
            lines.append(f"  {queue.name:<32} {queue.waiting:>8} {queue.handled:>8} {queue.abandoned:>10} {wait:>10}")
        statuses = ", ".join(f"{status} {count}" for status, count in sorted(self.contacts_by_status.items()))
        lines += [
            "",
            f"CONTACTS  {self.contacts_total} ({statuses})",
            f"  abandoned            {self.abandoned:>5}",
            f"  average handle time  {_seconds(self.average_handle_seconds):>5}   (connected to agent -> disconnect)",
            f"  average ACW          {_seconds(self.average_acw_seconds):>5}   (after-contact work, per contact)",
        ]
        if self.enrichment:
            enriched = ", ".join(f"{status} {count}" for status, count in sorted(self.enrichment.items()))
            lines.append(f"  DescribeContact      {enriched}")
        lines.append("=" * width)
        return "\n".join(lines)


def build(
    agent_items: Iterable[Mapping[str, Any]],
    contact_items: Iterable[Mapping[str, Any]],
    queue_names: Mapping[str, str] | None = None,
) -> Board:
    agents = list(agent_items)
    contacts = list(contact_items)
    names = queue_names or {}
    by_queue: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for contact in contacts:
        if contact.get("queueArn"):
            by_queue[str(contact["queueArn"])].append(contact)
    queues = []
    for arn, members in sorted(by_queue.items(), key=lambda entry: names.get(entry[0], entry[0])):
        waits = [
            _between(c["enqueueTimestamp"], left)
            for c in members
            if c.get("enqueueTimestamp")
            and (left := c.get("connectedToAgentTimestamp") or c.get("disconnectTimestamp"))
        ]
        queues.append(
            QueueLine(
                name=names.get(arn, "queue/" + arn.rsplit("/", 1)[-1][:8]),
                waiting=sum(1 for c in members if c.get("status") == "QUEUED"),
                handled=sum(1 for c in members if c.get("connectedToAgentTimestamp")),
                abandoned=sum(1 for c in members if c.get("abandoned") is True),
                average_wait_seconds=mean(waits) if waits else None,
            )
        )
    handle = [
        _between(c["connectedToAgentTimestamp"], c["disconnectTimestamp"])
        for c in contacts
        if c.get("connectedToAgentTimestamp") and c.get("disconnectTimestamp")
    ]
    acw = [float(c["afterContactWorkDuration"]) for c in contacts if c.get("afterContactWorkDuration") is not None]
    return Board(
        agents_by_activity=Counter(str(a.get("activity", "UNKNOWN")) for a in agents),
        agents_logged_in=sum(1 for a in agents if a.get("loggedIn") is True),
        agents_total=len(agents),
        queues=queues,
        contacts_total=len(contacts),
        contacts_by_status=Counter(str(c.get("status", "UNKNOWN")) for c in contacts),
        abandoned=sum(1 for c in contacts if c.get("abandoned") is True),
        average_handle_seconds=mean(handle) if handle else None,
        average_acw_seconds=mean(acw) if acw else None,
        enrichment=Counter(str(c["enrichmentStatus"]) for c in contacts if c.get("enrichmentStatus")),
    )


def _between(start: str, end: str) -> float:
    return (_parse(end) - _parse(start)).total_seconds()


def _parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def _seconds(value: float | Decimal | None) -> str:
    if value is None:
        return "-"
    total = round(float(value))
    return f"{total // 60}:{total % 60:02d}"


def _bar(count: int, total: int, width: int = 40) -> str:
    return "#" * round(width * count / total) if total else ""
