"""EventBridge's part in the demo: each contact event goes to the queues of the deployed rules whose pattern matches it.

The rules and their SQS targets are read back from the emulator; the matching is moto's own EventBridge pattern
matcher (`moto.events.models.EventPattern`, what moto's PutEvents uses). The events are not put on the bus: PutEvents
would give each one a new id and time, and the stack must see Connect's original event, id and all (a redelivery
keeps its id).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from moto.events.models import EventPattern

if TYPE_CHECKING:
    from moto.events.utils import EventMessageType


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Whether EventBridge delivers `event` (any JSON object) to a rule with `pattern`."""
    return _matches(EventPattern(None, dict(pattern)), event)


def _matches(pattern: EventPattern, event: Mapping[str, Any]) -> bool:
    # Typed as a full EventBridge event, the matcher reads any JSON object (a malformed event is still routed).
    return pattern.matches_event(cast("EventMessageType", event))


@dataclass(frozen=True)
class Route:
    pattern: EventPattern
    queue_url: str


class Routes:
    """The default bus's rules with an SQS target (not the archive's own rule), as deployed."""

    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes

    @classmethod
    def deployed(cls, events: Any, sqs: Any, bus: str = "default") -> Routes:
        """`events` and `sqs`: boto3 clients of the emulator."""
        routes = []
        for rule in events.list_rules(EventBusName=bus)["Rules"]:
            pattern = EventPattern.load(rule["EventPattern"])
            for target in events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)["Targets"]:
                if ":sqs:" in target["Arn"]:  # not the archive's own rule
                    url = sqs.get_queue_url(QueueName=target["Arn"].rsplit(":", 1)[-1])["QueueUrl"]
                    routes.append(Route(pattern, str(url)))
        return cls(routes)

    @property
    def buffer_url(self) -> str:
        """The contact buffer queue: the one rule that takes every event type of the instance."""
        (url,) = [r.queue_url for r in self.routes if "eventType" not in r.pattern.get_pattern().get("detail", {})]
        return url

    def queues_for(self, body: str) -> list[str]:
        """The queues of the rules whose pattern matches the event. A body that is not a JSON object could not travel
        through EventBridge at all: it stands for a corrupted message on the contact buffer queue."""
        try:
            event = json.loads(body)
        except json.JSONDecodeError:
            event = None
        if not isinstance(event, dict):
            return [self.buffer_url]
        return [r.queue_url for r in self.routes if _matches(r.pattern, event)]
