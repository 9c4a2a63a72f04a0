"""The board function against moto's DynamoDB: the three tables, stream records in, rows, sequence numbers and
messages out; and the snapshot handler, invoked directly and behind the HTTP API's JWT authorizer.

No captured DynamoDB stream record exists in ../shared/connect-events (lambda_envelopes has only a Kinesis one), so the
records here are BUILT from the documented shape of a DynamoDB Streams record as Lambda delivers it (Lambda developer
guide, "Using AWS Lambda with Amazon DynamoDB": Records[].eventName, .dynamodb.Keys / NewImage / OldImage /
SequenceNumber / StreamViewType, .eventSourceARN), with NEW_AND_OLD_IMAGES as the stack configures the streams.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer

from connect_state.config import Env
from connect_state.domain import board
from connect_state.handlers import board_changes, board_snapshot
from connect_state.service.board import OutOfScopeError
from tests.fakes import RecordingChannelPublisher
from tests.integration.conftest import create_agent_table
from tests.lambda_context import FakeLambdaContext

INSTANCE = "arn:aws:connect:eu-west-2:111122223333:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111"
SALES = f"{INSTANCE}/queue/11111111-2222-3333-4444-555555555555"
AGENT = f"{INSTANCE}/agent/agent-1"
NOW = "2026-11-20T10:00:00.000Z"
STREAM = "arn:aws:dynamodb:eu-west-2:111122223333:table/{table}/stream/2026-11-20T00:00:00.000"
_serializer = TypeSerializer()


def create_contact_table() -> None:
    """The contact state table with the indexes the board reads (stacks/constructs/state_tables.py)."""
    string: Any = "S"
    indexes = {"byQueue": "queuedSince", "byQueueEnqueued": "enqueuedAt"}
    boto3.client("dynamodb").create_table(
        TableName="contact-state",
        KeySchema=[{"AttributeName": "contactId", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": string}
            for name in ("contactId", "queueArn", "queuedSince", "enqueuedAt")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": name,
                "KeySchema": [
                    {"AttributeName": "queueArn", "KeyType": "HASH"},
                    {"AttributeName": sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for name, sort_key in indexes.items()
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def create_board_table() -> None:
    boto3.client("dynamodb").create_table(
        TableName="board",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def published(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingChannelPublisher]:
    create_agent_table()
    create_contact_table()
    create_board_table()
    monkeypatch.setenv(Env.AGENT_TABLE_NAME, "agent-state")
    monkeypatch.setenv(Env.CONTACT_TABLE_NAME, "contact-state")
    monkeypatch.setenv(Env.BOARD_TABLE_NAME, "board")
    monkeypatch.setenv(Env.WALLBOARD_SETTINGS, json.dumps({"queueNames": {SALES: "Sales"}}))
    monkeypatch.setenv(Env.CHANNEL_PUBLISH_URL, "disabled")
    monkeypatch.setenv(Env.CHANNEL_PUBLISH_AUTH, "none")
    recorder = RecordingChannelPublisher()
    # How the demo substitutes its simulated clock (and here, a publisher that records)
    board_changes.dependencies.reset(lambda: board_changes.build(clock=lambda: NOW, publisher=recorder))
    yield recorder
    board_changes.dependencies.reset()


def put(table: str, item: dict[str, Any]) -> None:
    boto3.resource("dynamodb").Table(table).put_item(Item=item)


def record(
    table: str, keys: dict[str, str], new: dict[str, Any] | None, old: dict[str, Any] | None, sequence: str
) -> dict[str, Any]:
    """One DynamoDB Streams record as Lambda delivers it (BUILT, see the module docstring)."""
    stream: dict[str, Any] = {
        "ApproximateCreationDateTime": 1_795_000_000,
        "Keys": {name: {"S": value} for name, value in keys.items()},
        "SequenceNumber": sequence,
        "SizeBytes": 512,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        stream["NewImage"] = {name: _serializer.serialize(value) for name, value in new.items()}
    if old is not None:
        stream["OldImage"] = {name: _serializer.serialize(value) for name, value in old.items()}
    event_name = "INSERT" if old is None else ("REMOVE" if new is None else "MODIFY")
    return {
        "eventID": f"event-{sequence}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-2",
        "dynamodb": stream,
        "eventSourceARN": STREAM.format(table=table),
    }


AGENT_ITEM = {
    "agentArn": AGENT,
    "agentId": "agent-1",
    "firstName": "Ada",
    "lastName": "Lovelace",
    "statusName": "Available",
    "statusType": "ROUTABLE",
    "loggedIn": True,
    "activity": "AVAILABLE",
    "contacts": [],
    "routingProfileQueueArns": [SALES],
    "orderKey": "2026-11-20T09:59:00.000Z#1#e-1",
    "ttl": 1_900_000_000,
}
WAITING = {
    "contactId": "contact-1",
    "queueArn": SALES,
    "channel": "VOICE",
    "status": "QUEUED",
    "abandoned": False,
    "enqueueTimestamp": "2026-11-20T09:59:30.000Z",
    "enqueuedAt": "2026-11-20T09:59:30.000Z",
    "queuedSince": "2026-11-20T09:59:30.000Z",
    "customerEndpoint": "+441234567890",  # never on a board (not a contract attribute; here to prove it)
}


def batch() -> dict[str, Any]:
    put("agent-state", AGENT_ITEM)
    put("contact-state", WAITING)
    return {
        "Records": [
            record("agent-state", {"agentArn": AGENT}, AGENT_ITEM, None, "100"),
            record("contact-state", {"contactId": "contact-1"}, WAITING, None, "200"),
        ]
    }


def test_a_batch_writes_the_agent_row_and_publishes_one_message_per_channel(
    published: RecordingChannelPublisher,
) -> None:
    # When a batch with an agent change and a contact change in Sales is handled
    response = board_changes.lambda_handler(batch(), FakeLambdaContext())
    # Then nothing is retried, and one message per channel went out: the agent list and Sales
    assert response == {"batchItemFailures": []}
    channels = [channel for channel, _ in published.published]
    assert channels == [board.AGENTS_CHANNEL, board.queue_channel(SALES)]
    delta, view = (message for _, message in published.published)
    assert (delta["kind"], delta["seq"], delta["asOf"]) == ("delta", 1, NOW)
    assert delta["upserts"][0]["name"] == "Ada Lovelace"
    assert delta["counts"]["AGENTS_AVAILABLE"] == 1
    queue = view["queue"]
    assert (queue["name"], queue["CONTACTS_IN_QUEUE"], queue["OLDEST_CONTACT_AGE"]) == ("Sales", 1, 30)
    assert (queue["AGENTS_STAFFED"], queue["AGENTS_AVAILABLE"], queue["CONTACTS_QUEUED"]) == (1, 1, 1)
    assert sorted(view["changed"]) == sorted([AGENT, "contact-1"])
    assert "+441234567890" not in json.dumps(published.published)
    # and the board table has the row (with the agent item's order keys and ttl) and the channels' numbers
    items = boto3.resource("dynamodb").Table("board").scan()["Items"]
    row = next(i for i in items if i["pk"] == "AGENT")
    assert (row["sk"], row["orderKey"], row["ttl"]) == (AGENT, AGENT_ITEM["orderKey"], 1_900_000_000)
    sequences = {i["sk"]: (i["seq"], i.get("queueArn")) for i in items if i["pk"] == "CHANNEL"}
    assert sequences == {board.AGENTS_CHANNEL: (1, None), board.queue_channel(SALES): (1, SALES)}


def test_an_agent_in_a_hierarchy_group_is_published_on_the_groups_channel_too(
    published: RecordingChannelPublisher,
) -> None:
    # Given the agent is in team blue (Level2) under the London site (Level1)
    groups = [f"{INSTANCE}/agent-group/site-london", f"{INSTANCE}/agent-group/team-blue"]
    item = {**AGENT_ITEM, "hierarchyGroupArns": groups}
    put("agent-state", item)
    event = {"Records": [record("agent-state", {"agentArn": AGENT}, item, None, "100")]}
    assert board_changes.lambda_handler(event, FakeLambdaContext()) == {"batchItemFailures": []}
    # Then each group's channel gets a delta with the row, and its own sequence number in the board table
    by_channel = dict(published.published)
    for channel in ("/board/agentgroups/site-london", "/board/agentgroups/team-blue"):
        assert [row["agentArn"] for row in by_channel[channel]["upserts"]] == [AGENT]
        assert by_channel[channel]["upserts"][0]["hierarchyGroupIds"] == ["site-london", "team-blue"]
    items = boto3.resource("dynamodb").Table("board").scan()["Items"]
    sequences = {i["sk"]: i["seq"] for i in items if i["pk"] == "CHANNEL"}
    assert sequences["/board/agentgroups/team-blue"] == 1
    # and its snapshot, for the group's supervisor, is that agent
    status, document = snapshot_request("*", id_token_claims("[agents-team-blue]"))
    assert (status, document["channels"]) == (200, ["/board/agentgroups/team-blue"])
    (blue,) = document["snapshots"]
    assert (blue["seq"], [row["agentArn"] for row in blue["agents"]]) == (1, [AGENT])


def test_a_redelivered_batch_moves_no_figure_and_writes_no_row(published: RecordingChannelPublisher) -> None:
    event = batch()
    board_changes.lambda_handler(event, FakeLambdaContext())
    first_view = published.published[-1][1]
    # When Lambda delivers the same batch again
    board_changes.lambda_handler(event, FakeLambdaContext())
    # Then the agent row is unchanged (no delta), and Sales is recomputed to the same figures with a new number
    channel, again = published.published[-1]
    assert len(published.published) == 3
    assert channel == board.queue_channel(SALES)
    assert again["seq"] == first_view["seq"] + 1
    assert again["queue"] == first_view["queue"]


def test_an_expired_agent_leaves_the_board(published: RecordingChannelPublisher) -> None:
    board_changes.lambda_handler(batch(), FakeLambdaContext())
    # When TTL deletes the agent item (a REMOVE record, old image only)
    boto3.resource("dynamodb").Table("agent-state").delete_item(Key={"agentArn": AGENT})
    event = {"Records": [record("agent-state", {"agentArn": AGENT}, None, AGENT_ITEM, "300")]}
    board_changes.lambda_handler(event, FakeLambdaContext())
    # Then its row is deleted, the delta removes it, and Sales no longer counts it
    removed = [m for _, m in published.published if m["channel"] == board.AGENTS_CHANNEL][-1]
    assert removed["removes"] == [AGENT]
    sales = [m for _, m in published.published if m["channel"] == board.queue_channel(SALES)][-1]
    assert sales["queue"]["AGENTS_STAFFED"] == 0
    assert not [i for i in boto3.resource("dynamodb").Table("board").scan()["Items"] if i["pk"] == "AGENT"]


def test_a_failure_hands_the_whole_batch_back_from_its_first_record(
    published: RecordingChannelPublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(channel: str, messages: Any) -> None:
        raise RuntimeError("publish endpoint down")

    monkeypatch.setattr(published, "publish", refuse)
    response = board_changes.lambda_handler(batch(), FakeLambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": "100"}]}


def http_api_request(channel: str | None, claims: dict[str, Any] | None) -> dict[str, Any]:
    """`GET /snapshot?channel=...` as an HTTP API hands it to its Lambda integration (payload format 2.0) behind a JWT
    authorizer: BUILT from the documented shape (API Gateway developer guide, "Create AWS Lambda proxy integrations
    for HTTP APIs", format 2.0: requestContext.authorizer.jwt.{claims, scopes}; no captured event exists in
    ../shared/connect-events). The authorizer passes every claim as a string: a list claim such as
    `cognito:groups` arrives as "[a b]"."""
    request_context: dict[str, Any] = {
        "accountId": "111122223333",
        "apiId": "api1234567",
        "domainName": "api1234567.execute-api.eu-west-2.amazonaws.com",
        "domainPrefix": "api1234567",
        "http": {
            "method": "GET",
            "path": "/snapshot",
            "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1",
            "userAgent": "Mozilla/5.0",
        },
        "requestId": "request-1",
        "routeKey": "GET /snapshot",
        "stage": "$default",
        "time": "20/Nov/2026:10:00:00 +0000",
        "timeEpoch": 1_795_168_800_000,
    }
    if claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    query = {"channel": channel} if channel is not None else None
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "GET /snapshot",
        "rawPath": "/snapshot",
        "rawQueryString": f"channel={channel}" if channel is not None else "",
        "headers": {"authorization": "eyJraWQiOi...", "host": request_context["domainName"]},
        "requestContext": request_context,
        "isBase64Encoded": False,
    }
    if query is not None:
        event["queryStringParameters"] = query
    return event


def id_token_claims(groups: str) -> dict[str, Any]:
    return {
        "sub": "7f1c2d3e-0000-4000-8000-000000000001",
        "cognito:groups": groups,
        "iss": "https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_AbCdEfGhI",
        "aud": "1example23456789",
        "token_use": "id",
        "cognito:username": "supervisor",
        "auth_time": "1795168000",
        "exp": "1795171600",
        "iat": "1795168000",
    }


def snapshot_request(channel: str | None, claims: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
    response = board_snapshot.lambda_handler(http_api_request(channel, claims), FakeLambdaContext())
    assert response["headers"]["cache-control"] == "no-store"
    return response["statusCode"], json.loads(response["body"])


def test_the_snapshot_handler_answers_a_direct_invocation_with_the_callers_groups(
    published: RecordingChannelPublisher,
) -> None:
    board_changes.lambda_handler(batch(), FakeLambdaContext())
    # Direct invocation (IAM-authorised): the caller names the groups it answers for
    document = board_snapshot.lambda_handler(
        {"channel": "/board/queues/*", "groups": ["wallboard-all"]}, FakeLambdaContext()
    )
    (sales,) = document["snapshots"]
    assert (sales["channel"], sales["seq"], sales["queue"]["CONTACTS_IN_QUEUE"]) == (board.queue_channel(SALES), 1, 1)
    assert document["channels"] == [board.AGENTS_CHANNEL, board.ALL_QUEUES_CHANNEL]
    # The in-process call the local server makes, with the groups it answers for
    local = board_snapshot.snapshot_response("*", [SALES_SUPERVISOR])
    assert local["channels"] == [board.queue_channel(SALES)]
    assert [s["channel"] for s in local["snapshots"]] == [board.queue_channel(SALES)]
    with pytest.raises(OutOfScopeError):
        board_snapshot.snapshot_response(board.AGENTS_CHANNEL, [SALES_SUPERVISOR])
    # A direct invocation that names no groups is refused: there is no default scope
    with pytest.raises(OutOfScopeError):
        board_snapshot.lambda_handler({"channel": "/board/queues/*"}, FakeLambdaContext())


SALES_SUPERVISOR = "queue-11111111-2222-3333-4444-555555555555"
SUPPORT = f"{INSTANCE}/queue/66666666-7777-8888-9999-000000000000"


def test_an_http_api_request_gets_the_channels_its_token_groups_allow(published: RecordingChannelPublisher) -> None:
    board_changes.lambda_handler(batch(), FakeLambdaContext())
    # A wallboard-all supervisor: every channel; the groups claim as the JWT authorizer renders it
    status, document = snapshot_request("*", id_token_claims("[wallboard-all]"))
    assert status == 200
    assert document["channels"] == [board.AGENTS_CHANNEL, board.ALL_QUEUES_CHANNEL]
    assert [s["channel"] for s in document["snapshots"]] == [board.AGENTS_CHANNEL, board.queue_channel(SALES)]
    (agents, _) = document["snapshots"]
    assert (agents["kind"], agents["seq"], len(agents["agents"])) == ("snapshot", 1, 1)
    # The Sales supervisor: Sales, and nothing else
    status, document = snapshot_request("*", id_token_claims(f"[supervisors {SALES_SUPERVISOR}]"))
    assert (status, document["channels"]) == (200, [board.queue_channel(SALES)])
    assert [s["channel"] for s in document["snapshots"]] == [board.queue_channel(SALES)]
    status, document = snapshot_request(board.queue_channel(SALES), id_token_claims(f"[{SALES_SUPERVISOR}]"))
    assert (status, document["snapshots"][0]["queue"]["CONTACTS_IN_QUEUE"]) == (200, 1)


@pytest.mark.parametrize(
    ("channel", "claims", "status"),
    [
        (board.queue_channel(SUPPORT), id_token_claims(f"[{SALES_SUPERVISOR}]"), 403),  # queue A: never queue B
        (board.AGENTS_CHANNEL, id_token_claims(f"[{SALES_SUPERVISOR}]"), 403),
        (board.ALL_QUEUES_CHANNEL, id_token_claims("[supervisors]"), 403),
        ("*", id_token_claims("[supervisors]"), 403),  # no scope group: nothing
        ("*", {key: value for key, value in id_token_claims("").items() if key != "cognito:groups"}, 403),
        ("*", None, 403),  # no authorizer claims at all (a route without the authorizer): refused, never everything
        ("*", {}, 403),
        ("/other", id_token_claims("[wallboard-all]"), 403),
        (board.queue_channel(SUPPORT), id_token_claims("[wallboard-all]"), 404),  # allowed, never published
        (None, id_token_claims("[wallboard-all]"), 400),
    ],
)
def test_an_http_api_request_outside_its_scope_is_refused(
    published: RecordingChannelPublisher, channel: str | None, claims: dict[str, Any] | None, status: int
) -> None:
    board_changes.lambda_handler(batch(), FakeLambdaContext())
    answer, document = snapshot_request(channel, claims)
    assert answer == status
    assert "snapshots" not in document
