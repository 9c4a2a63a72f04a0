"""`make demo`: the whole product on a laptop, no AWS account.

    .venv/bin/python -m demo.run [--agents 25 --minutes 30 --seed 7 --speed 10]   # a simulated contact centre
    .venv/bin/python -m demo.run --replay capture.jsonl                             # a captured day (make replay)

1. simulate a contact centre (demo.simulate), or read a capture (one Kinesis record or EventBridge event per line);
2. start moto's server on localhost and `cdk bootstrap` + `cdk deploy` the real stack into it (demo.emulator);
3. serve the live wallboard (demo.board_server) and print its URL; open it in headless Chromium too when there is one,
   so the page renders (and acknowledges) every push even when nobody else opens it;
4. deliver the traffic as AWS would, paced by its simulated arrival times at `--speed` simulated seconds per second:
   agent events are put on the deployed Kinesis stream and read back in Lambda batches; each contact event is sent
   to the queues of the deployed EventBridge rules it matches (the original event, id and all: demo.event_routing);
   the state tables' DynamoDB streams are read once a second (the board function's batching window) into the board
   function, which publishes to the wallboard's channels; the deployed functions' handlers run in-process with the
   deployment's environment (demo.lambda_runner stands in for Lambda, which moto cannot run), DescribeContact is
   answered by the simulator, and the board's clock is the simulated one;
5. print a wallboard from the tables, the agreement of every item with the simulator's ground truth, the live
   board's figures (as the browser shows them) against the simulator's (demo.board_truth) at the end of the
   simulation, the push latency (event put -> rendered in the browser) and the messages published, throughput and
   DynamoDB requests per event; keep serving the board for `--serve-seconds`; stop the server.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import json
import math
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import boto3
from botocore.exceptions import BotoCoreError

from demo import board_truth, wallboard
from demo.board_server import BoardServer
from demo.connect_payloads import epoch_ms, iso_ms
from demo.contact_centre import Simulation, SimulationConfig, simulate
from demo.describe_contact import SimulatedConnect
from demo.emulator import CREDENTIALS, EmulatorError, LocalAws, client_config, deploy_stack, function_environments
from demo.event_routing import Routes
from demo.ground_truth import GroundTruth, compare
from demo.lambda_runner import (
    REGION,
    DynamoDbStreamPoller,
    InProcessFunction,
    KinesisPoller,
    SqsPoller,
    answer_describe_contact_with,
    on_each_function_call,
    prepare_process,
    send_function_logs_to,
)
from demo.lambda_shapes import function_environment
from demo.live_board import (
    HeadlessBoard,
    PushFigures,
    PutLog,
    SimulatedClock,
    figures_from_page,
    figures_from_snapshots,
)
from demo.simulate import EventBridgeDelivery, KinesisDelivery, generate, parse_line, truth_path_for

if TYPE_CHECKING:  # the functions' code is importable once prepare_process has run
    from connect_state.models.board_settings import WallboardSettings

REPO = Path(__file__).resolve().parents[1]
AGENT_HANDLER = "connect_state.handlers.agent_events.lambda_handler"
CONTACT_HANDLER = "connect_state.handlers.contact_events.lambda_handler"
ENRICHMENT_HANDLER = "connect_state.handlers.enrichment.lambda_handler"
BOARD_HANDLER = "connect_state.handlers.board_changes.lambda_handler"
# The emulated Connect has no API quota; at the production default (5/s) enrichment alone would take minutes.
DEMO_ENRICHMENT_RATE = 100
DEFAULT_OUT = REPO / "build" / "demo"
# The `changed` key of the board's final recompute at the end of the simulation (no event behind it: no latency).
END_OF_SIMULATION = "end-of-simulation"
# Simulated seconds per real second: 30 minutes of the contact centre in a minute.
DEFAULT_SPEED = 10.0  # the emulator keeps up with 25 agents at this pace (README "The live wallboard")
# How long the wallboard stays up after the simulation has ended, for whoever opened it.
DEFAULT_SERVE_SECONDS = 300.0
# The contact centre's time zone: the board's interval is "today" from its local midnight.
DEMO_TIME_ZONE = "Europe/London"
# A delivery step waits at least this long for more records to be due (fewer, fuller polls of the emulator).
MIN_STEP_SECONDS = 0.2


@dataclass
class Traffic:
    """What to deliver, in order: agent records (base64 data + partition key) and contact event bodies, each with its
    simulated arrival time (epoch ms) when known, and the simulation behind them (None for a capture of real traffic:
    then there is no board truth, and the board's clock is the wall clock)."""

    deliveries: list[KinesisDelivery | EventBridgeDelivery]
    instance_arns: list[str]
    arrivals_ms: list[int] | None = None
    simulation: Simulation | None = None


@dataclass
class Figures:
    deliveries: int = 0
    seconds: float = 0.0
    speed: float = 0.0  # simulated seconds per second the delivery was paced at (0: as fast as it goes)
    dynamodb_requests: int = 0
    describe_contact_calls: int = 0
    invocations: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    abandoned_published: int = 0
    waiting_in_delay_queue: int = 0
    fallback_delay_seconds: int = 0  # the delay queue's DelaySeconds
    failed_messages: int = 0
    filtered_by_rules: int = 0  # contact "events" no deployed rule matches: EventBridge never delivers them
    agreement: dict[str, Any] = field(default_factory=dict)
    server_pid: int | None = None
    board_stream_records: int = 0
    board_dynamodb_requests: int = 0  # the board function's and its snapshots' own (not in dynamodb_requests)
    wallboard: dict[str, Any] = field(default_factory=dict)  # agreement, push latency, messages


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    truth: GroundTruth | None = None
    connect: SimulatedConnect | None = None
    if args.replay:
        traffic = _read_capture(Path(args.replay))
        print(f"replaying {len(traffic.deliveries)} records from {args.replay}", flush=True)
        truth_path = Path(args.truth) if args.truth else truth_path_for(Path(args.replay))
        if truth_path.exists():  # a capture written by demo.simulate: its truth and DescribeContact answers
            truth = GroundTruth.from_json(truth_path.read_text())
            connect = SimulatedConnect.from_truth_file(truth_path)
            print(f"ground truth and DescribeContact answers from {truth_path}", flush=True)
            if truth.config and traffic.arrivals_ms is not None:  # the same seed simulates the same centre again
                traffic.simulation = simulate(SimulationConfig.from_json(truth.config))
    else:
        run = generate(SimulationConfig(agents=args.agents, minutes=args.minutes, seed=args.seed))
        traffic = Traffic(
            [parse_line(delivery.to_jsonl()) for delivery in run.deliveries],
            [run.simulation.instance.arn],
            [delivery.arrival_ms for delivery in run.deliveries],
            run.simulation,
        )
        truth = run.truth
        connect = SimulatedConnect(run.simulation)
        print(run.summary(), flush=True)

    context = {
        "connectInstanceArn": json.dumps(traffic.instance_arns),
        "tracing": "false",
        # Offline, only the simulator can answer DescribeContact: a real capture is replayed without enrichment.
        "enrichment": json.dumps({"enabled": connect is not None, "ratePerSecond": DEMO_ENRICHMENT_RATE}),
        "wallboard": json.dumps(_wallboard_settings(traffic.simulation)),
    }
    failed = False
    with _emulator(out) as aws, contextlib.ExitStack() as live:
        print(f"moto server on {aws.endpoint_url} (pid {aws.pid}); cdk bootstrap + cdk deploy ...", flush=True)
        deploy_started = time.monotonic()
        outputs = deploy_stack(aws.endpoint_url, context)
        print(f"deployed in {time.monotonic() - deploy_started:.1f} s", flush=True)
        clock = SimulatedClock(traffic.simulation.start_ms) if traffic.simulation is not None else None
        # The page's durations tick between messages at the board clock's pace: the simulated one's, or real time.
        clock_rate = args.speed if clock is not None and args.speed > 0 else 1.0
        server = BoardServer(snapshot=lambda channel: pipeline.board_snapshot(channel), clock_rate=clock_rate)
        server.start()
        live.callback(server.stop)
        pipeline = Pipeline(aws.endpoint_url, outputs, out / "functions.log", connect, f"{server.url}event", clock)
        browser = _open_board(server, pipeline, live, enabled=not args.no_browser)
        figures = pipeline.deliver(traffic, chunk=args.chunk, speed=args.speed, progress=_progress)
        pipeline.finish_board(traffic.simulation.end_ms if traffic.simulation is not None else None)
        agents, contacts = pipeline.items()
        print()
        print(wallboard.build(agents, contacts, pipeline.queue_names()).render(), flush=True)
        if truth is not None:
            agreement = compare(truth, [*agents, *contacts], include_enrichment=connect is not None)
            figures.agreement = {"percent": agreement.percent, "summary": str(agreement), "perfect": agreement.perfect}
            print(agreement.report() if not agreement.perfect else f"ground truth: {agreement}")
            failed |= not agreement.perfect
            expected = {"agent": truth.quarantined.get("agent", 0), "contact": truth.quarantined.get("contact", 0)}
            print(
                f"bad records: agent {figures.quarantined['agent']} quarantined (expected {expected['agent']}); "
                f"contact {figures.quarantined['contact']} quarantined + {figures.filtered_by_rules} with another "
                f"detail-type or source, which no rule delivers (expected {expected['contact']} in all)"
            )
            print(f"Contact Abandoned published: {figures.abandoned_published} (expected {truth.abandoned_published})")
        print("\n".join(closing_lines(figures)))
        if pipeline.board is not None:
            failed |= not _check_the_board(pipeline, server, browser, traffic.simulation, figures, out)
        else:
            print("wallboard: the deployed stack has no board function: nothing to compare")
        figures.server_pid = aws.pid
        if clock is not None:
            clock.run_on(clock_rate)
        _serve(server, args.serve_seconds)
    print(f"moto server (pid {figures.server_pid}) stopped; {time.monotonic() - started:.1f} s in all; logs in {out}")
    (out / "summary.json").write_text(json.dumps(figures.__dict__, indent=1, default=str) + "\n")
    return 1 if failed else 0


def _wallboard_settings(simulation: Simulation | None) -> dict[str, Any]:
    """The deployment's `wallboard` settings: the centre's time zone, and the simulated queues' names."""
    settings: dict[str, Any] = {"timeZone": DEMO_TIME_ZONE}
    if simulation is not None:
        settings["queueNames"] = {
            queue.id: queue.name for queue in simulation.instance.queues.values() if queue.name is not None
        }
    return settings


def _open_board(
    server: BoardServer, pipeline: Pipeline, live: contextlib.ExitStack, enabled: bool
) -> HeadlessBoard | None:
    """Print the board's URL; open it in headless Chromium when there is one (None otherwise)."""
    port = server.url.rstrip("/").rsplit(":", 1)[-1]
    if pipeline.board is None:
        print(f"wallboard: http://localhost:{port}/ (the deployed stack has no board function: nothing is pushed)")
        return None
    print(f"wallboard: http://localhost:{port}/", flush=True)
    why_not = HeadlessBoard.available() if enabled else "--no-browser"
    if why_not is not None:
        print(f"  (not opened in a headless browser: {why_not}; the final figures come from the board's snapshot)")
        return None
    browser = HeadlessBoard.open(server.url)
    live.callback(browser.close)
    print("  (also open in headless Chromium, which reads the final figures back from the page)", flush=True)
    return browser


def _check_the_board(
    pipeline: Pipeline,
    server: BoardServer,
    browser: HeadlessBoard | None,
    simulation: Simulation | None,
    figures: Figures,
    out: Path,
) -> bool:
    """Print (and keep in figures.wallboard) the board's agreement with the simulation, the push latency and the
    messages published. False when the board disagrees with the simulation."""
    end_ms = simulation.end_ms if simulation is not None else None
    shown, source = pipeline.shown_figures(server, browser, iso_ms(end_ms) if end_ms is not None else None)
    push = PushFigures.measure(server.publications(), server.acks(), pipeline.puts, figures.seconds)
    figures.wallboard = {"figures_from": source, **push.to_json()}
    perfect = True
    if simulation is not None:
        settings = pipeline.board_settings()
        truth = board_truth.board_truth(
            simulation,
            service_level_seconds=settings.default_thresholds.service_level_seconds,
            interval_start_ms=_interval_start_ms(simulation.end_ms, settings.time_zone, settings.trailing_minutes),
        )
        agreement = board_truth.compare(shown, truth)
        figures.wallboard["agreement"] = agreement.to_json()
        print(agreement.report() if not agreement.perfect else str(agreement))
        perfect = agreement.perfect
        if not perfect and browser is not None:  # the page, or the read model behind it?
            snapshot, _ = pipeline.shown_figures(server, None, None)
            behind = board_truth.compare(snapshot, truth)
            figures.wallboard["snapshot_agreement"] = behind.to_json()
            print(f"  the board's snapshot: {behind.report(limit=5).removeprefix('wallboard agreement: ')}")
    print(push.latency_line())
    if push.rendering_line():
        print(push.rendering_line())
    print(push.messages_line())
    if browser is not None:
        figures.wallboard["console_errors"] = list(browser.console_errors)
        if browser.console_errors:
            print(f"browser console errors: {len(browser.console_errors)} (first: {browser.console_errors[0]})")
        browser.screenshot(out / "wallboard.png")
    figures.board_stream_records = pipeline.board_stream_records
    figures.board_dynamodb_requests = pipeline.board_dynamodb_requests
    return perfect


def _interval_start_ms(end_ms: int, time_zone: str, trailing_minutes: int | None) -> int:
    """The start of the board's interval at `end_ms`: a trailing window, or local midnight in the centre's zone."""
    if trailing_minutes is not None:
        return end_ms - trailing_minutes * 60_000
    local = datetime.fromtimestamp(end_ms / 1000, ZoneInfo(time_zone))
    return epoch_ms(datetime(local.year, local.month, local.day, tzinfo=local.tzinfo))


def _serve(server: BoardServer, seconds: float) -> None:
    if seconds <= 0:
        return
    port = server.url.rstrip("/").rsplit(":", 1)[-1]
    print(f"wallboard: still at http://localhost:{port}/ for {seconds:g} s (Ctrl-C ends the demo now)", flush=True)
    try:
        time.sleep(seconds)
    except KeyboardInterrupt:
        print()


class Pipeline:
    """The deployed stack, driven in-process: the functions run as demo.lambda_runner sets them up, contact events
    routed by the deployed rules (demo.event_routing), pollers in Lambda's place, and the counters. The board
    function, when deployed, publishes to `publish_url` (the local board server) at the `clock`'s instant."""

    def __init__(
        self,
        endpoint_url: str,
        outputs: Mapping[str, str],
        log_path: Path,
        connect: SimulatedConnect | None,
        publish_url: str | None = None,
        clock: SimulatedClock | None = None,
    ) -> None:
        self._outputs = outputs
        functions = function_environments(endpoint_url)
        prepare_process(endpoint_url)
        self.dynamodb_requests = 0
        self.board_dynamodb_requests = 0
        self.filtered_by_rules = 0
        self._board_busy = False
        on_each_function_call("dynamodb", self._count_dynamodb)
        # Clients of the demo itself (putting records, reading tables) are not counted as the pipeline's requests.
        session = boto3.Session(region_name=REGION, **CREDENTIALS)  # type: ignore[arg-type]
        # Patient with a busy emulator (demo.emulator.READ_TIMEOUT_SECONDS).
        self._kinesis: Any = session.client("kinesis", endpoint_url=endpoint_url, config=client_config())
        self._sqs: Any = session.client("sqs", endpoint_url=endpoint_url, config=client_config())
        self._events: Any = session.client("events", endpoint_url=endpoint_url, config=client_config())
        self._dynamodb: Any = session.resource("dynamodb", endpoint_url=endpoint_url, config=client_config())

        self._log = log_path.open("w", encoding="utf-8")
        function = {
            handler: InProcessFunction(
                handler, self._environment(handler, f.environment, publish_url), f.function_name, self._log
            )
            for handler, f in functions.items()
        }
        send_function_logs_to(self._log)
        self._connect = connect
        if connect is not None:
            answer_describe_contact_with(connect)
        self.stream_name = outputs["AgentEventStreamArn"].rsplit("/", 1)[-1]
        self.kinesis_poller = KinesisPoller(self._kinesis, self.stream_name, function[AGENT_HANDLER])
        self.routes = Routes.deployed(self._events, self._sqs)
        self.sqs_pollers = [
            SqsPoller(self._sqs, url, arn, function[handler])
            for arn, url, handler in self._consumers(function, with_enrichment=connect is not None)
        ]
        self.functions = function
        self._abandoned_url = self._subscribe_to_abandoned()
        self.puts = PutLog()
        self.clock = clock
        self.board: InProcessFunction | None = function.get(BOARD_HANDLER) if publish_url else None
        self.stream_pollers: list[DynamoDbStreamPoller] = []
        self.board_window_seconds = 1.0
        self._last_board_poll = 0.0
        if self.board is not None:
            self._wire_board(session, endpoint_url, self.board, clock)
            # On Lambda the board function runs beside the others: its streams are read between their invocations
            # too (at most once a batching window), not only after a whole step's traffic has been handled.
            for other in function.values():
                if other is not self.board:
                    other.after_invoke = self._poll_board_between

    def deliver(
        self,
        traffic: Traffic,
        chunk: int,
        speed: float = 0,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> Figures:
        """Deliver every record; with `speed` > 0 and arrival times, each when its simulated arrival is due (`speed`
        simulated seconds per second; those arriving after the simulation's end at once), else `chunk` at a time as
        fast as the emulator goes. After each step: the stream and queues drained, then the state tables' streams
        read into the board function at most once a `board_window_seconds` (between any two invocations of the other
        functions, too). The board's clock is the simulated instant up to which everything has been put (at most
        the simulation's end)."""
        deliveries, arrivals, simulation = traffic.deliveries, traffic.arrivals_ms, traffic.simulation
        schedule = arrivals if speed > 0 else None  # None: as fast as the emulator goes
        first_ms = simulation.start_ms if simulation is not None else (arrivals[0] if arrivals else 0)
        end_ms = simulation.end_ms if simulation is not None else None
        figures = Figures(deliveries=len(deliveries))
        started = time.monotonic()
        done = 0
        while done < len(deliveries):
            due_ms = first_ms + (time.monotonic() - started) * speed * 1000 if schedule is not None else math.inf
            if end_ms is not None and due_ms >= end_ms:
                due_ms = math.inf  # the simulation is over: the late stragglers are delivered at once
            end = done
            while end < len(deliveries) and end - done < chunk and (schedule is None or schedule[end] <= due_ms):
                end += 1
            if end == done and schedule is not None:  # nothing due: let the board catch up, wait for the next one
                self._set_clock(min(due_ms, schedule[done]), end_ms)
                self.poll_board()
                time.sleep(min(max((schedule[done] - due_ms) / speed / 1000, MIN_STEP_SECONDS), 0.5))
                continue
            part = deliveries[done:end]
            self._put_agent_records([d for d in part if isinstance(d, KinesisDelivery)])
            self._send_contact_events([d for d in part if isinstance(d, EventBridgeDelivery)])
            if arrivals is not None:  # everything that arrived before the next record has been put now
                upto = arrivals[end] if end < len(deliveries) else (end_ms or arrivals[-1])
                self._set_clock(min(upto, due_ms), end_ms)
            self._drain()
            self.poll_board()
            done = end
            if progress is not None:
                progress(done, len(deliveries), iso_ms(self.clock.now_ms)[11:19] if self.clock else "")
        figures.seconds = time.monotonic() - started
        figures.speed = speed if schedule is not None else 0.0
        figures.dynamodb_requests = self.dynamodb_requests
        figures.describe_contact_calls = self._connect.calls if self._connect is not None else 0
        figures.invocations = {handler.rsplit(".", 2)[-2]: f.invocations for handler, f in self.functions.items()}
        figures.failed_messages = sum(poller.failed for poller in self.sqs_pollers) + self.kinesis_poller.given_up
        figures.quarantined = {
            "agent": self._queue_depth(self._outputs["AgentEventsQuarantineQueueUrl"]),
            "contact": self._queue_depth(self._outputs["ContactEventsQuarantineQueueUrl"]),
        }
        figures.abandoned_published = self._queue_depth(self._abandoned_url)
        figures.filtered_by_rules = self.filtered_by_rules
        delayed = [p for p in self.sqs_pollers if "DisconnectedDelay" in p.queue_url]
        figures.waiting_in_delay_queue = sum(self._queue_depth(p.queue_url, delayed=True) for p in delayed)
        figures.fallback_delay_seconds = max((self._delay_seconds(p.queue_url) for p in delayed), default=0)
        return figures

    def items(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return (
            _scan(self._dynamodb.Table(self._outputs["AgentStateTableName"])),
            _scan(self._dynamodb.Table(self._outputs["ContactStateTableName"])),
        )

    def queue_names(self) -> dict[str, str]:
        return self._connect.queue_names() if self._connect is not None else {}

    # --- the live board ---------------------------------------------------------------------------------------------
    def poll_board(self, force: bool = False) -> int:
        """Read both state tables' streams into the board function, at most once a batching window (unless
        `force`); returns the stream records delivered."""
        if not self.stream_pollers or (
            not force and time.monotonic() - self._last_board_poll < self.board_window_seconds
        ):
            return 0
        self._last_board_poll = time.monotonic()
        with self._board_call():
            return sum(poller.poll() for poller in self.stream_pollers)

    def _poll_board_between(self) -> None:
        self.poll_board()

    def finish_board(self, end_ms: int | None) -> None:
        """The board as of the end of the simulation: every stream record handed over, then every queue channel
        recomputed and published at `end_ms` (a queue's oldest wait and interval depend on the instant)."""
        if self.board is None:
            return
        if self.clock is not None and end_ms is not None:
            self.clock.now_ms = end_ms
        self._drain()
        while self.poll_board(force=True):
            pass
        from connect_state.handlers import board_changes
        from connect_state.service.board import CONTACT, Change

        with self._board_call():
            service = board_changes.dependencies().service
            queue_arns = sorted({s["queue"]["queueArn"] for s in service.snapshot("/board/queues/*")})
            if queue_arns:
                service.apply_changes([Change(CONTACT, END_OF_SIMULATION, tuple(queue_arns))])

    def board_snapshot(self, channel: str) -> list[dict[str, Any]]:
        """The snapshot request of the board server (its own thread): the deployed snapshot handler's answer."""
        from connect_state.handlers import board_snapshot

        snapshots: list[dict[str, Any]] = board_snapshot.snapshot_response(channel)["snapshots"]
        return snapshots

    def shown_figures(self, server: BoardServer, browser: HeadlessBoard | None, as_of: str | None) -> tuple[Any, str]:
        """What the board shows at the end: read from the page in the browser once it shows the views as of `as_of`,
        else the board's own snapshot."""
        if browser is not None:
            publications = server.publications()
            queue_channels = {p.channel for p in publications if p.channel.startswith("/board/queues/")}
            agents_seqs = [p.seq for p in publications if p.channel == "/board/agents" and p.seq is not None]
            shown = browser.wait_until_showing(
                as_of or "", queue_channels if as_of else (), max(agents_seqs, default=None)
            )
            return figures_from_page(shown), "the page in headless Chromium"
        with self._board_call():
            snapshots = self.board_snapshot("/board/agents") + self.board_snapshot("/board/queues/*")
        return figures_from_snapshots(snapshots), "the board's snapshot"

    def board_settings(self) -> WallboardSettings:
        from connect_state.models.board_settings import WallboardSettings

        assert self.board is not None
        return WallboardSettings.from_environment(self.board.environment["WALLBOARD_SETTINGS"])

    @property
    def board_stream_records(self) -> int:
        return sum(poller.delivered for poller in self.stream_pollers)

    def _wire_board(
        self, session: Any, endpoint_url: str, board: InProcessFunction, clock: SimulatedClock | None
    ) -> None:
        """The board function's event sources (both state tables' streams, with the deployed mappings' batch size and
        window) and its clock; its dependencies are built now, with its environment, because the board server's
        snapshot requests (from another thread) use them as they are."""
        from connect_state.handlers import board_changes

        lambda_: Any = session.client("lambda", endpoint_url=endpoint_url, config=client_config())
        streams: Any = session.client("dynamodbstreams", endpoint_url=endpoint_url, config=client_config())
        mappings = {
            m["EventSourceArn"]: m
            for m in lambda_.list_event_source_mappings(FunctionName=board.function_name)["EventSourceMappings"]
        }
        for table in ("AgentStateTableName", "ContactStateTableName"):
            description = self._dynamodb.meta.client.describe_table(TableName=self._outputs[table])["Table"]
            stream_arn = description.get("LatestStreamArn")
            if stream_arn is None:
                continue
            mapping = mappings.get(stream_arn, {})
            self.board_window_seconds = float(mapping.get("MaximumBatchingWindowInSeconds") or 1)
            self.stream_pollers.append(
                DynamoDbStreamPoller(streams, stream_arn, board, batch_size=int(mapping.get("BatchSize") or 100))
            )
        if clock is not None:
            board_changes.dependencies.reset(lambda: board_changes.build(clock=clock))
        with function_environment(board.environment):
            board_changes.dependencies()

    @contextlib.contextmanager
    def _board_call(self) -> Iterator[None]:
        """The DynamoDB requests made meanwhile are the board's (see `_count_dynamodb`)."""
        busy, self._board_busy = self._board_busy, True
        try:
            yield
        finally:
            self._board_busy = busy

    def _set_clock(self, moment_ms: float, end_ms: int | None) -> None:
        if self.clock is not None:
            self.clock.now_ms = max(
                self.clock.now_ms, round(min(moment_ms, end_ms if end_ms is not None else moment_ms))
            )

    @staticmethod
    def _environment(handler: str, environment: Mapping[str, str], publish_url: str | None) -> Mapping[str, str]:
        """The deployed environment; the board function publishes to the local board server instead."""
        if handler != BOARD_HANDLER or publish_url is None:
            return environment
        return {**environment, "CHANNEL_PUBLISH_URL": publish_url, "CHANNEL_PUBLISH_AUTH": "none"}

    # --- delivery ---------------------------------------------------------------------------------------------------
    def _put_agent_records(self, records: list[KinesisDelivery]) -> None:
        for start in range(0, len(records), 500):
            batch = records[start : start + 500]
            entries = [
                {"Data": _kinesis_bytes(record.data), "PartitionKey": record.partition_key or "unknown"}
                for record in batch
            ]
            if entries:
                put_at = time.time()
                self._kinesis.put_records(StreamName=self.stream_name, Records=entries)
                for record in batch:
                    self.puts.put(record.partition_key, put_at)

    def _send_contact_events(self, events: list[EventBridgeDelivery]) -> None:
        batches: dict[str, list[str]] = {}
        for delivery in events:
            queues = self.routes.queues_for(delivery.body)
            if not queues:
                self.filtered_by_rules += 1
            for queue_url in queues:
                batches.setdefault(queue_url, []).append(delivery.body)
        for queue_url, bodies in batches.items():
            for start in range(0, len(bodies), 10):
                batch = bodies[start : start + 10]
                put_at = time.time()
                self._sqs.send_message_batch(
                    QueueUrl=queue_url,
                    Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(batch)],
                )
                for body in batch:
                    self.puts.put(_contact_id(body), put_at)

    def _drain(self) -> None:
        while True:
            moved = self.kinesis_poller.poll()
            moved += sum(poller.poll() for poller in self.sqs_pollers)
            if not moved:
                return

    # --- discovery --------------------------------------------------------------------------------------------------
    def _consumers(
        self, function: Mapping[str, InProcessFunction], with_enrichment: bool
    ) -> list[tuple[str, str, str]]:
        buffer_url = self.routes.buffer_url
        consumers = [(self._queue_arn(buffer_url), buffer_url, CONTACT_HANDLER)]
        if with_enrichment and ENRICHMENT_HANDLER in function:
            pairs = dict(json.loads(function[ENRICHMENT_HANDLER].environment["TRIGGER_QUEUE_URLS"]))
            consumers += [(arn, self._local_url(url), ENRICHMENT_HANDLER) for arn, url in pairs.items()]
        return consumers

    def _subscribe_to_abandoned(self) -> str:
        """A subscriber on the project bus, as a user's callback flow would be: it counts `Contact Abandoned`."""
        bus = self._outputs["ContactAbandonedEventBusName"]
        url = self._sqs.create_queue(QueueName="demo-abandoned-subscriber")["QueueUrl"]
        self._events.put_rule(
            Name="demo-abandoned",
            EventBusName=bus,
            EventPattern=json.dumps({"source": ["connect-realtime-state"], "detail-type": ["Contact Abandoned"]}),
        )
        self._events.put_targets(
            Rule="demo-abandoned", EventBusName=bus, Targets=[{"Id": "subscriber", "Arn": self._queue_arn(url)}]
        )
        return str(url)

    def _local_url(self, url: str) -> str:
        if "amazonaws.com" not in url:
            return url
        return str(self._sqs.get_queue_url(QueueName=url.rsplit("/", 1)[-1])["QueueUrl"])

    def _queue_arn(self, url: str) -> str:
        return str(self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])

    def _queue_depth(self, url: str, delayed: bool = False) -> int:
        name = "ApproximateNumberOfMessagesDelayed" if delayed else "ApproximateNumberOfMessages"
        return int(self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[name])["Attributes"][name])

    def _delay_seconds(self, url: str) -> int:
        attributes = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])["Attributes"]
        return int(attributes["DelaySeconds"])

    def _count_dynamodb(self, **_: Any) -> None:
        """The board's requests (its function, its snapshots from the server's thread) are counted apart: the
        figure per record stays the state pipeline's."""
        if self._board_busy or threading.current_thread() is not threading.main_thread():
            self.board_dynamodb_requests += 1
        else:
            self.dynamodb_requests += 1


