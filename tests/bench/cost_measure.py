"""What the stack does for one simulated hour of a contact centre, counted request by request: the input of `make cost`.

The simulator (demo.simulate) writes an hour of agent and contact events; they are cut into the invocations Lambda
would make, using the batch sizes, batching windows, rules and delay of the synthesized template, and each
invocation runs the real handler in-process against moto (DynamoDB, SQS, EventBridge; DescribeContact is the
simulator's). Hooks on boto3 count every request the functions make, the DynamoDB units each one costs (from the
items before and after it, see tests.bench.dynamodb_units), the log bytes the functions write and the time they
spend outside AWS calls.

Not a Lambda emulator: one invocation at a time, in the order Lambda would make them; a message the function reports
as failed comes back a minute later (Kinesis: at once, from the first failed record).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import itertools
import json
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from demo.contact_centre import DEFAULT_INSTANCE_ARN, SimulationConfig, shard_of
from demo.event_routing import matches
from demo.lambda_shapes import function_environment, sqs_record
from demo.simulate import AGENT, Disorder, Run, generate
from ops.kinesis_events import StreamRecord, lambda_record
from tests.bench import dynamodb_units

REGION = "eu-west-2"
ACCOUNT = "123456789012"
AGENT_FUNCTION, CONTACT_FUNCTION, ENRICHMENT_FUNCTION = "agent_events", "contact_events", "enrichment"
# An on-demand stream starts with 4 shards (4 MB/s); at these rates it never needs more.
ON_DEMAND_SHARDS = 4
CONTACT_INDEX_KEYS = (("queueArn", "queuedSince"), ("agentArn", "connectedToAgentTimestamp"))
TABLES = {"agent-state": "AgentState", "contact-state": "ContactState", "call-slots": "CallSlots"}
RETRY_DELAY_MS = 60_000
_MESSAGE_NUMBERS = itertools.count(1)


# --- the stack's settings, read from its template --------------------------------------------------------------------
@dataclass(frozen=True)
class EventSource:
    function: str
    queue: str | None  # "buffer" / "completed" / "disconnected"; None for the Kinesis stream
    batch_size: int
    window_ms: int
    max_concurrency: int | None


@dataclass(frozen=True)
class StackFacts:
    """What decides the bill, as synthesized: functions, event sources, rules, alarms, dashboards, the stream."""

    memory_mb: dict[str, int]
    tracing: dict[str, bool]
    sources: list[EventSource]
    rules: list[tuple[dict[str, Any], str]]  # (event pattern, target queue)
    archive_pattern: dict[str, Any] | None
    queue_delay_ms: dict[str, int]
    alarms: int
    dashboards: int
    creates_stream: bool
    log_retention_days: int
    queues: int
    tables: int


def stack_facts(context: Mapping[str, Any] | None = None) -> StackFacts:
    """Synthesize the stack (the documented example's settings, the simulator's instance); read its settings."""
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from stacks.app_factory import build_app
    from stacks.config import example_context

    settings = {"aws:cdk:enable-path-metadata": True, "connectInstanceArn": DEFAULT_INSTANCE_ARN, **(context or {})}
    app = cdk.App(context=example_context(**settings))
    return facts_from_resources(Template.from_stack(build_app(app)).to_json()["Resources"])


def facts_from_resources(resources: Mapping[str, dict[str, Any]]) -> StackFacts:
    """The settings that decide the bill, read from a synthesized template's resources (with path metadata)."""

    def of_type(kind: str) -> dict[str, dict[str, Any]]:
        return {key: value for key, value in resources.items() if value["Type"] == kind}

    queue_roles = {}
    for key, queue in of_type("AWS::SQS::Queue").items():
        path = queue["Metadata"]["aws:cdk:path"]
        for role, part in (
            ("buffer", "/Buffer/"),
            ("completed", "/CompletedQueue/"),
            ("disconnected", "/Disconnected"),
        ):
            if part in path:
                queue_roles[key] = role
    functions = {key: f["Properties"]["Handler"].split(".")[-2] for key, f in of_type("AWS::Lambda::Function").items()}
    sources = []
    for mapping in of_type("AWS::Lambda::EventSourceMapping").values():
        properties = mapping["Properties"]
        source = properties["EventSourceArn"]
        queue_key = source["Fn::GetAtt"][0] if isinstance(source, dict) and "Fn::GetAtt" in source else None
        sources.append(
            EventSource(
                function=functions[properties["FunctionName"]["Ref"]],
                queue=queue_roles.get(queue_key) if queue_key else None,
                batch_size=int(properties.get("BatchSize", 10)),
                window_ms=int(properties.get("MaximumBatchingWindowInSeconds", 0)) * 1000,
                max_concurrency=properties.get("ScalingConfig", {}).get("MaximumConcurrency"),
            )
        )
    rules = []
    for rule in of_type("AWS::Events::Rule").values():
        for target in rule["Properties"].get("Targets", []):
            arn = target["Arn"]
            if isinstance(arn, dict) and arn.get("Fn::GetAtt", [None])[0] in queue_roles:
                rules.append((rule["Properties"]["EventPattern"], queue_roles[arn["Fn::GetAtt"][0]]))
    archives = list(of_type("AWS::Events::Archive").values())
    retention = {g["Properties"].get("RetentionInDays", 0) for g in of_type("AWS::Logs::LogGroup").values()}
    return StackFacts(
        memory_mb={
            functions[k]: int(f["Properties"]["MemorySize"]) for k, f in of_type("AWS::Lambda::Function").items()
        },
        tracing={
            functions[k]: f["Properties"].get("TracingConfig", {}).get("Mode") == "Active"
            for k, f in of_type("AWS::Lambda::Function").items()
        },
        sources=sources,
        rules=rules,
        archive_pattern=archives[0]["Properties"]["EventPattern"] if archives else None,
        queue_delay_ms={
            role: int(resources[key]["Properties"].get("DelaySeconds", 0)) * 1000 for key, role in queue_roles.items()
        },
        alarms=len(of_type("AWS::CloudWatch::Alarm")),
        dashboards=len(of_type("AWS::CloudWatch::Dashboard")),
        creates_stream=bool(of_type("AWS::Kinesis::Stream")),
        log_retention_days=max(retention),
        queues=len(of_type("AWS::SQS::Queue")),
        tables=len(of_type("AWS::DynamoDB::GlobalTable")),
    )


