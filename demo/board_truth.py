"""What the live wallboard must show when the simulation ends, worked out from the simulation itself (its Agent and
Contact objects), not from the project's domain code, so comparing the two is a real check (as demo.ground_truth
does for the tables).

    truth = board_truth(simulation, service_level_seconds=20)     # at simulation.end_ms
    agreement = compare(board_figures, truth)                     # board_figures: read from the page or a snapshot
    print(agreement)                                              # "wallboard agreement: 100.0% (131/131 figures)"

A figure is keyed `(queue id or None, metric)`: None for the agent counts of `/board/agents`, the queue id (last
segment of the queue ARN) for a queue's figures. Definitions (Amazon Connect's; README "Wallboard metric
definitions"), each from the simulation's own state at the instant `at_ms` (the end of the simulation):

Agents (every agent that sent at least one event and is logged in; one who never logged in counts nowhere):
- AGENTS_ONLINE: status other than Offline (type OFFLINE), custom statuses included;
- AGENTS_STAFFED: online and not in a custom status;
- AGENTS_AVAILABLE: status Available (type ROUTABLE) and no contact at all;
- AGENTS_ON_CONTACT: at least one contact connected, on hold or in after-contact work, or an outbound contact
  ringing (an inbound contact ringing is not yet "on contact");
- AGENTS_NON_PRODUCTIVE: in a custom status (a break, lunch), whatever its contacts;
- AGENTS_AFTER_CONTACT_WORK: CONTACTS in after-contact work (an agent with two chats in ACW counts 2);
- AGENTS_ERROR: agents with a contact in error (the simulator has none: 0).
Queues (each queue a contact was queued to, or an agent's routing profile takes; an agent's own queue included):
- CONTACTS_IN_QUEUE: queued to it and neither connected to an agent nor disconnected (ringing an agent included);
- OLDEST_CONTACT_AGE: seconds from the oldest of those contacts' enqueue to `at_ms` (None with none waiting);
- AGENTS_STAFFED / AGENTS_AVAILABLE: the agents above whose routing profile takes the queue;
- over the interval (contacts queued to it from `interval_start_ms` on; the whole simulated day here):
  CONTACTS_QUEUED; CONTACTS_HANDLED (connected to an agent); CONTACTS_ABANDONED (disconnected in the queue, never
  connected to an agent); SERVICE_LEVEL = 100 * contacts that left the queue (answered or abandoned) within
  `service_level_seconds` of entering it / queued; ABANDONMENT_RATE = 100 * abandoned / queued (both None with none
  queued); AVG_QUEUE_ANSWER_TIME = mean of enqueue -> connected to agent over the handled; AVG_HANDLE_TIME = mean of
  connected to agent -> disconnect plus the after-contact work duration (whole seconds, as the COMPLETED event
  carries it) over the handled contacts whose after-contact work is over.

The board rounds (oldest wait floored to whole seconds, averages to a tenth of a second, percentages to hundredths):
`compare` allows exactly that rounding (TOLERANCE) and nothing more.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any

from demo.contact_centre import STATUS_TYPES, Agent, AgentContact, Contact, Simulation

AGENT_METRICS = (
    "AGENTS_ONLINE",
    "AGENTS_STAFFED",
    "AGENTS_AVAILABLE",
    "AGENTS_ON_CONTACT",
    "AGENTS_AFTER_CONTACT_WORK",
    "AGENTS_NON_PRODUCTIVE",
    "AGENTS_ERROR",
)
QUEUE_METRICS = (
    "CONTACTS_IN_QUEUE",
    "OLDEST_CONTACT_AGE",
    "AGENTS_STAFFED",
    "AGENTS_AVAILABLE",
    "SERVICE_LEVEL",
    "ABANDONMENT_RATE",
    "AVG_HANDLE_TIME",
    "AVG_QUEUE_ANSWER_TIME",
    "CONTACTS_QUEUED",
    "CONTACTS_HANDLED",
    "CONTACTS_ABANDONED",
)
# How far the board's rounding may take a figure from the exact one (0 for the counts): the oldest wait in whole
# seconds (floored), averages to a tenth of a second, percentages to hundredths.
TOLERANCE = {
    "OLDEST_CONTACT_AGE": 1.0,
    "AVG_HANDLE_TIME": 0.05,
    "AVG_QUEUE_ANSWER_TIME": 0.05,
    "SERVICE_LEVEL": 0.005,
    "ABANDONMENT_RATE": 0.005,
}

FigureKey = tuple[str | None, str]  # (queue id or None for the agent counts, metric)
Figures = Mapping[FigureKey, float | int | None]


@dataclass(frozen=True)
class BoardTruth:
    at_ms: int
    figures: dict[FigureKey, float | int | None]
    queue_names: dict[str, str] = field(default_factory=dict)  # queue id -> name, for the mismatch lines


def board_truth(
    simulation: Simulation, *, service_level_seconds: float = 20, interval_start_ms: int | None = None
) -> BoardTruth:
    """Every figure of the board at the end of the simulation (see the module docstring for each definition)."""
    at_ms = simulation.end_ms
    since = simulation.start_ms if interval_start_ms is None else interval_start_ms
    agents = [agent for agent in simulation.agents if agent.events_emitted]
    figures: dict[FigureKey, float | int | None] = {
        (None, metric): value for metric, value in agent_counts(agents).items()
    }
    queues: dict[str, str] = {}
    for contact in simulation.contacts.values():
        if contact.queue is not None and contact.enqueue_ms is not None:
            queues[contact.queue.arn] = contact.queue.name or ""
    for agent in agents:
        for queue, _ in agent.profile.inbound:
            queues[queue.arn] = queue.name or ""
    for arn in sorted(queues):
        queue_id = arn.rsplit("/", 1)[-1]
        members = [
            contact
            for contact in simulation.contacts.values()
            if contact.queue is not None and contact.queue.arn == arn and contact.enqueue_ms is not None
        ]
        serving = [agent for agent in agents if any(queue.arn == arn for queue, _ in agent.profile.inbound)]
        for metric, value in queue_figures(members, serving, at_ms, since, service_level_seconds).items():
            figures[(queue_id, metric)] = value
    names = {arn.rsplit("/", 1)[-1]: name for arn, name in queues.items() if name}
    return BoardTruth(at_ms, figures, names)


def agent_counts(agents: Iterable[Agent]) -> dict[str, int]:
    counts = dict.fromkeys(AGENT_METRICS, 0)
    for agent in agents:
        if not agent.logged_in:
            continue
        status_type = STATUS_TYPES[agent.status]
        online = status_type != "OFFLINE"
        counts["AGENTS_ONLINE"] += online
        counts["AGENTS_STAFFED"] += online and status_type != "CUSTOM"
        counts["AGENTS_AVAILABLE"] += status_type == "ROUTABLE" and not agent.contacts
        counts["AGENTS_ON_CONTACT"] += any(_on_contact(c) for c in agent.contacts.values())
        counts["AGENTS_NON_PRODUCTIVE"] += status_type == "CUSTOM"
        counts["AGENTS_AFTER_CONTACT_WORK"] += sum(1 for c in agent.contacts.values() if c.state == "ENDED")
    return counts


def _on_contact(contact: AgentContact) -> bool:
    if contact.state == "CONNECTING":
        return contact.contact.initiation_method == "OUTBOUND"  # outbound ring; an inbound offer is not yet
    return True  # CONNECTED, CONNECTED_ONHOLD, ENDED (after-contact work)


def queue_figures(
    members: list[Contact], serving: list[Agent], at_ms: int, since_ms: int, service_level_seconds: float
) -> dict[str, float | int | None]:
    """One queue's figures from the contacts queued to it (`members`) and the agents whose profile takes it."""
    waits = [_Wait.of(c) for c in members if c.enqueue_ms is not None]
    waiting = [w for w in waits if w.left_ms is None]
    interval = [w for w in waits if since_ms <= w.enqueued_ms <= at_ms]
    handled = [w for w in interval if w.answered_ms is not None]
    abandoned = [w for w in interval if w.contact.abandoned]
    within = [
        w for w in interval if w.left_ms is not None and w.left_ms - w.enqueued_ms <= service_level_seconds * 1000
    ]
    handle_times = [seconds for w in handled if (seconds := _handle_seconds(w.contact)) is not None]
    staffed = agent_counts(serving)
    oldest = min((w.enqueued_ms for w in waiting), default=None)
    return {
        "CONTACTS_IN_QUEUE": len(waiting),
        "OLDEST_CONTACT_AGE": (at_ms - oldest) / 1000 if oldest is not None else None,
        "AGENTS_STAFFED": staffed["AGENTS_STAFFED"],
        "AGENTS_AVAILABLE": staffed["AGENTS_AVAILABLE"],
        "SERVICE_LEVEL": _percent(len(within), len(interval)),
        "ABANDONMENT_RATE": _percent(len(abandoned), len(interval)),
        "AVG_HANDLE_TIME": _mean(handle_times),
        "AVG_QUEUE_ANSWER_TIME": _mean(
            [(w.answered_ms - w.enqueued_ms) / 1000 for w in handled if w.answered_ms is not None]
        ),
        "CONTACTS_QUEUED": len(interval),
        "CONTACTS_HANDLED": len(handled),
        "CONTACTS_ABANDONED": len(abandoned),
    }


