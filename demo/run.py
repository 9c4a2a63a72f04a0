"""`make demo`: the whole product on a laptop, no AWS account.

    .venv/bin/python -m demo.run [--agents 25 --minutes 30 --seed 7]      # a simulated contact centre
    .venv/bin/python -m demo.run --replay capture.jsonl                     # a captured day (make replay FILE=...)

1. simulate a contact centre (demo.simulate), or read a capture (one Kinesis record or EventBridge event per line);
2. start moto's server on localhost and `cdk bootstrap` + `cdk deploy` the real stack into it (demo.emulator);
3. deliver the traffic as AWS would: agent events are put on the deployed Kinesis stream and read back in Lambda
   batches; each contact event is sent to the queues of the deployed EventBridge rules it matches (the original event,
   id and all: demo.event_routing); the deployed functions' handlers run in-process with the deployment's environment
   (demo.lambda_runner stands in for Lambda, which moto cannot run) and DescribeContact is answered by the simulator;
4. print a wallboard from the tables, the agreement of every item with the simulator's ground truth, throughput and
   DynamoDB requests per event; stop the server.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError

from demo import wallboard
from demo.contact_centre import SimulationConfig
from demo.describe_contact import SimulatedConnect
from demo.emulator import CREDENTIALS, EmulatorError, LocalAws, client_config, deploy_stack, function_environments
from demo.event_routing import Routes
from demo.ground_truth import GroundTruth, compare
from demo.lambda_runner import (
    REGION,
    InProcessFunction,
    KinesisPoller,
    SqsPoller,
    answer_describe_contact_with,
    on_each_function_call,
    prepare_process,
    send_function_logs_to,
)
from demo.simulate import EventBridgeDelivery, KinesisDelivery, generate, parse_line, truth_path_for

REPO = Path(__file__).resolve().parents[1]
AGENT_HANDLER = "connect_state.handlers.agent_events.lambda_handler"
CONTACT_HANDLER = "connect_state.handlers.contact_events.lambda_handler"
ENRICHMENT_HANDLER = "connect_state.handlers.enrichment.lambda_handler"
# The emulated Connect has no API quota; at the production default (5/s) enrichment alone would take minutes.
DEMO_ENRICHMENT_RATE = 100
DEFAULT_OUT = REPO / "build" / "demo"


@dataclass
class Traffic:
    """What to deliver, in order: agent records (base64 data + partition key) and contact event bodies."""

    deliveries: list[KinesisDelivery | EventBridgeDelivery]
    instance_arns: list[str]


@dataclass
class Figures:
    deliveries: int = 0
    seconds: float = 0.0
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
    else:
        run = generate(SimulationConfig(agents=args.agents, minutes=args.minutes, seed=args.seed))
        traffic = Traffic(
            [parse_line(delivery.to_jsonl()) for delivery in run.deliveries], [run.simulation.instance.arn]
        )
        truth = run.truth
        connect = SimulatedConnect(run.simulation)
        print(run.summary(), flush=True)

    context = {
        "connectInstanceArn": json.dumps(traffic.instance_arns),
        "tracing": "false",
        # Offline, only the simulator can answer DescribeContact: a real capture is replayed without enrichment.
        "enrichment": json.dumps({"enabled": connect is not None, "ratePerSecond": DEMO_ENRICHMENT_RATE}),
    }
    with _emulator(out) as aws:
        print(f"moto server on {aws.endpoint_url} (pid {aws.pid}); cdk bootstrap + cdk deploy ...", flush=True)
        deploy_started = time.monotonic()
        outputs = deploy_stack(aws.endpoint_url, context)
        print(f"deployed in {time.monotonic() - deploy_started:.1f} s", flush=True)
        pipeline = Pipeline(aws.endpoint_url, outputs, out / "functions.log", connect)
        figures = pipeline.deliver(traffic.deliveries, chunk=args.chunk, progress=_progress)
        agents, contacts = pipeline.items()
        print()
        print(wallboard.build(agents, contacts, pipeline.queue_names()).render(), flush=True)
        if truth is not None:
            agreement = compare(truth, [*agents, *contacts], include_enrichment=connect is not None)
            figures.agreement = {"percent": agreement.percent, "summary": str(agreement), "perfect": agreement.perfect}
            print(agreement.report() if not agreement.perfect else f"ground truth: {agreement}")
            expected = {"agent": truth.quarantined.get("agent", 0), "contact": truth.quarantined.get("contact", 0)}
            print(
                f"bad records: agent {figures.quarantined['agent']} quarantined (expected {expected['agent']}); "
                f"contact {figures.quarantined['contact']} quarantined + {figures.filtered_by_rules} with another "
                f"detail-type or source, which no rule delivers (expected {expected['contact']} in all)"
            )
            print(f"Contact Abandoned published: {figures.abandoned_published} (expected {truth.abandoned_published})")
        print("\n".join(closing_lines(figures)))
        figures.server_pid = aws.pid
    print(f"moto server (pid {figures.server_pid}) stopped; {time.monotonic() - started:.1f} s in all; logs in {out}")
    (out / "summary.json").write_text(json.dumps(figures.__dict__, indent=1, default=str) + "\n")
    if truth is not None and not figures.agreement.get("perfect"):
        return 1
    return 0


class Pipeline:
    """The deployed stack, driven in-process: the functions run as demo.lambda_runner sets them up, contact events
    routed by the deployed rules (demo.event_routing), pollers in Lambda's place, and the counters."""

    def __init__(
        self, endpoint_url: str, outputs: Mapping[str, str], log_path: Path, connect: SimulatedConnect | None
    ) -> None:
        self._outputs = outputs
        functions = function_environments(endpoint_url)
        prepare_process(endpoint_url)
        self.dynamodb_requests = 0
        self.filtered_by_rules = 0
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
            handler: InProcessFunction(handler, f.environment, f.function_name, self._log)
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

    def deliver(
        self,
        deliveries: Sequence[KinesisDelivery | EventBridgeDelivery],
        chunk: int,
        progress: Callable[[int, int], None],
    ) -> Figures:
        figures = Figures(deliveries=len(deliveries))
        started = time.monotonic()
        for start in range(0, len(deliveries), chunk):
            part = deliveries[start : start + chunk]
            self._put_agent_records([d for d in part if isinstance(d, KinesisDelivery)])
            self._send_contact_events([d for d in part if isinstance(d, EventBridgeDelivery)])
            self._drain()
            progress(min(start + chunk, len(deliveries)), len(deliveries))
        figures.seconds = time.monotonic() - started
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

    # --- delivery ---------------------------------------------------------------------------------------------------
    def _put_agent_records(self, records: list[KinesisDelivery]) -> None:
        for start in range(0, len(records), 500):
            entries = [
                {"Data": _kinesis_bytes(record.data), "PartitionKey": record.partition_key or "unknown"}
                for record in records[start : start + 500]
            ]
            if entries:
                self._kinesis.put_records(StreamName=self.stream_name, Records=entries)

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
                self._sqs.send_message_batch(
                    QueueUrl=queue_url,
                    Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[start : start + 10])],
                )

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


def _scan(table: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    response = table.scan()
    items.extend(response["Items"])
    while "LastEvaluatedKey" in response:
        response = table.scan(ExclusiveStartKey=response["LastEvaluatedKey"])
        items.extend(response["Items"])
    return items


def _read_capture(path: Path) -> Traffic:
    deliveries: list[KinesisDelivery | EventBridgeDelivery] = []
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
    if not instances:
        raise SystemExit(f"{path}: no agent event or contact event names its Amazon Connect instance")
    return Traffic(deliveries, sorted(instances))


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


def _progress(done: int, total: int) -> None:
    width = 40
    filled = round(width * done / total) if total else width
    end = "\n" if done >= total else ""
    print(f"\r  delivering [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}", end=end, flush=True)


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
    lines = [
        f"throughput: {figures.deliveries:,} records in {figures.seconds:.1f} s = {rate:,.0f} records/s "
        "(put, polled and handled through the emulator, one invocation at a time)",
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
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="where the functions' logs and summary.json go")
    return parser


if __name__ == "__main__":
    sys.exit(main())
