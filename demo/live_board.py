"""The demo's side of the live wallboard: the simulated clock the board computes its figures at, the headless
browser that keeps the page open (so render acknowledgements exist even when nobody opens the URL) and reads back
what it shows, and the push latency and message counts measured from the board server's records.

Push latency of a rendered message = the browser's render time (`renderedAt`, POST /ack) minus the time the demo put
the OLDEST of the changes the message carries: for each key of its `changed` list (an agentArn: the agent record put
on the stream; a contactId: the contact event sent to the queue), the most recent put of that key before the message
was published. A message none of whose keys the demo put (the final refresh at the end of the simulation) has no
latency.
"""

from __future__ import annotations

import bisect
import math
import os
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from demo.board_server import Publication, RenderAck
from demo.board_truth import AGENT_METRICS, FigureKey
from demo.connect_payloads import iso_ms

CHROMIUM = Path("/usr/bin/chromium")  # Debian's, which `make browser` installs as root
# Elsewhere, the build of Chromium `make browser` has Playwright download here.
PLAYWRIGHT_BROWSERS = Path(__file__).resolve().parents[1] / ".tools" / "playwright"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AGENTS_CHANNEL = "/board/agents"
QUEUES_PREFIX = "/board/queues/"


@dataclass
class SimulatedClock:
    """The board's "now" in the demo: the simulated instant up to which the traffic has been delivered; once the
    simulation is over, running on from there at the pace the page's durations tick at (`run_on`), so a page loaded
    later reads the same waits as one left open."""

    now_ms: int
    _running_since: float | None = None
    _speed: float = 0.0

    def __call__(self) -> str:
        return iso_ms(self.current_ms())

    def current_ms(self) -> int:
        if self._running_since is None:
            return self.now_ms
        return self.now_ms + round((time.monotonic() - self._running_since) * self._speed * 1000)

    def run_on(self, speed: float) -> None:
        self._running_since, self._speed = time.monotonic(), speed


# --- push latency -------------------------------------------------------------------------------------------------
@dataclass
class PutLog:
    """When the demo put each key's records (wall clock, time.time()), in the order it put them."""

    times: dict[str, list[float]] = field(default_factory=dict)

    def put(self, key: str | None, at: float) -> None:
        if key:
            self.times.setdefault(key, []).append(at)

    def last_before(self, key: str, moment: float) -> float | None:
        times = self.times.get(key)
        if not times:
            return None
        index = bisect.bisect_right(times, moment)
        return times[index - 1] if index else None


def push_latencies(acks: Iterable[RenderAck], puts: PutLog) -> list[float]:
    """Seconds from put to render, one per acknowledged message whose changes the demo put (module docstring)."""
    latencies = []
    for ack in acks:
        if ack.published_at is None:
            continue
        put_times = [t for key in ack.changed if (t := puts.last_before(key, ack.published_at)) is not None]
        if put_times:
            latencies.append(ack.rendered_at - min(put_times))
    return latencies


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (the smallest value with at least `fraction` of the values at or below it)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass(frozen=True)
class PushFigures:
    latencies: list[float]
    published: Mapping[str, int]  # channel kind ("agents" / "queues") -> messages
    channels: Mapping[str, int]  # channel kind -> distinct channels
    seconds: float  # the delivery's wall time, the divisor of the rates
    acks: int
    rendering: list[float] = field(default_factory=list)  # published -> rendered, each acknowledged message

    @classmethod
    def measure(
        cls, publications: Iterable[Publication], acks: Sequence[RenderAck], puts: PutLog, seconds: float
    ) -> PushFigures:
        published: Counter[str] = Counter()
        channels: dict[str, set[str]] = {"agents": set(), "queues": set()}
        for publication in publications:
            kind = channel_kind(publication.channel)
            published[kind] += 1
            channels.setdefault(kind, set()).add(publication.channel)
        return cls(
            latencies=push_latencies(acks, puts),
            published=dict(published),
            channels={kind: len(names) for kind, names in channels.items()},
            seconds=seconds,
            acks=len(acks),
            rendering=[ack.rendered_at - ack.published_at for ack in acks if ack.published_at is not None],
        )

    def latency_line(self) -> str:
        if not self.latencies:
            return "push latency: no rendered message to measure (no browser had the page open)"
        ms = [1000 * value for value in self.latencies]
        return (
            f"push latency: p50 {percentile(ms, 0.5):,.0f} ms, p95 {percentile(ms, 0.95):,.0f} ms over "
            f"{len(ms):,} rendered messages (event put -> rendered in the browser)"
        )

    def rendering_line(self) -> str:
        """The part of the latency after the board function's publish: the local board server and the browser."""
        if not self.rendering:
            return ""
        ms = [1000 * value for value in self.rendering]
        return (
            f"  of which published -> rendered: p50 {percentile(ms, 0.5):,.0f} ms, p95 {percentile(ms, 0.95):,.0f} ms "
            "(the rest: delivery, state writes, streams and the board function, through the emulator)"
        )

    def messages_line(self) -> str:
        total = sum(self.published.values())
        rate = total / self.seconds if self.seconds else 0.0
        kinds = ", ".join(
            f"{kind} {self.published.get(kind, 0):,} on {self.channels.get(kind, 0)} channel"
            f"{'' if self.channels.get(kind, 0) == 1 else 's'} "
            f"({self.published.get(kind, 0) / self.seconds if self.seconds else 0.0:.1f}/s)"
            for kind in ("agents", "queues")
        )
        return f"board messages published: {total:,} = {rate:.1f}/s over {self.seconds:.0f} s ({kinds})"

    def to_json(self) -> dict[str, Any]:
        ms = sorted(round(1000 * value) for value in self.latencies)
        return {
            "latency_ms": {
                "p50": percentile(ms, 0.5) if ms else None,
                "p95": percentile(ms, 0.95) if ms else None,
                "max": ms[-1] if ms else None,
                "rendered_messages": len(ms),
            },
            "published_to_rendered_ms": {
                "p50": round(1000 * percentile(self.rendering, 0.5)) if self.rendering else None,
                "p95": round(1000 * percentile(self.rendering, 0.95)) if self.rendering else None,
            },
            "published": dict(self.published),
            "channels": dict(self.channels),
            "published_per_second": {
                kind: round(count / self.seconds, 2) if self.seconds else None for kind, count in self.published.items()
            },
            "seconds": round(self.seconds, 1),
            "render_acks": self.acks,
        }


