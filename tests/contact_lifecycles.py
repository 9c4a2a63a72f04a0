"""Contact events built from the contact events data model (SCHEMA-NOTES §2.2), for what no public sample shows:
whole lifecycles (COMPLETED, callbacks, abandoned contacts: §2.3) and the 2021 queueInfo without enqueueTimestamp."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.factories import INSTANCE

QUEUE = f"{INSTANCE}/queue/aaaaaaaa-0000-0000-0000-000000000001"
QUEUE_2 = f"{INSTANCE}/queue/aaaaaaaa-0000-0000-0000-000000000002"
AGENT = f"{INSTANCE}/agent/bbbbbbbb-0000-0000-0000-000000000001"


def lifecycle(
    contact_id: str,
    stages: Sequence[str],
    *,
    channel: str = "VOICE",
    method: str = "INBOUND",
    queue: bool = True,
    extra: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """A contact's events as Connect sends them: each repeats the cumulative fields seen so far.

    BUILT, NOT CAPTURED: no public sample of COMPLETED, CALLBACK or an abandoned contact exists (SCHEMA-NOTES §2.3);
    the fields follow the contact events data model (§2.2).
    """
    start = datetime(2025, 3, 4, 9, 0, 0, 123_000, tzinfo=UTC)
    detail: dict[str, Any] = {
        "contactId": contact_id,
        "channel": channel,
        "instanceArn": INSTANCE,
        "initiationMethod": method,
        "initiationTimestamp": _iso(start),
        **(extra or {}),
    }
    documents = []
    for step, stage in enumerate(stages):
        moment = start + timedelta(seconds=7 * step)
        if stage == "CONNECTED_TO_SYSTEM":
            detail["connectedToSystemTimestamp"] = _iso(moment)
        elif stage == "QUEUED" and queue:
            # A second QUEUED is a transfer to another queue: later events carry the new queue and enqueue time.
            queue_arn = QUEUE_2 if "queueInfo" in detail else QUEUE
            detail["queueInfo"] = {"queueArn": queue_arn, "queueType": "STANDARD", "enqueueTimestamp": _iso(moment)}
        elif stage == "CONNECTED_TO_AGENT":
            detail["agentInfo"] = {"agentArn": AGENT, "connectedToAgentTimestamp": _iso(moment)}
        elif stage == "DISCONNECTED":
            detail["disconnectTimestamp"] = _iso(moment)
        elif stage == "COMPLETED" and "agentInfo" in detail:
            detail["agentInfo"] = {
                **detail["agentInfo"],
                "afterContactWorkStartTimestamp": detail["disconnectTimestamp"],
                "afterContactWorkEndTimestamp": _iso(moment),
                "afterContactWorkDuration": 7,
                "agentInitiatedHoldDuration": 12,
            }
        documents.append(
            {
                "version": "0",
                "id": f"{contact_id}-{step}-{stage}",
                "detail-type": "Amazon Connect Contact Event",
                "source": "aws.connect",
                "account": "111122223333",
                "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": "eu-west-2",
                "resources": [INSTANCE],
                "detail": json.loads(json.dumps({**detail, "eventType": stage})),
            }
        )
    return documents


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


FULL = ("INITIATED", "CONNECTED_TO_SYSTEM", "QUEUED", "CONNECTED_TO_AGENT", "DISCONNECTED", "COMPLETED")


def without_enqueue_timestamp(documents: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same events as a 2021 production instance sent them: `queueInfo` with `queueArn` and `queueType` only.

    BUILT, NOT CAPTURED: SCHEMA-NOTES §2.2 (`queueInfo`) records a real QUEUED voice event captured in 2021 whose
    `queueInfo` has no `enqueueTimestamp`; the capture itself is not public, so its shape is rebuilt from that note.
    """
    stripped: list[dict[str, Any]] = json.loads(json.dumps(list(documents)))
    for document in stripped:
        document["detail"].get("queueInfo", {}).pop("enqueueTimestamp", None)
    return stripped


# An inbound call waiting in a queue, from an instance whose events carry no enqueueTimestamp (QUEUED is 14 s in).
QUEUED_2021 = without_enqueue_timestamp(lifecycle("c-2021", ("INITIATED", "CONNECTED_TO_SYSTEM", "QUEUED")))
ABANDONED_2021 = without_enqueue_timestamp(
    lifecycle("c-2021", ("INITIATED", "CONNECTED_TO_SYSTEM", "QUEUED", "DISCONNECTED", "COMPLETED"))
)