# --- the invocations Lambda would make -------------------------------------------------------------------------------
@dataclass
class Invocation:
    at_ms: int
    function: str
    source: str  # "stream" or the queue
    records: list[dict[str, Any]]


@dataclass
class Traffic:
    """What reaches the stack: Kinesis records and bytes, EventBridge deliveries per queue, archived bytes."""

    agent_records: int = 0
    kinesis_billed_kb: int = 0  # each record's data + partition key, rounded up to 1 KB as on-demand bills it
    contact_events: int = 0
    deliveries: Counter[str] = field(default_factory=Counter)  # per queue
    archived_bytes: int = 0
    invocations: list[Invocation] = field(default_factory=list)


def plan(run: Run, facts: StackFacts) -> Traffic:
    traffic = Traffic()
    stream_source = next(s for s in facts.sources if s.queue is None)
    by_shard: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    queued: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for delivery in run.deliveries:
        line = delivery.line
        if delivery.kind == AGENT:
            data = _kinesis_bytes(line["data"])
            traffic.agent_records += 1
            traffic.kinesis_billed_kb += -(-(len(data) + len(line["partitionKey"].encode())) // 1024)
            shard = shard_of(line["partitionKey"], ON_DEMAND_SHARDS)
            by_shard[(delivery.arrival_ms, shard)].append(_kinesis_record(line, data, shard))
            continue
        traffic.contact_events += 1
        event = line["event"]
        body = event if isinstance(event, str) else json.dumps(event)
        if not isinstance(event, dict):  # a corrupted message can only be one already on the buffer queue
            targets = ["buffer"]
        else:
            targets = [queue for pattern, queue in facts.rules if matches(pattern, event)]
            if facts.archive_pattern is not None and matches(facts.archive_pattern, event):
                traffic.archived_bytes += len(body.encode())
        for queue in targets:
            traffic.deliveries[queue] += 1
            queued[queue].append((delivery.arrival_ms + facts.queue_delay_ms.get(queue, 0), _sqs_record(body, queue)))
    # Lambda reads a shard in batches of records that arrived together (the simulator models its batching window).
    for (arrival, shard), records in sorted(by_shard.items()):
        for start in range(0, len(records), stream_source.batch_size):
            batch = records[start : start + stream_source.batch_size]
            traffic.invocations.append(Invocation(arrival, AGENT_FUNCTION, f"shard-{shard}", batch))
    for source in facts.sources:
        if source.queue is not None:
            traffic.invocations += _sqs_batches(queued[source.queue], source)
    traffic.invocations.sort(key=lambda invocation: invocation.at_ms)
    return traffic


def _sqs_batches(messages: list[tuple[int, dict[str, Any]]], source: EventSource) -> Iterator[Invocation]:
    """A batch starts with the first visible message and closes when full or when its batching window ends."""
    messages = sorted(messages, key=lambda message: message[0])
    index = 0
    while index < len(messages):
        opened = messages[index][0]
        batch = [messages[index][1]]
        index += 1
        while (
            index < len(messages) and len(batch) < source.batch_size and messages[index][0] <= opened + source.window_ms
        ):
            batch.append(messages[index][1])
            index += 1
        closed = messages[index - 1][0] if len(batch) == source.batch_size else opened + source.window_ms
        yield Invocation(closed, source.function, str(source.queue), batch)


def _kinesis_bytes(data: str) -> bytes:
    """The simulator's "invalid base64" record stands for bytes that are not an agent event (as in demo.run)."""
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return data.encode()


def _kinesis_record(line: Mapping[str, Any], data: bytes, shard: int) -> dict[str, Any]:
    record = StreamRecord(
        f"shardId-{shard:012d}", line["sequenceNumber"], line["partitionKey"], data, datetime.fromtimestamp(0, UTC)
    )
    stream_arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/agent-events"
    return lambda_record(record, stream_arn, f"arn:aws:iam::{ACCOUNT}:role/agent-events")


def _sqs_record(body: str, queue: str) -> dict[str, Any]:
    return sqs_record(
        body,
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}",
        message_id=f"{queue}-{next(_MESSAGE_NUMBERS)}",
        receipt_handle="handle",
        attributes={"ApproximateReceiveCount": "1"},
    )


