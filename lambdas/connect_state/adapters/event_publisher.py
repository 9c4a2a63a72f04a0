"""Events the pipeline publishes for other workflows: `Contact Abandoned` on the project's event bus."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

EVENT_SOURCE = "connect-realtime-state"


class PublishError(RuntimeError):
    """EventBridge did not accept the event; the caller retries."""


class EventBridgePublisher:
    def __init__(self, client: EventBridgeClient, bus_name: str) -> None:
        self._client = client
        self._bus_name = bus_name

    def publish(self, detail_type: str, detail: Mapping[str, Any], resources: list[str]) -> None:
        response = self._client.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                    "Resources": resources,
                    "EventBusName": self._bus_name,
                }
            ]
        )
        if response.get("FailedEntryCount", 0):
            entry = response["Entries"][0]
            raise PublishError(
                f"PutEvents rejected {detail_type!r}: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}"
            )