@contextlib.contextmanager
def _emulator(out: Path) -> Iterator[LocalAws]:
    """The run's moto server. When it dies or stops answering (the clients' retries spent), the run ends with one
    line, not a botocore traceback: the server is stopped by its process id and its log kept in `out`."""
    with LocalAws() as aws:
        try:
            yield aws
        except (BotoCoreError, EmulatorError) as error:
            raise SystemExit(aws.failure(error, out / "moto.log")) from None


def _kinesis_bytes(data: str) -> bytes:
    """Kinesis carries bytes; Lambda hands them over base64-encoded. A record whose `data` is not valid base64 (the
    simulator's "corrupted record") is put as its text, so the function receives bytes that are not an agent event."""
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return data.encode()


def _contact_id(body: str) -> str | None:
    """The contactId of a contact event body (None for a body that is not one)."""
    try:
        contact_id = json.loads(body)["detail"]["contactId"]
    except (ValueError, KeyError, TypeError):
        return None
    return contact_id if isinstance(contact_id, str) else None


def _scan(table: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    response = table.scan()
    items.extend(response["Items"])
    while "LastEvaluatedKey" in response:
        response = table.scan(ExclusiveStartKey=response["LastEvaluatedKey"])
        items.extend(response["Items"])
    return items


def _read_capture(path: Path) -> Traffic:
    """The capture's records; their arrival times too when every line has the simulator's `deliveredAt`."""
    deliveries: list[KinesisDelivery | EventBridgeDelivery] = []
    arrivals: list[int] | None = []
    instances: set[str] = set()
    for number, line in enumerate(_capture_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            delivery = parse_line(line)
        except ValueError as error:
            raise SystemExit(f"{path}:{number}: {error}") from None
        deliveries.append(delivery)
        instances.update(_instance_of(delivery))
        if arrivals is not None:
            arrivals = _with_arrival(arrivals, line)
    if not instances:
        raise SystemExit(f"{path}: no agent event or contact event names its Amazon Connect instance")
    if arrivals is not None and arrivals != sorted(arrivals):
        arrivals = None  # not in delivery order: delivered as fast as possible, as a capture of real traffic is
    return Traffic(deliveries, sorted(instances), arrivals)


def _with_arrival(arrivals: list[int], line: str) -> list[int] | None:
    """`arrivals` with the line's `deliveredAt` (epoch ms); None when the line has none."""
    try:
        delivered_at = json.loads(line).get("deliveredAt")
        arrivals.append(epoch_ms(datetime.fromisoformat(str(delivered_at).replace("Z", "+00:00"))))
    except (ValueError, AttributeError):
        return None
    return arrivals


def _capture_text(path: Path) -> str:
    """The capture's text; a file that is missing, unreadable or not text ends the run with one line."""
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as error:
        raise SystemExit(f"error: cannot read the capture {path}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        raise SystemExit(f"error: cannot read the capture {path}: not UTF-8 text (line {line})") from None


def _instance_of(delivery: KinesisDelivery | EventBridgeDelivery) -> Iterable[str]:
    try:
        if isinstance(delivery, EventBridgeDelivery):
            arn = json.loads(delivery.body)["detail"]["instanceArn"]
        else:
            arn = json.loads(_kinesis_bytes(delivery.data))["InstanceARN"]
    except (ValueError, KeyError, TypeError):
        return []
    return [arn] if isinstance(arn, str) else []


def _progress(done: int, total: int, clock: str = "") -> None:
    width = 40
    filled = round(width * done / total) if total else width
    end = "\n" if done >= total else ""
    at = f"  simulated {clock}" if clock else ""
    print(f"\r  delivering [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}{at}", end=end, flush=True)


def closing_lines(figures: Figures) -> list[str]:
    """The run's figures in words, after the wallboard (summary.json keeps them as data)."""
    rate = figures.deliveries / figures.seconds if figures.seconds else 0.0
    per_event = figures.dynamodb_requests / figures.deliveries if figures.deliveries else 0.0
    invocations = ", ".join(f"{name.replace('_', ' ')} {count:,}" for name, count in figures.invocations.items())
    retried = (
        f"{figures.failed_messages:,} messages handed back by a function to be retried (see functions.log)"
        if figures.failed_messages
        else "no message was handed back to retry"
    )
    how = (
        f"paced at {figures.speed:g} simulated seconds a second; --speed 0 measures the emulator's own"
        if figures.speed
        else "put, polled and handled through the emulator, one invocation at a time"
    )
    lines = [
        f"throughput: {figures.deliveries:,} records in {figures.seconds:.1f} s = {rate:,.0f} records/s ({how})",
        f"DynamoDB requests: {figures.dynamodb_requests:,} = {per_event:.2f} per record "
        f"(state writes, enrichment reads, call slots); DescribeContact calls: {figures.describe_contact_calls:,}",
        f"function invocations: {invocations}; {retried}",
    ]
    if figures.waiting_in_delay_queue:
        lines.append(
            f"enrichment fallbacks not yet due: {figures.waiting_in_delay_queue:,} (each disconnected contact is "
            f"looked at again {figures.fallback_delay_seconds // 60} min after it disconnected, and enriched then "
            "only if COMPLETED has not done it; the demo ends before that)"
        )
    return lines


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m demo.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=25)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--replay", help="a JSONL capture to replay instead of simulating")
    parser.add_argument("--truth", help="ground truth of the capture (default: <capture>.truth.json when it exists)")
    parser.add_argument("--chunk", type=int, default=500, help="records delivered between two drains of the queues")
    parser.add_argument(
        "--speed",
        type=float,
        default=DEFAULT_SPEED,
        help=f"simulated seconds per real second (default {DEFAULT_SPEED:g}); 0: as fast as the emulator goes",
    )
    parser.add_argument(
        "--serve-seconds",
        type=float,
        default=DEFAULT_SERVE_SECONDS,
        help=f"keep serving the wallboard this long after the simulation (default {DEFAULT_SERVE_SECONDS:g}); 0: exit",
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="do not open the wallboard in headless Chromium (figures: snapshot)"
    )
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="where the functions' logs and summary.json go")
    return parser


if __name__ == "__main__":
    sys.exit(main())