# --- counting what the functions do -------------------------------------------------------------------------------
@dataclass
class FunctionUsage:
    invocations: int = 0
    records: int = 0
    requests: Counter[str] = field(default_factory=Counter)  # "service:Operation"
    write_units: Counter[str] = field(default_factory=Counter)  # per table, indexes included
    read_units: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    events_published: int = 0  # PutEvents entries (custom events)
    describe_contact_calls: int = 0
    log_bytes: int = 0  # Powertools log lines and EMF metric lines
    busy_seconds: float = 0.0  # CPU time in the handler outside AWS calls (moto's own work excluded)
    failed_records: int = 0


@dataclass
class Measurement:
    agents: int
    minutes: float
    seed: int
    traffic: Traffic
    usage: dict[str, FunctionUsage]
    metric_series: set[tuple[str, str, str]]  # (namespace, dimensions, metric): one custom metric each
    table_bytes: dict[str, int]  # items' size + 100 bytes each (DynamoDB's storage rule), the table alone
    index_bytes: dict[str, int]  # the same for the copies its global secondary indexes keep
    table_items: dict[str, int]
    contacts: int
    init_seconds: dict[str, float]  # importing each handler module in a fresh interpreter: a cold start's work

    @property
    def agent_hours(self) -> float:
        return self.agents * self.minutes / 60


