"""The wallboard's settings: the interval its figures cover, the thresholds that colour its tiles, the queue names.

ONE model for both ends: `cdk synth` validates the `wallboard` object of cdk.json with it (stacks/config.py embeds it),
and the board function reads the same model back from its one environment variable (`to_environment` /
`from_environment`), so a setting the stack accepted is a setting the function understands.

cdk.json shape (camelCase keys; every key optional):
    "wallboard": {"timeZone": "Europe/London", "trailingMinutes": null,
                  "thresholds": {"default": {"serviceLevelSeconds": 20, ...},
                                 "<queue id or queue ARN>": {"waitAlertSeconds": 120}},
                  "queueNames": {"<queue id or queue ARN>": "Sales"}}
A queue's entry under "thresholds" overrides some of the default's fields; the merged thresholds must still be in
the right order (an alert is worse than a warning), which is checked for every queue at synth.

Standard library and pydantic only: the CDK app imports this module too.
"""

from __future__ import annotations

import re
from typing import Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Amazon Connect queue ids are UUIDs; a queue ARN is `<instance ARN>/queue/<id>` (an agent's own queue: queue/agent/).
QUEUE_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
QUEUE_ARN = re.compile(
    r"^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:connect:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:instance/[0-9a-f-]{36}"
    r"/queue/(?:agent/)?[0-9a-f-]{36}$"
)
DEFAULT = "default"
# The widest service-level threshold Amazon Connect's metrics APIs accept (seconds: one week).
MAX_SECONDS = 604_800
_QUEUE_KEY = "a queue id (uuid) or a queue ARN (arn:aws:connect:<region>:<account>:instance/<id>/queue/<id>)"


def queue_id(queue_arn: str) -> str:
    """The last segment of a queue ARN (a queue id passes through unchanged)."""
    return queue_arn.rsplit("/", 1)[-1]


def _check_queue_key(key: str) -> None:
    if not (QUEUE_ID.match(key) or QUEUE_ARN.match(key)):
        raise ValueError(f"{key!r} is not {_QUEUE_KEY}")


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, alias_generator=_camel)


class QueueThresholds(_Settings):
    """When a queue's tiles turn amber (warn) and red (alert). Service level is better high; wait and abandonment
    are better low, so their alert level is above the warning one and the service level's below it."""

    # Service level X: contacts that left the queue (answered or abandoned) within X seconds, per cent of those queued.
    service_level_seconds: int = Field(20, gt=0, le=MAX_SECONDS)
    service_level_warn_percent: float = Field(80, ge=0, le=100)
    service_level_alert_percent: float = Field(60, ge=0, le=100)
    # The oldest contact's wait, at or above which the queue is amber / red.
    wait_warn_seconds: int = Field(60, gt=0, le=MAX_SECONDS)
    wait_alert_seconds: int = Field(180, gt=0, le=MAX_SECONDS)
    # Abandonment rate (percent of contacts queued), at or above which the queue is amber / red.
    abandon_warn_percent: float = Field(5, ge=0, le=100)
    abandon_alert_percent: float = Field(10, ge=0, le=100)

    @model_validator(mode="after")
    def _alert_is_worse_than_warn(self) -> Self:
        for problem in threshold_order_problems(self.model_dump(by_alias=True)):
            raise ValueError(problem)
        return self


class QueueThresholdOverrides(_Settings):
    """A queue's own thresholds: any of QueueThresholds' fields; the rest come from the default."""

    service_level_seconds: int | None = Field(None, gt=0, le=MAX_SECONDS)
    service_level_warn_percent: float | None = Field(None, ge=0, le=100)
    service_level_alert_percent: float | None = Field(None, ge=0, le=100)
    wait_warn_seconds: int | None = Field(None, gt=0, le=MAX_SECONDS)
    wait_alert_seconds: int | None = Field(None, gt=0, le=MAX_SECONDS)
    abandon_warn_percent: float | None = Field(None, ge=0, le=100)
    abandon_alert_percent: float | None = Field(None, ge=0, le=100)

    def over(self, default: QueueThresholds) -> QueueThresholds:
        return default.model_copy(update=self.model_dump(exclude_none=True))


