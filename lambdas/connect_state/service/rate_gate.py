"""A cross-container rate limiter for DescribeContact: every container shares one ledger of call slots
(service.ports.CallSlots, a DynamoDB table in the stack), 1/rate seconds each.

Hand-written because the limit holds across every concurrent container of the function: botocore's adaptive retry
mode limits one client in one process, and Powertools has no rate limiter.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from connect_state.service.ports import CallSlots


class RateGate:
    """At most `rate_per_second` calls in any slot-aligned second, across every container: time is cut into slots of
    1/rate seconds and a call needs its slot claimed (adapters.call_slots). Slot n starts at n/rate on the epoch
    clock, so whole seconds hold exactly `rate` slots (for a whole rate), and calls are spread evenly instead of in
    bursts."""

    def __init__(
        self,
        slots: CallSlots,
        rate_per_second: float,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        self._slots = slots
        self._rate = rate_per_second
        self._clock = clock
        self._sleep = sleep
        self._next_slot = 0  # slots before this one are taken or past, as far as this container knows

    def acquire(self, deadline: float = math.inf) -> bool:
        """Wait for and claim the next free slot; False (nothing claimed) if it would start after `deadline`."""
        while True:
            now = self._clock()
            slot = max(math.floor(now * self._rate), self._next_slot)
            start = slot / self._rate
            if start > deadline:
                return False
            if start > now:
                self._sleep(start - now)
            self._next_slot = slot + 1
            if self._slots.claim(slot, int(start)):
                return True