@dataclass(frozen=True)
class _Wait:
    """A queued contact's time in the queue: entered, answered by an agent, left (answered or disconnected)."""

    contact: Contact
    enqueued_ms: int
    answered_ms: int | None
    left_ms: int | None

    @classmethod
    def of(cls, contact: Contact) -> _Wait:
        if contact.enqueue_ms is None:
            raise ValueError(f"contact {contact.contact_id} was never queued")
        answered = contact.connected_to_agent_ms
        return cls(contact, contact.enqueue_ms, answered, answered if answered is not None else contact.disconnect_ms)


def _handle_seconds(contact: Contact) -> float | None:
    """Talk and hold (connected to agent -> disconnect) plus after-contact work, once that work is over."""
    connected, disconnected = contact.connected_to_agent_ms, contact.disconnect_ms
    if connected is None or disconnected is None or contact.acw_end_ms is None:
        return None
    return (disconnected - connected) / 1000 + (contact.acw_duration_seconds or 0)


def _percent(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def _mean(values: list[float]) -> float | None:
    return fmean(values) if values else None


# --- comparison ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FigureMismatch:
    key: FigureKey
    board: Any
    truth: Any
    queue_name: str | None = None

    def __str__(self) -> str:
        queue, metric = self.key
        where = "agents" if queue is None else f"queue {self.queue_name or queue}"
        board = "(not shown)" if self.board is _MISSING else _show(self.board)
        truth = "(not expected)" if self.truth is _MISSING else _show(self.truth)
        return f"{where} {metric}: board {board}, truth {truth}"


@dataclass(frozen=True)
class BoardAgreement:
    total: int
    matched: int
    mismatches: tuple[FigureMismatch, ...]

    @property
    def percent(self) -> float:
        return 100.0 * self.matched / self.total if self.total else 100.0

    @property
    def perfect(self) -> bool:
        return self.matched == self.total and self.total > 0

    def __str__(self) -> str:
        return f"wallboard agreement: {self.percent:.1f}% ({self.matched}/{self.total} figures)"

    def report(self, limit: int = 20) -> str:
        lines = [str(self), *(f"  {m}" for m in self.mismatches[:limit])]
        if len(self.mismatches) > limit:
            lines.append(f"  ... and {len(self.mismatches) - limit} more")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "percent": round(self.percent, 3),
            "matched": self.matched,
            "total": self.total,
            "perfect": self.perfect,
            "mismatches": [str(m) for m in self.mismatches],
        }


