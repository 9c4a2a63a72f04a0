"""A channel's snapshot, for a board that (re)connects or found a gap: wiring only, the work is service.board.snapshot.

Invoked directly with `{"channel": "/board/queues/*"}`, or with an API Gateway (REST or HTTP API) proxy event whose
query string has `channel` (`GET <snapshotUrl>?channel=...`): both answer the same document,
`{"snapshots": [...]}`, directly as the result, or as a proxy response (status, JSON body) for an API event.
The local demo server calls `snapshot_response(channel)` (or `BoardService.snapshot`) in-process.

It shares the board function's dependencies (handlers.board_changes.dependencies): the same configuration, tables and
clock (the demo's simulated one, once substituted there).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from connect_state.handlers.board_changes import dependencies
from connect_state.observability import logger
from connect_state.service.board import UnknownChannelError


def snapshot_response(channel: str) -> dict[str, Any]:
    return {"snapshots": dependencies().service.snapshot(channel)}


def _handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    is_api = "requestContext" in event or "queryStringParameters" in event
    channel = (event.get("queryStringParameters") or {}).get("channel") if is_api else event.get("channel")
    try:
        if not channel:
            raise UnknownChannelError("no channel given")
        document = snapshot_response(str(channel))
    except UnknownChannelError as error:
        logger.info("snapshot of an unknown channel", extra={"channel": str(error)[:120]})
        if not is_api:
            raise
        return _api(404, {"message": f"unknown channel: {error}"})
    return _api(200, document) if is_api else document


# Logs carry the Lambda context; no metrics of its own (`instrumented` would flush an empty EMF line at every call).
# Typed to take any context object, as the tests and the demo pass their own.
lambda_handler: Callable[..., dict[str, Any]] = logger.inject_lambda_context(_handle, clear_state=True)


def _api(status: int, document: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", "cache-control": "no-store"},
        "body": json.dumps(document, separators=(",", ":")),
    }
