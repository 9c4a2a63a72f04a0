"""Many contacts completing at once, enriched by several containers that share the call-slot ledger, on fake clocks:
what the rate test asserts and `make bench` prints. A discrete-event simulation: each SQS batch goes to whichever
container is free first; every container has its own clock, moved on by sleeping (the rate gate) and by working
(80 ms per DescribeContact call)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from connect_state.domain import enrichment
from connect_state.service.enrichment import EnrichmentBatch, EnrichmentMessage, RetryPolicy
from connect_state.service.rate_gate import RateGate
from tests import describe_contact
from tests.contact_lifecycles import FULL, lifecycle
from tests.fakes import InMemoryCallSlots, InMemoryQuarantine, RecordingMessageRetry

START = 1_800_000_000.0
CALL_SECONDS = 0.08


class FakeClock:
    """One container's view of time: sleeping and working move it on."""

    def __init__(self, start: float) -> None:
        self.now = start
        self.slept = 0.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


class TimedApi:
    """DescribeContact that takes 80 ms and records when (on the calling container's clock) it was called."""

    def __init__(self, calls: list[float]) -> None:
        self.calls = calls
        self.clock: FakeClock | None = None

    def describe_contact(self, instance_id: str, contact_id: str) -> dict[str, Any]:
        assert self.clock is not None
        self.calls.append(self.clock.now)
        self.clock.now += CALL_SECONDS
        contact: dict[str, Any] = describe_contact.answer(lifecycle("c", FULL)[-1], acw_seconds=7)["Contact"]
        return contact | {"Id": contact_id}


class NeverEnrichedStore:
    def __init__(self) -> None:
        self.written: set[str] = set()

    def enrichment_status(self, contact_id: str) -> str | None:
        return None

    def write_enrichment(self, answer: enrichment.Enrichment, ttl: int, updated_at: str) -> bool:
        self.written.add(answer.contact_id)
        return True


@dataclass
class BurstResult:
    calls: list[float] = field(default_factory=list)  # when each DescribeContact call was made
    written: set[str] = field(default_factory=set)
    failed: int = 0

    def max_per_whole_second(self) -> int:
        return max(Counter(int(moment - START) for moment in self.calls).values())

    def max_per_sliding_second(self) -> int:
        ordered = sorted(self.calls)
        return max(sum(1 for t in ordered[i : i + 200] if t < ordered[i] + 1) for i in range(len(ordered)))

    def duration(self) -> float:
        return max(self.calls) - min(self.calls)


def burst(contacts: int, rate: float, containers: int, batch_size: int = 10) -> BurstResult:
    result = BurstResult()
    slots, store = InMemoryCallSlots(), NeverEnrichedStore()
    clocks = [FakeClock(START) for _ in range(containers)]
    gates = [RateGate(slots, rate, clock.time, clock.sleep) for clock in clocks]
    api = TimedApi(result.calls)
    for first in range(0, contacts, batch_size):
        batch = [
            EnrichmentMessage(json.dumps(lifecycle(f"c-{n:05d}", FULL)[-1]), 1, "completed", str(n), str(n))
            for n in range(first, min(first + batch_size, contacts))
        ]
        index = min(range(containers), key=lambda i: clocks[i].now)
        clock = api.clock = clocks[index]
        report = EnrichmentBatch(
            api,
            store,
            gates[index],
            InMemoryQuarantine(),
            RecordingMessageRetry(),
            90,
            RetryPolicy(max_attempts=8, not_found_attempts=5),
            clock=clock.time,
            deadline=clock.now + 60,
        ).process(batch)
        result.failed += len(report.failed)
    result.written = store.written
    return result
