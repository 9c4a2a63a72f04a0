"""A board's snapshot of the channels its supervisor may see, on (re)connecting or after a gap: wiring only, the work
is service.board.snapshot_for and the scope rule domain.board_scope.

Every answer is `{"snapshots": [...], "channels": [...]}`: `channels` are the channels the caller's board subscribes
to, `channel=*` gives the snapshot of each. Three ways in:
- the HTTP API (`GET /snapshot?channel=...`, payload format 2.0) behind its JWT authorizer: the caller's groups are
  the token's `cognito:groups` claim, at `requestContext.authorizer.jwt.claims` (a string "[a b]" there, see
  board_scope.groups_from_claim). No claims, no board: 403, whatever the channel (a route that lost its authorizer
  must never answer everything). A channel outside the groups' scope: 403; one never published: 404.
- a direct invocation (IAM-authorised), `{"channel": ..., "groups": [...]}`: the caller names the groups it answers
  for; none named is refused.
- in-process, `snapshot_response(channel, groups)`: the local demo server, which has no sign-in and answers as
  `wallboard-all` (the default), as the design has it.

It shares the board function's dependencies (handlers.board_changes.dependencies): the same configuration, tables and
clock (the demo's simulated one, once substituted there).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext

from connect_state.domain import board_scope
from connect_state.handlers.board_changes import dependencies
from connect_state.observability import logger
from connect_state.service.board import OutOfScopeError, UnknownChannelError

LOCAL_SERVER_GROUPS = (board_scope.EVERYTHING,)


def snapshot_response(channel: str, groups: Iterable[str] = LOCAL_SERVER_GROUPS) -> dict[str, Any]:
    """The snapshot document for a member of `groups`. Raises OutOfScopeError (outside their scope) or
    UnknownChannelError (allowed, never published)."""
    return dependencies().service.snapshot_for(channel, groups)


def _handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "requestContext" in event:
        return _http_api(APIGatewayProxyEventV2(event))
    return snapshot_response(str(event.get("channel") or ""), [str(group) for group in event.get("groups") or ()])


# Logs carry the Lambda context; no metrics of its own (`instrumented` would flush an empty EMF line at every call).
# Typed to take any context object, as the tests and the demo pass their own.
lambda_handler: Callable[..., dict[str, Any]] = logger.inject_lambda_context(_handle, clear_state=True)


def _http_api(event: APIGatewayProxyEventV2) -> dict[str, Any]:
    claims = event.request_context.authorizer.jwt_claim
    channel = event.get_query_string_value("channel")
    if not claims:
        logger.warning("snapshot request without authorizer claims refused")
        return _api(403, {"message": "not signed in"})
    if not channel:
        return _api(400, {"message": "channel is required"})
    groups = board_scope.groups_from_claim(claims.get("cognito:groups"))
    try:
        document = snapshot_response(channel, groups)
    except OutOfScopeError:
        logger.info("snapshot outside the caller's scope refused", extra={"channel": channel[:120]})
        return _api(403, {"message": f"not allowed: {channel[:120]}"})
    except UnknownChannelError:
        logger.info("snapshot of an unknown channel", extra={"channel": channel[:120]})
        return _api(404, {"message": f"unknown channel: {channel[:120]}"})
    return _api(200, document)


def _api(status: int, document: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", "cache-control": "no-store"},
        "body": json.dumps(document, separators=(",", ":")),
    }
