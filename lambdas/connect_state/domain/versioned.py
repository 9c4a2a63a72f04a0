"""A part of a state and the order key of the event it came from: the unit both states merge by."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Versioned:
    key: str
    value: Any
