"""The local stand-in for the wallboard's managed services: AWS AppSync Events channels and the snapshot request.

What it stands in for (issue 16 deploys the real ones):
- AppSync Events' HTTP publish endpoint: `POST /event` with the documented body `{"channel": "/board/...",
  "events": ["<JSON string>", ... at most 5]}`, answered `{"successful": [...], "failed": []}`. Each event goes to
  every WebSocket subscription whose channel pattern matches (`/board/queues/*` matches one trailing segment).
- AppSync Events' real-time endpoint: `GET /event/realtime`, a WebSocket speaking the SUBSET of the Event API
  WebSocket protocol the wallboard uses: subprotocols `aws-appsync-event-ws` + `header-<base64url JSON>` (decoded
  and checked to be a JSON object; no authorisation here), `connection_init` -> `connection_ack`
  (`connectionTimeoutMs`), `ka` keep-alives, `subscribe` {id, channel, authorization} -> `subscribe_success` /
  `subscribe_error`, `data` {id, event: JSON string}, `unsubscribe` -> `unsubscribe_success`. Publishing over the
  WebSocket is not part of the subset (answered `error`).
- The authorised snapshot request of issue 16 (API Gateway + the board snapshot function): `GET /snapshot?channel=<c>`
  -> `{"snapshots": [...], "channels": [...]}` from the callable the server is given (the board service's
  `snapshot(channel)` in the demo, a fake in tests); `channel=*` answers every channel the caller may see, and
  `channels` lists the subscription channels the caller may use.
- Authorisation, without sign-in: the server answers as ONE caller whose Cognito groups are `groups` (None: as
  `wallboard-all`, every channel). With `groups`, it applies the scope rule (connect_state.domain.board_scope) the
  way the deployed board does: a subscription outside the scope gets `subscribe_error` (UnauthorizedException, as
  AppSync Events' onSubscribe handler answers), a snapshot of a channel outside it 403, and a wildcard snapshot only
  the channels inside it. Credentials are not checked, only recorded (`authorizations()`), so a test can see what
  the page sent; `auth` is the `auth` block the page's /config.json gives it (default `{"type": "none"}`).
Plus, for the demo only: `/` and the static files of `wallboard/`, `/config.json` (the client's runtime settings) and
`POST /ack` (the browser's render acknowledgements, to measure push latency end to end).

Hand-written on aiohttp because no library fakes AppSync Events; it runs on its own asyncio loop in a background
thread so synchronous callers (the demo, the tests) drive it with plain calls.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import inspect
import json
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

from aiohttp import WSMsgType, web

WALLBOARD_DIR = Path(__file__).resolve().parent.parent / "wallboard"
LAMBDAS_DIR = Path(__file__).resolve().parent.parent / "lambdas"
SUBPROTOCOL = "aws-appsync-event-ws"
MAX_EVENTS_PER_PUBLISH = 5  # AppSync Events' limit for one HTTP publish request
MAX_EVENT_BYTES = 240 * 1024
# Namespace then up to four segments of [A-Za-z0-9-] (<= 50 characters each); a subscription may end in `/*`.
_SEGMENT = r"[A-Za-z0-9-]{1,50}"
CHANNEL = re.compile(rf"^/{_SEGMENT}(?:/{_SEGMENT}){{0,4}}$")
CHANNEL_PATTERN = re.compile(rf"^/{_SEGMENT}(?:/{_SEGMENT}){{0,3}}(?:/{_SEGMENT}|/\*)$")

AGENTS = "/board/agents"
ALL_QUEUES = "/board/queues/*"
AGENT_GROUPS = "/board/agentgroups/"
EVERYTHING = "*"  # the snapshot of every channel the caller may see (snapshot requests only, not a channel)
WALLBOARD_ALL = "wallboard-all"
# `snapshot(channel)` -> the channel's snapshots; or `snapshot(channel, groups=...)` -> snapshots, or the whole
# `{"snapshots", "channels"}` document (board_snapshot.snapshot_response), scoped by the callable itself.
Snapshot = Callable[..., Any]


class Publication(NamedTuple):
    """One event as the publish endpoint received it (`seq`/`changed` read from the board message, if any)."""

    channel: str
    seq: int | None
    changed: tuple[str, ...]
    received_at: float  # time.time() when POST /event arrived
    subscribers: int  # WebSocket subscriptions it was sent to


class RenderAck(NamedTuple):
    """A browser's report that it has painted (channel, seq), joined with that message's publication."""

    channel: str
    seq: int
    rendered_at: float  # the browser's Date.now() at render, in seconds (same machine, same clock)
    received_at: float  # time.time() when POST /ack arrived
    published_at: float | None  # Publication.received_at of (channel, seq), None if it was never published here
    changed: tuple[str, ...]


class Authorization(NamedTuple):
    """The credentials a request carried: `kind` is "connect" (the header subprotocol), "subscribe" (the
    subscribe message's `authorization`) or "snapshot" (the HTTP Authorization header, None when absent)."""

    kind: str
    channel: str | None
    headers: dict[str, Any]


class Delivery(NamedTuple):
    """One `data` message sent: the channel published to and the subscription (pattern) it matched."""

    channel: str
    pattern: str


def board_scope() -> ModuleType:
    """connect_state.domain.board_scope, the scope rule the deployed board applies (pure: no AWS, no settings)."""
    if str(LAMBDAS_DIR) not in sys.path:  # the demo process puts lambdas/ on the path later, for the functions
        sys.path.insert(0, str(LAMBDAS_DIR))
    from connect_state.domain import board_scope as scope

    return scope


def channel_matches(pattern: str, channel: str) -> bool:
    """`/board/queues/*` matches `/board/queues/<one segment>`; any other pattern matches itself only."""
    if pattern.endswith("/*"):
        prefix = pattern[:-1]
        return channel.startswith(prefix) and "/" not in channel[len(prefix) :] and len(channel) > len(prefix)
    return pattern == channel


def decode_header_subprotocol(protocols: list[str]) -> dict[str, Any] | None:
    """The JSON object of the `header-<base64url>` subprotocol, or None when it is absent or malformed."""
    for protocol in protocols:
        if protocol.startswith("header-"):
            encoded = protocol[len("header-") :]
            try:
                decoded = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
            except (binascii.Error, ValueError):
                return None
            return decoded if isinstance(decoded, dict) else None
    return None


@dataclass(eq=False)  # identity: each socket is one connection
class _Connection:
    socket: web.WebSocketResponse
    subscriptions: dict[str, str] = field(default_factory=dict)  # subscription id -> channel pattern
    initialised: bool = False


class BoardServer:
    """AppSync Events + snapshot stand-in for the wallboard; see the module docstring.

    `start()` returns the base URL (`http://127.0.0.1:<port>/`); `stop()` closes every connection and the loop.
    """

    def __init__(
        self,
        snapshot: Snapshot,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock_rate: float = 1.0,
        ack: bool = True,
        keepalive_seconds: float = 60.0,
        connection_timeout_ms: int = 300_000,
        static_dir: Path = WALLBOARD_DIR,
        groups: Sequence[str] | None = None,
        auth: Mapping[str, Any] | None = None,
    ) -> None:
        self._snapshot = snapshot
        self._snapshot_scoped = "groups" in inspect.signature(snapshot).parameters
        self._groups = list(groups) if groups is not None else None
        self._auth = dict(auth) if auth is not None else {"type": "none"}
        self._authorizations: list[Authorization] = []
        self._deliveries: list[Delivery] = []
        self._host = host
        self._port = port
        self._clock_rate = clock_rate
        self._ack = ack
        self._keepalive_seconds = keepalive_seconds
        self._connection_timeout_ms = connection_timeout_ms
        self._static_dir = static_dir
        self._connections: set[_Connection] = set()
        self._publications: dict[tuple[str, int], Publication] = {}
        self._unsequenced: list[Publication] = []
        self._acks: list[RenderAck] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.publish_count = 0  # events accepted by POST /event
        self.delivered_count = 0  # `data` messages sent to subscriptions
        self.snapshot_count = 0  # GET /snapshot requests answered
        self.connections_opened = 0  # WebSocket connections accepted, reconnections included

    # --- the synchronous API (any thread) -----------------------------------------------------------------
    def start(self) -> str:
        ready: Future[str] = Future()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="board-server", daemon=True)
        self._thread.start()
        self.url = ready.result(timeout=30)
        return self.url

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> BoardServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def drop_connections(self) -> int:
        """Close every WebSocket (as a network blip or a service restart would); returns how many were open."""
        assert self._loop is not None, "start() first"
        return asyncio.run_coroutine_threadsafe(self._close_all(), self._loop).result(timeout=30)

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    def subscription_patterns(self) -> list[str]:
        return sorted(
            pattern for connection in list(self._connections) for pattern in connection.subscriptions.values()
        )

    def acks(self) -> list[RenderAck]:
        with self._lock:
            return list(self._acks)

    def publications(self) -> list[Publication]:
        with self._lock:
            return [*self._publications.values(), *self._unsequenced]

    def authorizations(self) -> list[Authorization]:
        with self._lock:
            return list(self._authorizations)

    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    @property
    def scope_groups(self) -> list[str]:
        """The groups the server answers as (`wallboard-all` when it was given none)."""
        return self._groups if self._groups is not None else [WALLBOARD_ALL]

    # --- the loop ------------------------------------------------------------------------------------------
    def _run(self, ready: Future[str]) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve(ready))
        except BaseException as error:  # surface a failed bind to start() instead of hanging it
            ready.set_exception(error)
            return
        self._loop.run_forever()

    async def _serve(self, ready: Future[str]) -> None:
        app = web.Application()
        app.router.add_get("/", self._index)
        app.router.add_get("/config.json", self._config)
        app.router.add_get("/snapshot", self._snapshot_request)
        app.router.add_post("/event", self._publish)
        app.router.add_get("/event/realtime", self._realtime)
        app.router.add_post("/ack", self._render_ack)
        app.router.add_static("/", self._static_dir, follow_symlinks=False)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        port = self._runner.addresses[0][1]
        ready.set_result(f"http://{self._host}:{port}/")

    async def _shutdown(self) -> None:
        await self._close_all()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _close_all(self) -> int:
        connections = list(self._connections)
        for connection in connections:
            await connection.socket.close(code=1001, message=b"server dropped the connection")
        return len(connections)

    # --- HTTP ------------------------------------------------------------------------------------------------
    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(self._static_dir / "index.html")

    async def _config(self, request: web.Request) -> web.Response:
        base = f"{request.scheme}://{request.host}"
        config: dict[str, Any] = {
            "realtimeUrl": f"ws://{request.host}/event/realtime",
            "snapshotUrl": f"{base}/snapshot",
            "auth": self._auth,
            "clockRate": self._clock_rate,
        }
        if self._ack:
            config["ackUrl"] = f"{base}/ack"
        return web.json_response(config, headers={"Cache-Control": "no-store"})

    async def _snapshot_request(self, request: web.Request) -> web.Response:
        channel = request.query.get("channel", "")
        with self._lock:
            self._authorizations.append(
                Authorization("snapshot", channel, {"Authorization": request.headers.get("Authorization")})
            )
        if channel != EVERYTHING and not CHANNEL_PATTERN.match(channel):
            return web.json_response({"message": f"not a channel: {channel!r}"}, status=400)
        if channel != EVERYTHING and not channel.endswith("/*") and not self._allowed(channel):
            return web.json_response({"message": "Forbidden"}, status=403)
        loop = asyncio.get_running_loop()
        try:  # the board service reads DynamoDB: off the loop, so pushes keep flowing meanwhile
            document = await loop.run_in_executor(None, self._snapshot_document, channel)
        except Exception as error:
            return web.json_response({"message": f"snapshot failed: {error}"}, status=500)
        self.snapshot_count += 1
        return web.json_response(document, headers={"Cache-Control": "no-store"})

    def _allowed(self, channel: str) -> bool:
        return self._groups is None or bool(board_scope().allowed(self._groups, channel))

    def _snapshot_document(self, channel: str) -> dict[str, Any]:
        """The snapshot answer for the server's caller: the callable's snapshots inside the scope, and `channels`
        (the subscription channels of the caller's groups: board_scope.subscriptions)."""
        if self._snapshot_scoped:
            answer = self._snapshot(channel, groups=self.scope_groups)
            document = dict(answer) if isinstance(answer, Mapping) else {"snapshots": list(answer)}
        elif channel == EVERYTHING:
            document = {"snapshots": self._everything()}
        else:
            document = {"snapshots": list(self._snapshot(channel))}
        document["snapshots"] = [s for s in document["snapshots"] if self._allowed(str(s.get("channel", "")))]
        document.setdefault("channels", list(board_scope().subscriptions(self.scope_groups)))
        return document

    def _everything(self) -> list[dict[str, Any]]:
        """`*` from a one-argument callable, which knows channels, not callers: the agents, every queue, and the
        agent groups the caller's groups name (the scope filter then keeps what the caller may see)."""
        snapshots = [*self._snapshot(AGENTS), *self._snapshot(ALL_QUEUES)]
        for channel in board_scope().subscriptions(self.scope_groups):
            if channel.startswith(AGENT_GROUPS) and not channel.endswith("/*"):
                try:
                    snapshots.extend(self._snapshot(channel))
                except (LookupError, ValueError):  # a group the callable has nothing for (yet)
                    continue
        return snapshots

    async def _publish(self, request: web.Request) -> web.Response:
        received_at = time.time()
        try:
            body = await request.json()
        except ValueError:
            return _bad_request("the body is not JSON")
        channel = body.get("channel") if isinstance(body, dict) else None
        events = body.get("events") if isinstance(body, dict) else None
        if not isinstance(channel, str) or not CHANNEL.match(channel):
            return _bad_request(f"not a channel to publish to: {channel!r}")
        if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS_PER_PUBLISH:
            return _bad_request(f"events must be a list of 1 to {MAX_EVENTS_PER_PUBLISH} JSON strings")
        successful, failed = [], []
        for index, event in enumerate(events):
            identifier = f"{channel}#{received_at:.6f}#{index}"
            decoded = _decode_event(event)
            if decoded is None:
                failed.append({"identifier": identifier, "index": index, "code": 400, "message": "not a JSON string"})
                continue
            subscribers = await self._fan_out(channel, event)
            self._record(channel, decoded, received_at, subscribers)
            successful.append({"identifier": identifier, "index": index})
        return web.json_response({"successful": successful, "failed": failed})

    async def _render_ack(self, request: web.Request) -> web.Response:
        received_at = time.time()
        body = await request.json()
        channel, seq = str(body["channel"]), int(body["seq"])
        with self._lock:
            publication = self._publications.get((channel, seq))
            self._acks.append(
                RenderAck(
                    channel=channel,
                    seq=seq,
                    rendered_at=float(body["renderedAt"]) / 1000,
                    received_at=received_at,
                    published_at=publication.received_at if publication else None,
                    changed=publication.changed if publication else (),
                )
            )
        return web.Response(status=204)

    def _record(self, channel: str, event: Any, received_at: float, subscribers: int) -> None:
        seq = event.get("seq") if isinstance(event, Mapping) else None
        changed = event.get("changed", []) if isinstance(event, Mapping) else []
        publication = Publication(
            channel, seq if isinstance(seq, int) else None, tuple(map(str, changed)), received_at, subscribers
        )
        with self._lock:
            self.publish_count += 1
            if publication.seq is None:
                self._unsequenced.append(publication)
            else:
                self._publications[(channel, publication.seq)] = publication

    async def _fan_out(self, channel: str, event: str) -> int:
        sent = 0
        for connection in list(self._connections):
            for subscription_id, pattern in list(connection.subscriptions.items()):
                if channel_matches(pattern, channel) and not connection.socket.closed:
                    await connection.socket.send_json({"type": "data", "id": subscription_id, "event": event})
                    with self._lock:
                        self._deliveries.append(Delivery(channel, pattern))
                    sent += 1
        self.delivered_count += sent
        return sent

    # --- WebSocket -------------------------------------------------------------------------------------------
    async def _realtime(self, request: web.Request) -> web.StreamResponse:
        offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
        if SUBPROTOCOL not in offered or decode_header_subprotocol(offered) is None:
            return web.json_response(
                {"errors": [{"errorType": "UnauthorizedException", "message": "subprotocols missing or malformed"}]},
                status=401,
            )
        with self._lock:
            self._authorizations.append(Authorization("connect", None, decode_header_subprotocol(offered) or {}))
        socket = web.WebSocketResponse(protocols=(SUBPROTOCOL,), heartbeat=None)
        await socket.prepare(request)
        connection = _Connection(socket)
        self._connections.add(connection)
        self.connections_opened += 1
        keepalive: asyncio.Task[None] | None = None
        try:
            async for message in socket:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    frame = json.loads(message.data)
                except ValueError:
                    await _send_error(socket, None, "BadRequestException", "the message is not JSON")
                    continue
                kind = frame.get("type") if isinstance(frame, dict) else None
                if kind == "connection_init":
                    connection.initialised = True
                    await socket.send_json(
                        {"type": "connection_ack", "connectionTimeoutMs": self._connection_timeout_ms}
                    )
                    keepalive = keepalive or asyncio.create_task(self._keepalive(socket))
                elif not connection.initialised:
                    await _send_error(socket, frame.get("id"), "BadRequestException", "connection_init first")
                elif kind == "subscribe":
                    await self._subscribe(connection, frame)
                elif kind == "unsubscribe":
                    subscription_id = frame.get("id")
                    if connection.subscriptions.pop(subscription_id, None) is None:
                        await socket.send_json(
                            {
                                "type": "unsubscribe_error",
                                "id": subscription_id,
                                "errors": [{"errorType": "UnknownOperationError", "message": "no such subscription"}],
                            }
                        )
                    else:
                        await socket.send_json({"type": "unsubscribe_success", "id": subscription_id})
                else:
                    await _send_error(socket, frame.get("id"), "UnsupportedOperation", f"not in this subset: {kind!r}")
        finally:
            self._connections.discard(connection)
            if keepalive is not None:
                keepalive.cancel()
        return socket

    async def _subscribe(self, connection: _Connection, frame: Mapping[str, Any]) -> None:
        subscription_id, channel = frame.get("id"), frame.get("channel")
        if not isinstance(subscription_id, str) or not subscription_id or subscription_id in connection.subscriptions:
            error = "a new, unique subscription id is required"
        elif not isinstance(channel, str) or not CHANNEL_PATTERN.match(channel):
            error = f"not a channel: {channel!r}"
        elif not isinstance(frame.get("authorization"), Mapping):
            error = "authorization is required"
        else:
            with self._lock:
                self._authorizations.append(Authorization("subscribe", channel, dict(frame["authorization"])))
            if not self._allowed(channel):
                # What AppSync Events answers when the namespace's onSubscribe handler calls util.unauthorized().
                await connection.socket.send_json(
                    {
                        "type": "subscribe_error",
                        "id": subscription_id,
                        "errors": [
                            {
                                "errorType": "UnauthorizedException",
                                "message": "You are not authorized to make this call.",
                            }
                        ],
                    }
                )
                return
            connection.subscriptions[subscription_id] = channel
            await connection.socket.send_json({"type": "subscribe_success", "id": subscription_id})
            return
        await connection.socket.send_json(
            {
                "type": "subscribe_error",
                "id": subscription_id,
                "errors": [{"errorType": "BadRequestException", "message": error}],
            }
        )

    async def _keepalive(self, socket: web.WebSocketResponse) -> None:
        while not socket.closed:
            await socket.send_json({"type": "ka"})
            await asyncio.sleep(self._keepalive_seconds)


def _decode_event(event: Any) -> Any:
    if not isinstance(event, str) or len(event.encode()) > MAX_EVENT_BYTES:
        return None
    try:
        return json.loads(event)
    except ValueError:
        return None


def _bad_request(message: str) -> web.Response:
    return web.json_response({"errors": [{"errorType": "BadRequestException", "message": message}]}, status=400)


async def _send_error(socket: web.WebSocketResponse, frame_id: Any, error_type: str, message: str) -> None:
    error: dict[str, Any] = {"type": "error", "errors": [{"errorType": error_type, "message": message}]}
    if frame_id is not None:
        error["id"] = frame_id
    await socket.send_json(error)
