"""The rate gate (service.rate_gate): call slots shared by every container, including 1,000 contacts completing at
once, on fake clocks."""

from __future__ import annotations

from connect_state.service.rate_gate import RateGate
from tests.enrichment_burst import FakeClock, burst
from tests.fakes import InMemoryCallSlots


def test_the_gate_spaces_calls_one_slot_apart_and_skips_slots_others_took() -> None:
    # Given a ledger where another container already holds slots 10 and 11 (t = 2.0 s and 2.2 s at 5/s)
    slots, clock = InMemoryCallSlots(), FakeClock(2.0)
    slots.claimed.update({10, 11})
    gate = RateGate(slots, 5, clock.time, clock.sleep)
    # When this container asks three times
    times = []
    for _ in range(3):
        assert gate.acquire()
        times.append(round(clock.now, 3))
    # Then it gets slots 12, 13 and 14, each at its start
    assert times == [2.4, 2.6, 2.8]
    assert {12, 13, 14} <= slots.claimed


def test_the_gate_gives_up_rather_than_wait_past_the_deadline() -> None:
    slots, clock = InMemoryCallSlots(), FakeClock(0.0)
    slots.claimed.update(range(100))  # 20 s of slots taken by others
    gate = RateGate(slots, 5, clock.time, clock.sleep)
    assert gate.acquire(deadline=10.0) is False


def test_a_thousand_contacts_completing_at_once_never_exceed_the_configured_rate() -> None:
    # Given 1,000 COMPLETED messages arriving together (100 SQS batches of 10), taken by 4 concurrent containers
    # (2 per trigger queue, the event source mappings' maximum concurrency), each with its own clock, all sharing
    # the call-slot ledger, at the default 5 calls/s
    # When each batch goes to whichever container is free first (a discrete-event simulation)
    result = burst(contacts=1000, rate=5, containers=4)
    # Then every contact was enriched with one call each
    assert result.failed == 0
    assert len(result.calls) == 1000
    assert len(result.written) == 1000
    # And no whole second of the clock saw more than 5 calls; no sliding second more than 6 (a call made late in
    # its slot, then the next slot's call at its start)
    assert result.max_per_whole_second() == 5
    assert result.max_per_sliding_second() <= 5 + 1
    # And the budget was used, not wasted: the 1,000th call was made in slot 999, 199.8 s after the first
    assert round(result.duration(), 3) == 199.8