class Recorder:
    """botocore hooks on the default session: every request the functions make, attributed to the current one."""

    def __init__(self, usage: dict[str, FunctionUsage], inspector: Any) -> None:
        self.usage = usage
        self.current = AGENT_FUNCTION
        self.in_aws = 0.0  # CPU time spent in AWS calls (moto, in this process) during the current invocation
        self._inspector = inspector  # a DynamoDB client of another session: its requests are not counted
        self._started: list[tuple[float, dict[str, Any], Any]] = []  # a call in progress: CPU clock, params, item

    def before(self, model: Any, params: Mapping[str, Any], **_: Any) -> None:
        started = time.process_time()
        service = model.service_model.service_name
        before = self._item(model.name, params) if service == "dynamodb" else None
        self._started.append((started, dict(params), before))

    def after(self, model: Any, **_: Any) -> None:
        started, params, before = self._started.pop()
        usage = self.usage[self.current]
        service = model.service_model.service_name
        usage.requests[f"{service}:{model.name}"] += 1
        if service == "dynamodb":
            self._units(usage, model.name, params, before)
        if service == "events" and model.name == "PutEvents":
            usage.events_published += len(params.get("Entries", []))
        self.in_aws += time.process_time() - started

    def _units(self, usage: FunctionUsage, operation: str, params: Mapping[str, Any], before: Any) -> None:
        table = TABLES.get(params.get("TableName", ""), params.get("TableName", ""))
        if operation == "GetItem":
            usage.read_units[table] += dynamodb_units.read_units(before, consistent=bool(params.get("ConsistentRead")))
            return
        after = self._item(operation, params)
        usage.write_units[table] += dynamodb_units.write_units(before, after)
        if table == "ContactState":
            usage.write_units[table] += dynamodb_units.index_write_units(before, after, CONTACT_INDEX_KEYS)

    def _item(self, operation: str, params: Mapping[str, Any]) -> Any:
        if operation not in ("GetItem", "UpdateItem", "PutItem"):
            return None
        key = params.get("Key") or _key_of(params.get("TableName", ""), params.get("Item", {}))
        return self._inspector.get_item(TableName=params["TableName"], Key=key, ConsistentRead=True).get("Item")


def _key_of(table: str, item: Mapping[str, Any]) -> dict[str, Any]:
    name = {"agent-state": "agentArn", "contact-state": "contactId", "call-slots": "slot"}[table]
    return {name: item[name]}


class _Bytes(io.TextIOBase):
    """A text stream that only counts what is written to it (and keeps EMF metric definitions)."""

    def __init__(self, counted: Callable[[str], None]) -> None:
        self._counted = counted

    def write(self, text: str) -> int:
        self._counted(text)
        return len(text)


# --- the run --------------------------------------------------------------------------------------------------------
def measure(agents: int, minutes: float, seed: int = 7, facts: StackFacts | None = None) -> Measurement:
    """Simulate `agents` for `minutes`, run every invocation through moto, and count what it cost."""
    import boto3
    from moto import mock_aws

    facts = facts or stack_facts()
    run = generate(SimulationConfig(agents=agents, minutes=minutes, seed=seed), replace(Disorder(), shards=4))
    traffic = plan(run, facts)
    usage = {name: FunctionUsage() for name in (AGENT_FUNCTION, CONTACT_FUNCTION, ENRICHMENT_FUNCTION)}
    series: set[tuple[str, str, str]] = set()
    with _fake_aws_environment(), _restored_process_state(), mock_aws():
        boto3.setup_default_session(region_name=REGION)
        inspector = boto3.Session(region_name=REGION).client("dynamodb")
        environments = _create_resources(facts)
        recorder = Recorder(usage, inspector)
        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION.events.register("before-parameter-build", recorder.before)
        boto3.DEFAULT_SESSION.events.register("after-call", recorder.after)
        clock = _SimulatedClock(run.simulation.start_ms)
        handlers = _handlers(run, clock, recorder, series)
        pending = list(traffic.invocations)
        while pending:
            invocation = pending.pop(0)
            clock.now_ms = invocation.at_ms
            recorder.current = invocation.function
            retry = _invoke(handlers[invocation.function], environments[invocation.function], invocation, recorder)
            if retry is not None:
                pending.append(retry)
                pending.sort(key=lambda later: later.at_ms)
        usage[ENRICHMENT_FUNCTION].describe_contact_calls = handlers["connect"].calls
        table_bytes, index_bytes, table_items = _table_sizes(inspector)
    return Measurement(
        agents,
        minutes,
        seed,
        traffic,
        usage,
        series,
        table_bytes,
        index_bytes,
        table_items,
        len(run.simulation.contacts),
        {name: _import_seconds(name) for name in usage},
    )


