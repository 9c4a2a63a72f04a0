"""The scope rule (which channels a supervisor's Cognito groups allow), twice: the Python rule the snapshot API applies
(domain.board_scope) and the JavaScript subscribe handler AppSync Events runs (stacks/appsync/board_namespace.js),
both against the one table of cases, tests/scope_cases.json. The JavaScript runs under node with the AppSync runtime's
`util` stubbed (tests/unit/scope_harness.mjs)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from connect_state.domain import board, board_scope

ROOT = Path(__file__).resolve().parents[2]
CASES = json.loads((ROOT / "tests" / "scope_cases.json").read_text())
HANDLER = ROOT / "stacks" / "appsync" / "board_namespace.js"
HARNESS = ROOT / "tests" / "unit" / "scope_harness.mjs"
NODE = shutil.which("node")


def case_id(case: dict[str, Any]) -> str:
    return f"{'+'.join(case['groups']) or 'no-group'} {case['channel'] or '<empty>'}"


def subscribe_context(identity: dict[str, Any] | None, channel: str) -> dict[str, Any]:
    """An onSubscribe context as AppSync Events documents it (Event API context reference: identity, info.channel
    {path, segments}, info.channelNamespace, info.operation); identity as a Cognito user pool caller's."""
    return {
        "identity": identity,
        "info": {
            "channel": {"path": channel, "segments": [s for s in channel.split("/") if s]},
            "channelNamespace": {"name": "board"},
            "operation": "SUBSCRIBE",
        },
        "request": {"headers": {}, "domainName": None},
        "stash": {},
    }


def cognito_identity(groups: list[str] | None, claim: Any = None) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": "user-1", "token_use": "id"}
    if claim is not None:
        claims["cognito:groups"] = claim
    return {
        "sub": "user-1",
        "issuer": "https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_pool",
        "username": "supervisor",
        "claims": claims,
        "sourceIp": ["192.0.2.1"],
        "defaultAuthStrategy": "ALLOW",
        "groups": groups,
    }


@cache
def _run_handler(contexts_json: str) -> tuple[dict[str, Any], ...]:
    assert NODE, "node is needed to run the AppSync Events handler"
    answer = subprocess.run(  # a fixed program with our own files
        [NODE, str(HARNESS), str(HANDLER)], input=contexts_json, capture_output=True, text=True, timeout=60, check=True
    )
    return tuple(json.loads(answer.stdout))


