"""ISO-8601 UTC timestamps as the state stores them: `yyyy-mm-ddThh:mm:ss.sssZ`."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

_CANONICAL_LENGTH = len("2019-06-24T09:03:55.795Z")


def canonical(timestamp: str) -> str:
    """Milliseconds, always three digits, `Z`: what every attribute of the state holds."""
    if len(timestamp) == _CANONICAL_LENGTH and timestamp[19] == "." and timestamp[-1] == "Z":
        return timestamp
    return format_timestamp(parse(timestamp))


def parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).astimezone(UTC)


def format_timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def epoch_seconds(timestamp: str) -> int:
    return int(parse(timestamp).timestamp())


def seconds_between(start: str, end: str) -> Decimal:
    """Exact to the millisecond (AWS's worked ACW example: 18:55:27.027 to 18:55:32.032 is 5.005 s)."""
    delta = parse(end) - parse(start)
    milliseconds = delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000
    return Decimal(milliseconds) / 1000