def _invoke(
    handler: Callable[[dict[str, Any], Any], dict[str, Any]],
    environment: Mapping[str, str],
    invocation: Invocation,
    recorder: Recorder,
) -> Invocation | None:
    """One invocation; returns the retry Lambda would make of the records the function reported as failed."""
    from demo.lambda_shapes import FakeLambdaContext

    usage = recorder.usage[invocation.function]
    usage.invocations += 1
    usage.records += len(invocation.records)
    recorder.in_aws = 0.0
    started = time.process_time()  # CPU time: what the work costs, however busy this machine is
    with function_environment(environment):
        response = handler({"Records": invocation.records}, FakeLambdaContext.in_demo(invocation.function))
    usage.busy_seconds += time.process_time() - started - recorder.in_aws
    failed = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
    if not failed:
        return None
    usage.failed_records += len(failed)
    if invocation.source.startswith("shard-"):  # Lambda's checkpoint: again from the first failed record
        first = min(int(sequence) for sequence in failed)
        again = [r for r in invocation.records if int(r["kinesis"]["sequenceNumber"]) >= first]
        return replace(invocation, records=again)
    again = []
    for record in invocation.records:
        if record["messageId"] in failed:
            count = int(record["attributes"]["ApproximateReceiveCount"]) + 1
            if count <= 5:
                again.append({**record, "attributes": {**record["attributes"], "ApproximateReceiveCount": str(count)}})
    return replace(invocation, at_ms=invocation.at_ms + RETRY_DELAY_MS, records=again) if again else None


@contextlib.contextmanager
def _restored_process_state() -> Iterator[None]:
    """The run replaces the default boto3 session, the log stream and the enrichment's DescribeContact client, and
    fills the handlers' per-container caches: all put back afterwards, so a test process can go on."""
    import importlib

    import boto3

    from connect_state.observability import logger

    session = boto3.DEFAULT_SESSION
    handler: Any = logger.registered_handler
    stream = handler.stream
    try:
        yield
    finally:
        boto3.DEFAULT_SESSION = session
        handler.setStream(stream)
        for name in (AGENT_FUNCTION, CONTACT_FUNCTION, ENRICHMENT_FUNCTION):
            _new_container(importlib.import_module(f"connect_state.handlers.{name}"))


def _new_container(module: Any) -> None:
    """A fresh container: the handler's dependency factory forgets its configuration, clients and caches, and
    builds them its own way again."""
    module.dependencies.reset()


class _SimulatedClock:
    def __init__(self, start_ms: int) -> None:
        self.now_ms = start_ms

    def __call__(self) -> datetime:
        return datetime.fromtimestamp(self.now_ms / 1000, tz=UTC)


def _handlers(
    run: Run, clock: _SimulatedClock, recorder: Recorder, series: set[tuple[str, str, str]]
) -> dict[str, Any]:
    """The three handlers, each a fresh "container"; DescribeContact answered by the simulator at the invocation's
    simulated time; log and EMF lines counted per function."""
    import importlib

    from connect_state.adapters.contact_api import ConnectContactApi
    from connect_state.observability import logger
    from demo.describe_contact import SimulatedConnect

    def count(text: str) -> None:
        recorder.usage[recorder.current].log_bytes += len(text.encode())
        for line in text.splitlines():
            if '"_aws"' in line:
                for definition in json.loads(line)["_aws"]["CloudWatchMetrics"]:
                    for metric in definition["Metrics"]:
                        series.add((definition["Namespace"], json.dumps(definition["Dimensions"]), metric["Name"]))

    stream = _Bytes(count)
    logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]
    handlers: dict[str, Any] = {}
    for name in (AGENT_FUNCTION, CONTACT_FUNCTION, ENRICHMENT_FUNCTION):
        module = importlib.import_module(f"connect_state.handlers.{name}")
        _new_container(module)

        def handler(event: dict[str, Any], context: Any, *, _module: Any = module) -> dict[str, Any]:
            with contextlib.redirect_stdout(stream):  # EMF metric lines go to stdout, then CloudWatch Logs
                return _module.lambda_handler(event, context)  # type: ignore[no-any-return]

        handlers[name] = handler
    connect = SimulatedConnect(run.simulation, clock=clock)
    api = ConnectContactApi(connect)  # type: ignore[arg-type]
    enrichment: Any = importlib.import_module(f"connect_state.handlers.{ENRICHMENT_FUNCTION}")
    enrichment.dependencies.reset(lambda: enrichment.build(api=api))
    handlers["connect"] = connect
    return handlers


