"""What both states merge by: a part of a state with the order key of the event it came from, and what merging one
event did (the agent and contact merges share both, and so will the states still to come)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class Versioned:
    order_key: str  # the event's place in the merge order (agent_state.order_key, contact_state.order_key), not a key
    value: Any


class Outcome(StrEnum):
    APPLIED = "applied"
    STALE = "stale"  # changed nothing, and it is older than what is stored: it arrived late
    DUPLICATE = "duplicate"  # changed nothing, and it is what is stored already: a copy or a repeat
