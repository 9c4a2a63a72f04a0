"""Opening hours (`alarms.openingHoursUtc`): when silence on the event streams means that something is broken.

CloudWatch alarms cannot be scheduled, but metric math can read the time of each datapoint (DAY, HOUR and MINUTE
of its timestamp, in UTC), so the silence alarms turn "closed" datapoints into harmless ones (README "Operations").
Parsed by hand: the form is small ("MON-FRI 09:00-17:00, SAT 10:00-14:00") and reads like a contact centre's own
opening hours, which a list of cron expressions or a nested object would not.
"""

from __future__ import annotations

import re
from typing import Annotated, NamedTuple

from pydantic import BeforeValidator

DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
MAX_WINDOWS = 7  # keeps the alarm's expression well under CloudWatch's 2,048 characters
_DAY = "|".join(DAYS)
_WINDOW = re.compile(
    rf"^(?P<first>{_DAY})(?:-(?P<last>{_DAY}))? +(?P<start>\d\d):(?P<start_minute>\d\d)"
    r" *- *(?P<end>\d\d):(?P<end_minute>\d\d)$"
)
EXAMPLE = "MON-FRI 09:00-17:00"
NONE = "none"  # no opening hours: no silence alarms (null in cdk.json means "the default", as for every key)


class OpeningWindow(NamedTuple):
    days: tuple[int, ...]  # ISO weekdays, as metric math's DAY() numbers them: Monday 1 ... Sunday 7
    start_minute: int  # minutes after 00:00 UTC, included
    end_minute: int  # excluded; 1440 is the midnight that ends the day


def parse_opening_hours(value: object) -> object:
    """`"MON-FRI 09:00-17:00, SAT 10:00-14:00"` -> windows, `"none"` -> no window; anything not a string is left to
    the field's type."""
    if not isinstance(value, str):
        return value
    if value.strip().lower() == NONE:
        return ()
    windows = []
    for text in value.upper().split(","):
        match = _WINDOW.match(text.strip())
        if match is None:
            raise ValueError(
                f"expected opening hours in UTC such as {EXAMPLE!r} or 'MON-FRI 08:00-20:00, SAT 09:00-13:00' "
                f"(or {NONE!r}), got {value!r}"
            )
        start = int(match["start"]) * 60 + int(match["start_minute"])
        end = int(match["end"]) * 60 + int(match["end_minute"])
        if not 0 <= start < end <= 1440 or int(match["start_minute"]) > 59 or int(match["end_minute"]) > 59:
            raise ValueError(
                f"expected each window to start before it ends, within 00:00-24:00 (split a night across midnight "
                f"in two: 'MON-FRI 22:00-24:00, TUE-SAT 00:00-06:00'), got {value!r}"
            )
        first = DAYS.index(match["first"])
        last = DAYS.index(match["last"] or match["first"])
        days = tuple(sorted((first + offset) % 7 + 1 for offset in range((last - first) % 7 + 1)))
        windows.append(OpeningWindow(days, start, end))
    if len(windows) > MAX_WINDOWS:
        raise ValueError(f"expected at most {MAX_WINDOWS} opening windows, got {len(windows)}")
    return tuple(windows)


OpeningHours = Annotated[tuple[OpeningWindow, ...], BeforeValidator(parse_opening_hours)]


def is_open(windows: tuple[OpeningWindow, ...], series: str) -> str:
    """A metric math condition, true at the datapoints of `series` whose timestamps fall inside the windows."""
    minute = f"(HOUR({series})*60+MINUTE({series}))"
    conditions = []
    for window in windows:
        days = " OR ".join(f"(DAY({series}) >= {a} AND DAY({series}) <= {b})" for a, b in _runs(window.days))
        conditions.append(f"(({days}) AND ({minute} >= {window.start_minute}) AND ({minute} < {window.end_minute}))")
    return "(" + " OR ".join(conditions) + ")"


def _runs(days: tuple[int, ...]) -> list[tuple[int, int]]:
    """Consecutive days as (first, last) ranges: (1, 2, 3, 6, 7) -> [(1, 3), (6, 7)]."""
    runs: list[tuple[int, int]] = []
    for day in days:
        if runs and runs[-1][1] == day - 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