@contextlib.contextmanager
def _fake_aws_environment() -> Iterator[None]:
    names = {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "cost",
        "AWS_SECRET_ACCESS_KEY": "cost",
        "MOTO_ACCOUNT_ID": ACCOUNT,
        "POWERTOOLS_SERVICE_NAME": "connect-realtime-state",
        "POWERTOOLS_METRICS_NAMESPACE": "ConnectRealtimeState",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here; traces are priced from invocations
    }
    with function_environment(names):
        yield


def _create_resources(facts: StackFacts) -> dict[str, dict[str, str]]:
    """The tables (key schemas and indexes as the stack creates them), queues and bus; each function's environment."""
    from tests.integration.conftest import create_agent_pipeline, create_contact_pipeline, create_enrichment_resources

    agents = create_agent_pipeline()
    contacts = create_contact_pipeline()
    urls = create_enrichment_resources()
    common = {"STATE_TTL_DAYS": "90"}
    return {
        AGENT_FUNCTION: {
            **common,
            "AGENT_TABLE_NAME": agents.table_name,
            "QUARANTINE_QUEUE_URL": agents.queue_url,
            "MAX_AGENT_EVENT_BYTES": "131072",
        },
        CONTACT_FUNCTION: {
            **common,
            "CONTACT_TABLE_NAME": contacts.table_name,
            "QUARANTINE_QUEUE_URL": contacts.quarantine_url,
            "EVENT_BUS_NAME": "contact-state-events",
        },
        ENRICHMENT_FUNCTION: {
            **common,
            "CONTACT_TABLE_NAME": contacts.table_name,
            "CALL_SLOTS_TABLE_NAME": "call-slots",
            "DEAD_LETTER_QUEUE_URL": urls["dlq"],
            "TRIGGER_QUEUE_URLS": json.dumps(
                [[f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}", urls[name]] for name in ("completed", "disconnected")]
            ),
            # The simulated hour is replayed faster than real time: a production rate would only add waiting.
            "RATE_PER_SECOND": "100",
            "MAX_ATTEMPTS": "8",
            "NOT_FOUND_ATTEMPTS": "5",
        },
    }


def _table_sizes(client: Any) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Bytes of each table and of its indexes at the end, as DynamoDB bills storage (item size + 100 bytes)."""
    table_bytes: dict[str, int] = {}
    index_bytes: dict[str, int] = {}
    items: dict[str, int] = {}
    for table, name in TABLES.items():
        found = []
        for page in client.get_paginator("scan").paginate(TableName=table):
            found.extend(page["Items"])
        sizes = [dynamodb_units.item_size(item) + 100 for item in found]
        table_bytes[name] = sum(sizes)
        index_bytes[name] = sum(
            size
            for item, size in zip(found, sizes, strict=True)
            for partition, sort in CONTACT_INDEX_KEYS
            if name == "ContactState" and partition in item and sort in item
        )
        items[name] = len(found)
    return table_bytes, index_bytes, items


def _import_seconds(function: str) -> float:
    """What a cold start does before the first invocation: import the handler module (fresh interpreter)."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import time; t = time.process_time(); "
        f"import connect_state.handlers.{function}; print(time.process_time() - t)"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(root / "lambdas")},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout)
