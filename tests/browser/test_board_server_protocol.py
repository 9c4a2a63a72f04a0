"""The local board server speaks the AppSync Events subset the wallboard uses (an aiohttp client plays the browser)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from demo.board_server import BoardServer, channel_matches

SUBPROTOCOLS = ["aws-appsync-event-ws", "header-" + base64.urlsafe_b64encode(b'{"host":"x"}').decode().rstrip("=")]


@pytest.fixture
def server() -> Iterator[BoardServer]:
    snapshots = {"/board/agents": [{"channel": "/board/agents", "seq": 3, "kind": "snapshot", "agents": []}]}
    running = BoardServer(snapshot=lambda channel: snapshots.get(channel, []), keepalive_seconds=0.2)
    running.start()
    yield running
    running.stop()


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, timeout=20))


async def publish(session: aiohttp.ClientSession, url: str, channel: str, *events: Any) -> dict[str, Any]:
    body = {"channel": channel, "events": [e if isinstance(e, str) else json.dumps(e) for e in events]}
    async with session.post(f"{url}event", json=body) as response:
        answer: dict[str, Any] = await response.json()
        answer["status"] = response.status
        return answer


async def next_frame(socket: aiohttp.ClientWebSocketResponse, skip_ka: bool = True, wait: float = 5) -> dict[str, Any]:
    async with asyncio.timeout(wait):  # keep-alives arrive every 0.2 s: the wait is for the next other frame
        while True:
            frame: dict[str, Any] = await socket.receive_json()
            if not (skip_ka and frame["type"] == "ka"):
                return frame


def test_wildcard_matches_one_trailing_segment() -> None:
    assert channel_matches("/board/queues/*", "/board/queues/q-1")
    assert not channel_matches("/board/queues/*", "/board/queues/q-1/more")
    assert not channel_matches("/board/queues/*", "/board/queues/")
    assert not channel_matches("/board/queues/*", "/board/agents")
    assert channel_matches("/board/agents", "/board/agents")
    assert not channel_matches("/board/agents", "/board/agents2")


def test_handshake_without_the_header_subprotocol_is_refused(server: BoardServer) -> None:
    async def scenario() -> int:
        async with aiohttp.ClientSession() as session:
            try:
                await session.ws_connect(f"{server.url}event/realtime", protocols=["aws-appsync-event-ws"])
            except aiohttp.WSServerHandshakeError as refused:
                return refused.status
        return 101

    assert run(scenario()) == 401


def test_subscribe_receive_and_unsubscribe(server: BoardServer) -> None:
    async def scenario() -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(f"{server.url}event/realtime", protocols=SUBPROTOCOLS) as socket,
        ):
            assert socket.protocol == "aws-appsync-event-ws"
            await socket.send_json({"type": "subscribe", "id": "early", "channel": "/board/agents"})
            assert (await next_frame(socket))["type"] == "error"  # connection_init comes first
            await socket.send_json({"type": "connection_init"})
            assert await next_frame(socket) == {"type": "connection_ack", "connectionTimeoutMs": 300_000}
            assert (await next_frame(socket, skip_ka=False))["type"] == "ka"

            auth = {"host": "x"}
            await socket.send_json(
                {"type": "subscribe", "id": "q", "channel": "/board/queues/*", "authorization": auth}
            )
            assert await next_frame(socket) == {"type": "subscribe_success", "id": "q"}
            await socket.send_json({"type": "subscribe", "id": "bad", "channel": "/board/*/x", "authorization": auth})
            refused = await next_frame(socket)
            assert (refused["type"], refused["id"]) == ("subscribe_error", "bad")

            event = json.dumps({"channel": "/board/queues/q-1", "seq": 7, "changed": ["c-1"]})
            assert (await publish(session, server.url, "/board/agents", {"seq": 1}))["failed"] == []
            answer = await publish(session, server.url, "/board/queues/q-1", event)
            assert answer["failed"] == []
            assert len(answer["successful"]) == 1
            # only the queue event reaches the wildcard subscription, as the JSON string that was published
            assert await next_frame(socket) == {"type": "data", "id": "q", "event": event}

            await socket.send_json({"type": "unsubscribe", "id": "q"})
            assert await next_frame(socket) == {"type": "unsubscribe_success", "id": "q"}
            await publish(session, server.url, "/board/queues/q-1", {"seq": 8})
            with pytest.raises(TimeoutError):
                await next_frame(socket, wait=1)

    run(scenario())
    assert server.publish_count == 3
    assert server.delivered_count == 1
    publications = {(p.channel, p.seq): p for p in server.publications()}
    assert publications[("/board/queues/q-1", 7)].changed == ("c-1",)
    assert publications[("/board/queues/q-1", 7)].subscribers == 1


def test_publish_follows_appsync_limits(server: BoardServer) -> None:
    async def scenario() -> list[dict[str, Any]]:
        async with aiohttp.ClientSession() as session:
            return [
                await publish(session, server.url, "/board/agents", *[{"n": n} for n in range(6)]),
                await publish(session, server.url, "/board/queues/*", {"n": 1}),
                await publish(session, server.url, "/board/agents", "not json", {"n": 1}),
            ]

    too_many, wildcard, one_bad = run(scenario())
    assert too_many["status"] == wildcard["status"] == 400
    assert [f["index"] for f in one_bad["failed"]] == [0]
    assert [s["index"] for s in one_bad["successful"]] == [1]


def test_snapshot_and_render_acks(server: BoardServer) -> None:
    async def scenario() -> tuple[Any, int]:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{server.url}snapshot", params={"channel": "/board/agents"}) as response:
                snapshot = await response.json()
            async with session.get(f"{server.url}snapshot", params={"channel": "board"}) as response:
                refused = response.status
            await publish(session, server.url, "/board/agents", {"seq": 4, "changed": ["arn:agent/1"]})
            async with session.post(
                f"{server.url}ack", json={"channel": "/board/agents", "seq": 4, "renderedAt": 1_900_000_000_000}
            ) as response:
                assert response.status == 204
            async with session.get(f"{server.url}config.json") as response:
                config = await response.json()
            assert config["ackUrl"] == f"{server.url}ack"
            assert config["realtimeUrl"] == server.url.replace("http", "ws") + "event/realtime"
            return snapshot, refused

    snapshot, refused = run(scenario())
    assert snapshot == {
        "snapshots": [{"channel": "/board/agents", "seq": 3, "kind": "snapshot", "agents": []}],
        "channels": ["/board/agents", "/board/queues/*"],  # no groups given: the server answers as wallboard-all
    }
    assert refused == 400
    [ack] = server.acks()
    assert (ack.channel, ack.seq, ack.rendered_at, ack.changed) == (
        "/board/agents",
        4,
        1_900_000_000.0,
        ("arn:agent/1",),
    )
    assert ack.published_at is not None
    assert ack.published_at <= ack.received_at
