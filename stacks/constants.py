"""The stack's names and fixed values that more than one construct uses, so that no construct imports another's.

Values one construct alone uses stay in that construct, next to the reason for them.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Duration
from aws_cdk import aws_events as events

# Powertools reads these from every function's environment; the dashboard and alarms graph the metrics they name.
SERVICE_NAME = "connect-realtime-state"
METRICS_NAMESPACE = "ConnectRealtimeState"
# The period of the alarms and dashboard widgets, and of the agent records-given-up metric the stack hands them.
METRIC_PERIOD = Duration.minutes(1)

# What Amazon Connect puts on the default event bus of the instance's Region for every contact event.
CONTACT_EVENT_SOURCE = "aws.connect"
CONTACT_EVENT_DETAIL_TYPE = "Amazon Connect Contact Event"

# The stack's construct ids of the pipelines: their resources' paths, and the alarm names built from them
# (`<stack>-ContactEventsErrors`, README "Operations").
AGENT_EVENTS = "AgentEvents"
CONTACT_EVENTS = "ContactEvents"
CONTACT_ENRICHMENT = "ContactEnrichment"
# The live wallboard's read model (its alarms: `<stack>-WallboardErrors`, ...).
WALLBOARD = "Wallboard"


def contact_event_pattern(instance_arns: Iterable[str], *, event_type: str | None = None) -> events.EventPattern:
    """Contact events of the configured instances (the contact events rule and archive), or only those of one
    `eventType` (an enrichment trigger's rule)."""
    detail: dict[str, list[str]] = {"instanceArn": list(instance_arns)}
    if event_type is not None:
        detail["eventType"] = [event_type]
    return events.EventPattern(source=[CONTACT_EVENT_SOURCE], detail_type=[CONTACT_EVENT_DETAIL_TYPE], detail=detail)
