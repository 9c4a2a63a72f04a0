"""What both states merge by: a part of a state with the order key of the event it came from, and what merging one
event did (the agent and contact merges share both, and so will the states still to come)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

S = TypeVar("S")  # a state: AgentState, ContactState
Obs = TypeVar("Obs")  # an observation: AgentObservation, ContactObservation


@dataclass(frozen=True)
class Versioned:
    order_key: str  # the event's place in the merge order (agent_state.order_key, contact_state.order_key), not a key
    value: Any


class Outcome(StrEnum):
    APPLIED = "applied"
    STALE = "stale"  # changed nothing, and it is older than what is stored: it arrived late
    DUPLICATE = "duplicate"  # changed nothing, and it is what is stored already: a copy or a repeat


def fold(
    state: S | None,
    observations: Iterable[Obs],
    empty: Callable[[Obs], S],
    merge_one: Callable[[S, Obs], S],
    unchanged: Callable[[S, Obs], Outcome],
) -> tuple[S, list[Outcome]]:
    """Merge observations one by one into the state (`empty` when there is none yet), with what each one did: APPLIED
    if it changed the state, else what `unchanged` calls it (STALE or DUPLICATE)."""
    outcomes: list[Outcome] = []
    for observation in observations:
        base = state if state is not None else empty(observation)
        merged = merge_one(base, observation)
        outcomes.append(Outcome.APPLIED if merged != base else unchanged(base, observation))
        state = merged
    if state is None:
        raise ValueError("merge needs a state or at least one observation")
    return state, outcomes
