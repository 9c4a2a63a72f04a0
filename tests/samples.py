"""The Amazon Connect payloads in ../shared/connect-events (see its README for where each one comes from),
and factories that wrap them the way Lambda delivers them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from ops.kinesis_events import StreamRecord, lambda_record

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "connect-events"  # shared/ sits beside the clone, locally and in CI

AGENT_EVENTS = sorted((SHARED / "agent_events").glob("ae*.json"))
AGENT_FRAGMENTS = sorted((SHARED / "agent_events" / "fragments").glob("*.json"))
CONTACT_EVENTS = sorted((SHARED / "contact_events").glob("ce*.json"))
CONTACT_LENS = sorted((SHARED / "contact_lens").glob("cl*.json"))
CONTACT_RECORDS = sorted((SHARED / "ctr").glob("ctr*.json"))
LAMBDA_ENVELOPES = sorted((SHARED / "lambda_envelopes").glob("le*.json"))
ARRIVAL = datetime.fromtimestamp(1_700_000_000, UTC)  # the records' approximateArrivalTimestamp


@cache
def _text(path: Path) -> str:
    return path.read_text()


def load(path: Path) -> Any:
    return json.loads(_text(path))


def sample(prefix: str) -> Any:
    """`sample("ae03")` → the parsed JSON of the shared file whose name starts with ae03_."""
    matches = list(SHARED.rglob(f"{prefix}_*.json"))
    if len(matches) != 1:
        raise LookupError(f"expected one shared sample named {prefix}_*, found {matches}")
    return load(matches[0])


def kinesis_record(
    payload: Any,
    sequence_number: str,
    partition_key: str | None = None,
    stream_arn: str = "arn:aws:kinesis:eu-west-2:111122223333:stream/connect-agent-events",
) -> dict[str, Any]:
    """One record as Lambda delivers it from Kinesis; `payload` is JSON-encoded unless it is already bytes."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    if partition_key is None:
        partition_key = payload.get("AgentARN", "unknown") if isinstance(payload, dict) else "unknown"
    record = StreamRecord("shardId-000000000000", sequence_number, partition_key, data, ARRIVAL)
    return lambda_record(record, stream_arn, "arn:aws:iam::111122223333:role/agent-events")


def kinesis_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def sequence(n: int) -> str:
    """Kinesis-like sequence numbers (decimal strings), increasing."""
    return str(49_590_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000 + n)
