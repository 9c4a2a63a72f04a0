"""Which wallboard channels a signed-in supervisor may see: the scope rule, from their Cognito groups.

- `wallboard-all`: every board channel, the wildcards `/board/queues/*` and `/board/agentgroups/*` included;
- `queue-<queueId>`: that queue's channel, `/board/queues/<queueId>`;
- `agents-<hierarchyGroupId>`: that agent hierarchy group's channel, `/board/agentgroups/<hierarchyGroupId>`.
Any other group grants nothing; names and ids are compared whole and case-sensitively. A channel that is not one the
board publishes (wrong namespace or kind, an empty or malformed segment, a wildcard anywhere but as the whole last
segment) is refused to everyone. An administrator changes a supervisor's scope by changing their groups; it applies
from their next token.

The same rule is written a second time in JavaScript for the AppSync Events subscribe handler
(stacks/appsync/board_namespace.js); tests/scope_cases.json is the one table of cases both must pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from connect_state.domain.board import (
    AGENT_GROUP_CHANNEL_PREFIX,
    AGENTS_CHANNEL,
    ALL_AGENT_GROUPS_CHANNEL,
    ALL_QUEUES_CHANNEL,
    QUEUE_CHANNEL_PREFIX,
)

EVERYTHING = "wallboard-all"
QUEUE_GROUP_PREFIX = "queue-"
AGENTS_GROUP_PREFIX = "agents-"
_SEGMENT = re.compile(r"[A-Za-z0-9-]{1,50}")  # an AppSync Events channel segment
_WILDCARDS = (ALL_QUEUES_CHANNEL, ALL_AGENT_GROUPS_CHANNEL)


def allowed(groups: Iterable[str], channel: str) -> bool:
    """May a member of these groups subscribe to (or read the snapshot of) this channel?"""
    groups = set(groups)
    everything = EVERYTHING in groups
    if channel == AGENTS_CHANNEL or channel in _WILDCARDS:
        return everything
    for prefix, group_prefix in (
        (QUEUE_CHANNEL_PREFIX, QUEUE_GROUP_PREFIX),
        (AGENT_GROUP_CHANNEL_PREFIX, AGENTS_GROUP_PREFIX),
    ):
        if channel.startswith(prefix):
            identifier = channel[len(prefix) :]
            return _SEGMENT.fullmatch(identifier) is not None and (everything or group_prefix + identifier in groups)
    return False


def subscriptions(groups: Iterable[str]) -> list[str]:
    """The channels a board of a member of these groups subscribes to: every agent and every queue (wildcard) for
    `wallboard-all`; otherwise the channel of each queue and agent group the groups name. Sorted."""
    groups = set(groups)
    if EVERYTHING in groups:
        return [AGENTS_CHANNEL, ALL_QUEUES_CHANNEL]
    named = {
        prefix + group[len(group_prefix) :]
        for group in groups
        for prefix, group_prefix in (
            (QUEUE_CHANNEL_PREFIX, QUEUE_GROUP_PREFIX),
            (AGENT_GROUP_CHANNEL_PREFIX, AGENTS_GROUP_PREFIX),
        )
        if group.startswith(group_prefix)
    }
    return sorted(channel for channel in named if allowed(groups, channel))


def channels_for(groups: Iterable[str], known_queue_ids: Iterable[str], known_group_ids: Iterable[str]) -> list[str]:
    """The concrete channels (no wildcard) among the board's known queues and agent groups, and the agents channel,
    that a member of these groups may see. Sorted."""
    groups = set(groups)
    candidates = {AGENTS_CHANNEL}
    candidates.update(QUEUE_CHANNEL_PREFIX + queue_id for queue_id in known_queue_ids)
    candidates.update(AGENT_GROUP_CHANNEL_PREFIX + group_id for group_id in known_group_ids)
    return sorted(channel for channel in candidates if allowed(groups, channel))


def groups_from_claim(claim: object) -> list[str]:
    """The groups of a `cognito:groups` claim: a JSON list in the token, but API Gateway's JWT authorizer hands an
    HTTP API's integration every claim as a string, a list rendered as `[a b c]`. Cognito group names never contain
    white space, so splitting on it is exact; splitting on commas would not be (a name may contain one)."""
    if isinstance(claim, list | tuple):
        return [str(group) for group in claim]
    if not isinstance(claim, str):
        return []
    text = claim.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return text.split()