def run_handler(contexts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list(_run_handler(json.dumps(contexts)))


def test_the_table_has_the_cases_the_issue_names() -> None:
    channels_refused = {(tuple(c["groups"]), c["channel"]) for c in CASES if not c["allowed"]}
    assert (("queue-aaaa-1111",), "/board/queues/bbbb-2222") in channels_refused  # queue A user refused queue B
    assert (("queue-aaaa-1111",), "/board/queues/*") in channels_refused  # ... and the wildcard
    assert (("agents-team-blue",), "/board/agents") in channels_refused  # agent-group user refused every agent
    assert any(c["groups"] == ["wallboard-all"] and c["allowed"] for c in CASES)
    assert sum(c["groups"] == ["wallboard-all"] and not c["allowed"] for c in CASES) >= 10  # malformed channels


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_the_python_rule(case: dict[str, Any]) -> None:
    assert board_scope.allowed(case["groups"], case["channel"]) is case["allowed"], case["why"]


def test_the_appsync_subscribe_handler_follows_the_same_table() -> None:
    results = run_handler([subscribe_context(cognito_identity(c["groups"]), c["channel"]) for c in CASES])
    errors = [(case_id(c), r["error"]) for c, r in zip(CASES, results, strict=True) if "error" in r]
    assert not errors
    wrong = [case_id(c) for c, r in zip(CASES, results, strict=True) if r["allowed"] is not c["allowed"]]
    assert not wrong


@pytest.mark.parametrize(
    ("identity", "allowed"),
    [
        (None, False),  # no identity at all (an API key or anonymous caller) is refused
        (cognito_identity(None), False),  # a user in no group
        (cognito_identity([]), False),
        (cognito_identity(None, ["queue-aaaa-1111"]), True),  # groups only in the claim
        (cognito_identity(None, "[supervisors queue-aaaa-1111]"), True),  # the claim as "[a b]" text
        (cognito_identity(None, "queue-aaaa-1111"), True),
        (cognito_identity(None, "[queue-bbbb-2222]"), False),
        ({"accountId": "111122223333", "userArn": "arn:aws:iam::111122223333:role/x"}, False),  # IAM: never subscribes
    ],
)
def test_the_subscribe_handler_reads_the_callers_groups_and_refuses_without_them(
    identity: dict[str, Any] | None, allowed: bool
) -> None:
    (result,) = run_handler([subscribe_context(identity, "/board/queues/aaaa-1111")])
    assert result == {"allowed": allowed}


def test_the_handler_is_written_in_what_appsync_js_supports() -> None:
    """APPSYNC_JS (AppSync Events "Supported runtime features") has no while, do-while, classic for, try/catch/finally,
    throw, continue, labels, `in`, ++/--/~; handlers are an ES module exporting onSubscribe, importing only
    @aws-appsync/utils."""
    source = HANDLER.read_text()
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", source, flags=re.DOTALL)
    code = re.sub(r"'[^'\n]*'", "''", code)  # string contents are not code
    for pattern in (
        r"\bwhile\b",
        r"\bdo\s*\{",
        r"\bfor\s*\((?![^)]*\bof\b)",
        r"\btry\b",
        r"\bcatch\b",
        r"\bfinally\b",
        r"\bthrow\b",
        r"\bcontinue\b",
        r"\bin\b",
        r"\+\+|--|~",
        r"^\s*\w+:\s*$",
        r"\bclass\b",
        r"\brequire\(",
        r"/[^/\n]+/[gimsuy]*\.test\(|new RegExp",
    ):
        assert not re.search(pattern, code, flags=re.MULTILINE), pattern
    assert re.findall(r"^import .* from '([^']+)';$", source, flags=re.MULTILINE) == ["@aws-appsync/utils"]
    assert re.findall(r"^export (?:function|const) (\w+)", source, flags=re.MULTILINE) == ["onSubscribe"]


def test_the_channels_the_board_publishes_are_the_ones_the_rule_names() -> None:
    queue = "arn:aws:connect:eu-west-2:111122223333:instance/i/queue/aaaa-1111"
    group = "arn:aws:connect:eu-west-2:111122223333:instance/i/agent-group/team-blue"
    assert board_scope.allowed(["queue-aaaa-1111"], board.queue_channel(queue))
    assert board_scope.allowed(["agents-team-blue"], board.agent_group_channel(board.hierarchy_group_id(group)))
    assert not board_scope.allowed(["agents-team-blue"], board.queue_channel(queue))


@pytest.mark.parametrize(
    ("groups", "channels"),
    [
        (["wallboard-all"], ["/board/agents", "/board/queues/*"]),
        (["wallboard-all", "queue-aaaa-1111"], ["/board/agents", "/board/queues/*"]),
        (
            ["queue-bbbb-2222", "agents-team-blue", "queue-aaaa-1111", "supervisors"],
            ["/board/agentgroups/team-blue", "/board/queues/aaaa-1111", "/board/queues/bbbb-2222"],
        ),
        (["queue-*", "queue-", "agents-a_b", "supervisors"], []),
        ([], []),
    ],
)
def test_a_board_subscribes_to_the_channels_its_groups_allow(groups: list[str], channels: list[str]) -> None:
    assert board_scope.subscriptions(groups) == channels
    assert all(board_scope.allowed(groups, channel) for channel in channels)


def test_the_channels_a_caller_may_see_among_the_known_ones() -> None:
    known_queues, known_groups = ["aaaa-1111", "bbbb-2222"], ["team-blue", "team-red"]
    assert board_scope.channels_for(["queue-aaaa-1111", "agents-team-red"], known_queues, known_groups) == [
        "/board/agentgroups/team-red",
        "/board/queues/aaaa-1111",
    ]
    assert board_scope.channels_for(["wallboard-all"], known_queues, known_groups) == [
        "/board/agentgroups/team-blue",
        "/board/agentgroups/team-red",
        "/board/agents",
        "/board/queues/aaaa-1111",
        "/board/queues/bbbb-2222",
    ]
    assert board_scope.channels_for(["queue-cccc-3333"], known_queues, known_groups) == []


@pytest.mark.parametrize(
    ("claim", "groups"),
    [
        (["wallboard-all", "queue-a"], ["wallboard-all", "queue-a"]),  # the token's JSON list
        ("[wallboard-all queue-a]", ["wallboard-all", "queue-a"]),  # an HTTP API JWT authorizer's rendering
        ("[queue-a]", ["queue-a"]),
        ("queue-a", ["queue-a"]),
        ("[]", []),
        ("", []),
        (None, []),
        ("[x,wallboard-all]", ["x,wallboard-all"]),  # a comma is part of a name, never a separator
    ],
)
def test_the_groups_claim_is_read_as_a_list_or_as_api_gateways_text(claim: object, groups: list[str]) -> None:
    assert board_scope.groups_from_claim(claim) == groups