def channel_kind(channel: str) -> str:
    return "agents" if channel == AGENTS_CHANNEL else "queues" if channel.startswith(QUEUES_PREFIX) else channel


# --- what the board shows -----------------------------------------------------------------------------------------
def figures_from_snapshots(snapshots: Iterable[Mapping[str, Any]]) -> dict[FigureKey, Any]:
    """The board's figures from snapshot messages (the agents channel's counts, each queue view's figures)."""
    figures: dict[FigureKey, Any] = {}
    for snapshot in snapshots:
        if snapshot.get("channel") == AGENTS_CHANNEL:
            for metric in AGENT_METRICS:
                figures[(None, metric)] = snapshot.get("counts", {}).get(metric)
        elif "queue" in snapshot:
            view = snapshot["queue"]
            for metric, value in view.items():
                if metric.isupper():
                    figures[(str(view["queueId"]), metric)] = value
    return figures


_READ_FIGURES = """() => {
  const read = (element) => ({metric: element.dataset.metric, queue: element.dataset.queue ?? null,
                              value: element.dataset.value ?? null});
  return {
    agents: [...document.querySelectorAll('.agent-counts .value[data-metric]')].map(read),
    queues: [...document.querySelectorAll('.queues [data-channel] .value[data-metric]')].map(read),
    asOf: Object.fromEntries([...document.querySelectorAll('.queues [data-channel]')]
                             .map((card) => [card.dataset.channel, card.dataset.asOf ?? null])),
    agentsSeq: document.querySelector('.agent-counts')?.dataset.seq ?? null,
  };
}"""


def figures_from_page(page_figures: Mapping[str, Any]) -> dict[FigureKey, Any]:
    """The figures as the page shows them: each `.value[data-metric]`'s data-value (the message's number as it was
    at its asOf; empty = no value), keyed by its data-queue (None for the agent counts)."""
    figures: dict[FigureKey, Any] = {}
    for entry in [*page_figures.get("agents", []), *page_figures.get("queues", [])]:
        figures[(entry.get("queue"), str(entry["metric"]))] = _number(entry.get("value"))
    return figures


def _number(text: str | None) -> float | int | None:
    if text is None or text == "":
        return None
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


class HeadlessBoard:
    """The wallboard page open in headless Chromium (Debian's, else Playwright's own build), as a wall screen would.

    Playwright's synchronous API: the page runs in the browser process on its own (it connects, renders and sends its
    acknowledgements without this process doing anything); this object only starts it, reads it and closes it."""

    def __init__(self, playwright_manager: Any, playwright: Any, browser: Any, page: Any) -> None:
        self._manager = playwright_manager
        self._playwright = playwright
        self._browser = browser
        self.page = page
        self.console_errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))

    @classmethod
    def available(cls) -> str | None:
        """Why the demo cannot open the page itself (None: it can)."""
        if not CHROMIUM.exists() and not any(PLAYWRIGHT_BROWSERS.glob("chromium*")):
            return f"no Chromium ({CHROMIUM}, or Playwright's in {PLAYWRIGHT_BROWSERS}: make browser)"
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            return "no Playwright in the environment"
        return None

    @classmethod
    def open(cls, url: str, *, timeout_seconds: float = 30) -> HeadlessBoard:
        from playwright.sync_api import sync_playwright

        executable = str(CHROMIUM) if CHROMIUM.exists() else None
        if executable is None:  # read by Playwright's driver when it starts
            os.environ.setdefault("PLAYWRIGHT_BROWSERS_PATH", str(PLAYWRIGHT_BROWSERS))
        manager = sync_playwright()
        playwright = manager.start()
        try:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            board = cls(manager, playwright, browser, page)
            page.goto(url, timeout=timeout_seconds * 1000)
        except BaseException:
            manager.__exit__(None, None, None)
            raise
        return board

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def read(self) -> dict[str, Any]:
        return dict(self.page.evaluate(_READ_FIGURES))

    def wait_until_showing(
        self, as_of: str, queue_channels: Iterable[str], agents_seq: int | None, timeout_seconds: float = 20
    ) -> dict[str, Any]:
        """The page once every queue card shows a view as of `as_of` and the agent counts the `agents_seq` message
        (or whatever it shows when the time is up)."""
        wanted = set(queue_channels)
        deadline = time.monotonic() + timeout_seconds
        while True:
            shown = self.read()
            cards = shown.get("asOf", {})
            seq = shown.get("agentsSeq")
            done_queues = all(cards.get(channel) == as_of for channel in wanted)
            done_agents = agents_seq is None or (isinstance(seq, str) and seq.isdigit() and int(seq) >= agents_seq)
            if (done_queues and done_agents) or time.monotonic() > deadline:
                return shown
            self.page.wait_for_timeout(200)

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=True)

    def close(self) -> None:
        try:
            self._browser.close()
        finally:
            self._manager.__exit__(None, None, None)