def threshold_order_problems(values: dict[str, Any]) -> list[str]:
    """Each pair of levels in the wrong order, in words (by cdk.json key): empty when the thresholds are usable."""
    pairs = (
        ("serviceLevelAlertPercent", "below", "serviceLevelWarnPercent", "a service level is worse when lower"),
        ("waitAlertSeconds", "above", "waitWarnSeconds", "a wait is worse when longer"),
        ("abandonAlertPercent", "above", "abandonWarnPercent", "abandonment is worse when higher"),
    )
    problems = []
    for alert, direction, warn, why in pairs:
        a, w = values[alert], values[warn]
        if (a >= w) if direction == "below" else (a <= w):
            problems.append(f"{alert} ({_figure(a)}) must be {direction} {warn} ({_figure(w)}): {why}")
    return problems


class WallboardThresholds(BaseModel):
    """`thresholds`: the `default` for every queue, and a partial override per queue (keyed by queue id or ARN)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)
    # The per-queue entries are pydantic "extra" fields, validated as overrides (pydantic's typed extras).
    __pydantic_extra__: dict[str, QueueThresholdOverrides] = Field(init=False)

    default: QueueThresholds = Field(default_factory=QueueThresholds)

    @model_validator(mode="after")
    def _every_queue_is_named_and_in_order(self) -> Self:
        for key, override in self.queues.items():
            if not (QUEUE_ID.match(key) or QUEUE_ARN.match(key)):
                raise ValueError(f"{key!r} is neither {DEFAULT!r} nor {_QUEUE_KEY}")
            merged = {**self.default.model_dump(by_alias=True), **override.model_dump(by_alias=True, exclude_none=True)}
            for problem in threshold_order_problems(merged):
                raise ValueError(f"queue {key} (its entry over the default): {problem}")
        return self

    @property
    def queues(self) -> dict[str, QueueThresholdOverrides]:
        return dict(self.__pydantic_extra__ or {})


class WallboardSettings(_Settings):
    """The board's interval, thresholds and queue names (README "Configuration", key `wallboard`)."""

    # IANA zone of the contact centre: "today" starts at its local midnight (Connect's real-time reports default).
    time_zone: str = "UTC"
    # A trailing window instead of "today"; None: today.
    trailing_minutes: int | None = Field(None, ge=5, le=1440)
    thresholds: WallboardThresholds = Field(default_factory=WallboardThresholds)
    # Display names by queue id or ARN (the events carry only ARNs); a queue without one shows "queue <id prefix>".
    queue_names: dict[str, str] = Field({})

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"expected an IANA time zone such as Europe/London or UTC, got {value!r}") from None
        return value

    @field_validator("queue_names")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        for key, name in value.items():
            _check_queue_key(key)
            if not name.strip():
                raise ValueError(f"the name of queue {key} is empty")
        return value

    @property
    def default_thresholds(self) -> QueueThresholds:
        return self.thresholds.default

    def thresholds_for(self, queue_arn: str) -> QueueThresholds:
        """The default thresholds, overridden by the queue's entry by id, then by its entry by ARN (the ARN wins)."""
        merged = self.thresholds.default
        queues = self.thresholds.queues
        for key in (queue_id(queue_arn), queue_arn):
            if key in queues:
                merged = queues[key].over(merged)
        return merged

    def name_for(self, queue_arn: str) -> str:
        """The configured name (by ARN, else by id), else "queue " and the first 8 characters of the queue id."""
        identifier = queue_id(queue_arn)
        return self.queue_names.get(queue_arn) or self.queue_names.get(identifier) or f"queue {identifier[:8]}"

    def to_environment(self) -> str:
        """Compact JSON by cdk.json key, defaults left out (Lambda allows 4 KB for all of a function's variables)."""
        return self.model_dump_json(by_alias=True, exclude_defaults=True, exclude_none=True)

    @classmethod
    def from_environment(cls, text: str) -> WallboardSettings:
        return cls.model_validate_json(text)


def _figure(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