_MISSING: Any = type("Missing", (), {"__repr__": lambda self: "(missing)"})()


def compare(board: Figures, truth: BoardTruth, metrics: Iterable[str] | None = None) -> BoardAgreement:
    """Every figure of the truth against the board's (and every figure the board shows that the truth has not, for a
    queue or metric the truth does not know, counted as a mismatch). `metrics` limits the comparison to some metric
    names. None and None agree; numbers agree within the metric's TOLERANCE (0 for counts)."""
    wanted = set(metrics) if metrics is not None else None
    keys = sorted(
        {key for key in (*truth.figures, *board) if wanted is None or key[1] in wanted},
        key=lambda key: (key[0] or "", key[1]),
    )
    mismatches = []
    for key in keys:
        expected = truth.figures.get(key, _MISSING)
        shown = board.get(key, _MISSING)
        if not _agree(key[1], shown, expected):
            mismatches.append(FigureMismatch(key, shown, expected, truth.queue_names.get(key[0] or "")))
    return BoardAgreement(total=len(keys), matched=len(keys) - len(mismatches), mismatches=tuple(mismatches))


def _agree(metric: str, shown: Any, expected: Any) -> bool:
    if shown is _MISSING or expected is _MISSING:
        return False
    if shown is None or expected is None:
        return shown is None and expected is None
    try:
        difference = abs(float(shown) - float(expected))
    except (TypeError, ValueError):
        return False
    return math.isfinite(difference) and difference <= TOLERANCE.get(metric, 0.0) + 1e-9


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return repr(value) if value is None or isinstance(value, str) else str(value)
