"""Both state tables' DynamoDB streams → the wallboard's read model and channel messages. Wiring only; the work is in
service.board.

Batch semantics: the whole batch, not per record. The service coalesces the batch into one recompute per channel, so a
record has no fate of its own; if any read, write or publish fails, the handler reports the batch's first record as
failed (`batchItemFailures`), and Lambda delivers the whole batch again from there. That is safe because nothing is
incremented: the retry recomputes every view from the state as it is then (at most sequence numbers are spent, and a
board resynchronises on the gap). Reporting the failure instead of raising keeps the batch whole: raising would make
Lambda bisect it (the event source mapping bisects on function errors), halving the coalescing for a failure that is
almost always the publish endpoint or throttling, which no half of the batch would escape. Powertools' BatchProcessor
is not used for the same reason as in handlers.agent_events: records are not handled one by one.

Records are read straight from the event's dicts, not through Powertools' DynamoDBStreamEvent, whose properties
deserialize whole images: only the key and the contact's `queueArn` are needed.

Dependencies: one factory, `dependencies` (connect_state.config.PerContainer). The demo substitutes its simulated
clock with `dependencies.reset(lambda: build(clock=simulated_clock))`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from connect_state.adapters.board_tables import DynamoDBBoardRows, DynamoDBBoardState
from connect_state.adapters.channel_publisher import DisabledPublisher, HttpChannelPublisher
from connect_state.adapters.conditional_write import CLIENT_CONFIG as DYNAMODB_CONFIG
from connect_state.config import BoardConfig, PerContainer, board_config
from connect_state.domain import board, timestamps
from connect_state.metric_names import MetricName
from connect_state.observability import instrumented, logger, metrics
from connect_state.service.board import BoardService, Change
from connect_state.service.ports import ChannelPublisher, Clock


def wall_clock() -> str:
    return timestamps.format_timestamp(datetime.now(UTC))


@dataclass(frozen=True)
class Dependencies:
    config: BoardConfig
    state: DynamoDBBoardState
    rows: DynamoDBBoardRows
    publisher: ChannelPublisher
    service: BoardService


def build(clock: Clock = wall_clock, publisher: ChannelPublisher | None = None) -> Dependencies:
    """The board's dependencies from the environment; `clock` and `publisher` are for the demo and the tests."""
    config = board_config()
    client = boto3.client("dynamodb", config=DYNAMODB_CONFIG)
    state = DynamoDBBoardState(client, config.agent_table_name, config.contact_table_name)
    rows = DynamoDBBoardRows(client, config.board_table_name)
    publisher = publisher or channel_publisher(config)
    return Dependencies(config, state, rows, publisher, BoardService(state, rows, publisher, config.settings, clock))


def channel_publisher(config: BoardConfig) -> ChannelPublisher:
    if not config.publishing:
        return DisabledPublisher()
    if config.channel_publish_auth == "iam":
        session = boto3.session.Session()
        return HttpChannelPublisher(
            config.channel_publish_url, credentials=session.get_credentials(), region=session.region_name
        )
    return HttpChannelPublisher(config.channel_publish_url)


dependencies = PerContainer(build)


def change_of(record: dict[str, Any]) -> Change | None:
    """What a stream record asks to recompute: the agent (key agentArn), or the contact's old and new queue (key
    contactId). None for a record of neither table."""
    stream = record.get("dynamodb") or {}
    keys = stream.get("Keys") or {}
    if "agentArn" in keys:
        return Change.agent(keys["agentArn"]["S"])
    if "contactId" in keys:
        old, new = stream.get("OldImage"), stream.get("NewImage")
        if not board.queue_figures_changed(old, new):
            return None  # enrichment, the abandoned claim: nothing a queue's figures read has changed
        queues = [(image or {}).get("queueArn", {}).get("S") for image in (old, new)]
        return Change.contact(keys["contactId"]["S"], *queues)
    return None


@instrumented
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records", [])
    changes = [change for change in map(change_of, records) if change is not None]
    metrics.add_metric(name=MetricName.BOARD_STREAM_RECORDS, unit=MetricUnit.Count, value=len(records))
    deps = dependencies()
    try:
        published = deps.service.apply_changes(changes)
    except Exception as error:  # any failure: the whole batch again (module docstring)
        logger.warning(
            "board update failed; Lambda will deliver the batch again", extra={"error": type(error).__name__}
        )
        metrics.add_metric(name=MetricName.BOARD_BATCHES_RETRIED, unit=MetricUnit.Count, value=1)
        first = records[0]["dynamodb"]["SequenceNumber"] if records else None
        return {"batchItemFailures": [{"itemIdentifier": first}] if first else []}
    rows = sum(len(m.get("upserts", [])) + len(m.get("removes", [])) for m in published)
    metrics.add_metric(name=MetricName.BOARD_CHANNELS_RECOMPUTED, unit=MetricUnit.Count, value=len(published))
    sent = len(published) if deps.config.publishing else 0
    metrics.add_metric(name=MetricName.BOARD_MESSAGES_PUBLISHED, unit=MetricUnit.Count, value=sent)
    metrics.add_metric(name=MetricName.BOARD_AGENT_ROWS_WRITTEN, unit=MetricUnit.Count, value=rows)
    logger.info(
        "board batch",
        extra={"records": len(records), "channels": [m["channel"] for m in published], "agentRowsWritten": rows},
    )
    return {"batchItemFailures": []}
