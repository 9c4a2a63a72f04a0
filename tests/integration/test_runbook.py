"""The README's "Operations" runbook, executed: every command it shows is run here against the real stack deployed
into the emulator (demo/emulator.py), and the README shows exactly these commands.

Each `make ...` command is expanded with `make -n` and the ops module it names is run in this process with those
arguments, against the emulator. Two AWS calls cannot run on the emulator; for those the call's parameters are
checked against botocore's service model instead (README says so too):
- lambda:Invoke (moto runs functions only in Docker): the agent events handler runs in-process with the deployed
  function's environment, behind the replay tool's invoker port; tests/unit/test_ops_replay.py checks the Invoke call;
- sqs:StartMessageMoveTask / ListMessageMoveTasks (not in moto 5.2.5): answered here, after botocore built the request.
"""

from __future__ import annotations

import importlib
import json
import re
import shlex
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from connect_state.adapters.quarantine import SqsQuarantine
from connect_state.handlers import agent_events, contact_events
from connect_state.service.ports import QuarantinedRecord
from demo.emulator import LocalAws, deploy_stack, function_environments
from demo.lambda_runner import DEMO_ROLE
from demo.lambda_shapes import function_environment, received_sqs_record
from ops.kinesis_events import StreamRecord, lambda_record
from ops.ports import Invocation
from tests.contact_lifecycles import lifecycle
from tests.factories import Snapshot, agent_arn, agent_event, timestamp
from tests.lambda_context import FakeLambdaContext
from tests.service_model import assert_valid_request

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("emulator")]
ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-2"
AGENT_HANDLER = "connect_state.handlers.agent_events.lambda_handler"
CONTACT_HANDLER = "connect_state.handlers.contact_events.lambda_handler"
# The runbook as the README shows it; {...} are the values each test supplies.
RUNBOOK = {
    "replay a range": "make replay-stream FROM={start} TO={end}",
    "replay what Lambda gave up on": "make replay-failed-batches",
    "redrive a queue": "make redrive QUEUE={queue}",
    "put agent records back": "make put-agent-records",
    "replay contacts": "make replay-contacts FROM={start} TO={end}",
    "clear the state": "make clear-state YES=1",
    "rebuild the agent table": "make replay-stream FROM=trim-horizon",
    "rebuild the contact table": "make replay-contacts FROM={start} ENRICH=1",
}


# --- the README -------------------------------------------------------------------------------------------------------


def operations_commands(readme: str) -> list[str]:
    """Every command in the code blocks of the README's Operations section (continuations joined, comments cut)."""
    section = readme.split("\n## Operations\n", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```(?:bash|sh|shell)?\n(.*?)```", section, flags=re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def shape(command: str) -> tuple[str, ...]:
    """A command without its example values: `make replay-stream FROM=... TO=...` -> (make, replay-stream, FROM, TO)."""
    words = shlex.split(command)
    return (*[w for w in words if "=" not in w], *sorted(w.split("=", 1)[0] for w in words if "=" in w))


def test_the_readme_shows_exactly_the_commands_run_here() -> None:
    readme = (ROOT / "README.md").read_text()
    shown = {shape(command): command for command in operations_commands(readme)}
    run_here = {shape(command.format(start="x", end="y", queue="q")) for command in RUNBOOK.values()}
    assert set(shown) == run_here, {
        "shown but not run here": [shown[s] for s in set(shown) - run_here],
        "run here but not shown": sorted(run_here - set(shown)),
    }
    assert "create-event-source-mapping" not in readme


# --- the emulator -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deployed:
    endpoint_url: str
    outputs: dict[str, str]
    environments: dict[str, dict[str, str]]  # by handler


@pytest.fixture(scope="module")
def deployed() -> Iterator[Deployed]:
    with LocalAws() as aws:
        outputs = deploy_stack(aws.endpoint_url)
        functions = function_environments(aws.endpoint_url)
        yield Deployed(aws.endpoint_url, outputs, {h: f.environment for h, f in functions.items()})


HANDLER_MODULES: dict[str, Any] = {AGENT_HANDLER: agent_events, CONTACT_HANDLER: contact_events}


class InProcessFunction:
    """A deployed function's handler run here with the environment the deployment gave it, in a fresh container
    (its configuration and clients are cached per container). Also the replay tool's invoker port."""

    def __init__(self, handler: str, environment: Mapping[str, str]) -> None:
        self._handler = handler
        self._environment = dict(environment)
        self.events: list[dict[str, Any]] = []
        self.new_container()
        module, _, name = handler.rpartition(".")
        self._function: Callable[[dict[str, Any], Any], dict[str, Any]] = getattr(importlib.import_module(module), name)

    def new_container(self) -> None:
        HANDLER_MODULES[self._handler].dependencies.reset()

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        with function_environment(self._environment):
            return self._function(event, FakeLambdaContext())

    def invoke(self, event: Mapping[str, Any]) -> Invocation:
        try:
            return Invocation(self(dict(event)))
        except Exception as error:  # what Lambda reports as FunctionError: Unhandled
            return Invocation({"errorType": type(error).__name__, "errorMessage": str(error)}, "Unhandled")


@dataclass
class Calls:
    """Every AWS call made in this process (the tools' and the in-process handlers'), as botocore built it."""

    made: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # operation -> canned answer

    def operations(self, service: str) -> list[str]:
        return [operation for s, operation, _ in self.made if s == service]

    def params(self, operation: str) -> list[dict[str, Any]]:
        return [params for _, o, params in self.made if o == operation]


@pytest.fixture
def aws(deployed: Deployed, monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    """This process pointed at the emulator, with a fresh default boto3 session whose calls are recorded; the calls
    moto lacks are answered from `Calls.answers`."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", deployed.endpoint_url)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    boto3.setup_default_session(region_name=REGION)
    assert boto3.DEFAULT_SESSION is not None
    calls = Calls()

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.made.append((model.service_model.service_name, model.name, dict(params)))

    def answer(model: Any, **_: Any) -> Any:  # botocore's before-call hook: a (response, parsed) pair short-circuits
        if model.name in calls.answers:
            return AWSResponse(None, 200, {}, None), calls.answers[model.name]  # type: ignore[arg-type]
        return None

    boto3.DEFAULT_SESSION.events.register("before-parameter-build", record)
    boto3.DEFAULT_SESSION.events.register("before-call", answer)
    yield calls
    for module in HANDLER_MODULES.values():
        module.dependencies.reset()


def run(command: str, capsys: pytest.CaptureFixture[str], **injected: Any) -> tuple[int, str]:
    """The command as `make` would run it: its recipe (`make -n`) names an ops module and its arguments; that module's
    main runs here, against the emulator. `injected` stands in for what the emulator cannot do (invoker=...)."""
    words = shlex.split(command)
    assert words[0] == "make", command
    recipe = subprocess.run(
        ["make", "-n", "--no-print-directory", *words[1:]], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    (line,) = [line for line in recipe.splitlines() if line.split(" ", 1)[0].endswith("/python")]
    arguments = shlex.split(line)
    module = arguments[arguments.index("-m") + 1]
    capsys.readouterr()
    code: int = importlib.import_module(module).main(arguments[arguments.index("-m") + 2 :], **injected)
    output = capsys.readouterr()
    return code, output.out + output.err


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


def put_agent_events(stream_arn: str, *events: dict[str, Any]) -> list[str]:
    kinesis = client("kinesis")
    return [
        kinesis.put_record(StreamARN=stream_arn, Data=json.dumps(e).encode(), PartitionKey=e["AgentARN"])[
            "SequenceNumber"
        ]
        for e in events
    ]


def login(agent: str, second: float, status: str = "Available") -> dict[str, Any]:
    return agent_event(agent, "STATE_CHANGE", timestamp(second), Snapshot(status=status), None)


def agent_items(table: str) -> dict[str, dict[str, Any]]:
    items = client("dynamodb").scan(TableName=table)["Items"]
    return {item["agentArn"]["S"]: item for item in items}


def new_agents(count: int) -> list[str]:
    base = uuid.uuid4().int % 10**9
    return [agent_arn(base + n) for n in range(count)]


def live_mapping(stream_arn: str, since: datetime, function: Callable[[dict[str, Any]], dict[str, Any]]) -> int:
    """What the live event source mapping does with new records (demo.lambda_runner's record shape): delivers them."""
    kinesis = client("kinesis")
    delivered = 0
    for shard in kinesis.list_shards(StreamARN=stream_arn)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamARN=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="AT_TIMESTAMP", Timestamp=since
        )["ShardIterator"]
        records = kinesis.get_records(ShardIterator=iterator, Limit=1000, StreamARN=stream_arn)["Records"]
        if records:
            function(
                {
                    "Records": [
                        lambda_record(StreamRecord.from_get_records(shard["ShardId"], r), stream_arn, DEMO_ROLE)
                        for r in records
                    ]
                }
            )
            delivered += len(records)
    return delivered


def between_records() -> datetime:
    """A moment strictly between the records put before and after (arrival times have milliseconds)."""
    time.sleep(0.05)
    moment = datetime.now(UTC)
    time.sleep(0.05)
    return moment


def lambda_changes(calls: Calls) -> list[str]:
    return [o for o in calls.operations("lambda") if not o.startswith(("List", "Get"))]


# --- replay the agent stream ------------------------------------------------------------------------------------------


def test_a_time_range_is_replayed_through_the_function_beside_the_live_mapping(
    deployed: Deployed, aws: Calls, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = deployed.outputs
    stream = outputs["AgentEventStreamArn"]
    lambda_ = client("lambda")
    live = lambda_.list_event_source_mappings(FunctionName=outputs["AgentEventsFunctionName"])["EventSourceMappings"]
    # Given events before, inside and after a range
    before, inside, after = new_agents(1), new_agents(3), new_agents(1)
    put_agent_events(stream, *(login(a, 1) for a in before))
    start = between_records()
    put_agent_events(stream, *(login(a, 2) for a in inside))
    end = between_records()
    put_agent_events(stream, *(login(a, 3) for a in after))
    function = InProcessFunction(AGENT_HANDLER, deployed.environments[AGENT_HANDLER])
    # When the range is replayed
    command = RUNBOOK["replay a range"].format(start=start.isoformat(), end=end.isoformat())
    code, output = run(command, capsys, invoker=function)
    # Then exactly the range reached the state, through the function as Lambda would invoke it
    assert code == 0, output
    items = agent_items(outputs["AgentStateTableName"])
    assert [a in items for a in before + inside + after] == [False, True, True, True, False]
    (event,) = function.events
    role = lambda_.get_function_configuration(FunctionName=outputs["AgentEventsFunctionName"])["Role"]
    assert {(r["eventSourceARN"], r["invokeIdentityArn"], r["eventSource"]) for r in event["Records"]} == {
        (stream, role, "aws:kinesis")
    }
    assert "replayed 3 records" in output
    assert "0 not applied" in output
    # and the live mapping is the only one, unchanged: the tool created, updated and deleted no mapping
    after_replay = lambda_.list_event_source_mappings(FunctionName=outputs["AgentEventsFunctionName"])
    assert after_replay["EventSourceMappings"] == live
    assert len(live) == 1
    assert lambda_changes(aws) == []
    assert set(aws.operations("lambda")) == {"ListEventSourceMappings", "GetFunctionConfiguration"}


def test_batches_lambda_gave_up_on_are_replayed_from_the_failed_batch_bucket(
    deployed: Deployed, aws: Calls, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = deployed.outputs
    stream = outputs["AgentEventStreamArn"]
    bucket = outputs["AgentEventsFailedBatchBucketName"]
    in_payload, in_stream = new_agents(2), new_agents(2)
    function = InProcessFunction(AGENT_HANDLER, deployed.environments[AGENT_HANDLER])
    # Given two on-failure records as Lambda writes them (the AWS Lambda Developer Guide's fields, see
    # tests/unit/test_ops_replay.py DOCS_RECORD): one with its payload (an S3 destination), one with only its range
    since = between_records()
    put_agent_events(stream, *(login(a, 4) for a in in_payload))
    delivered: list[dict[str, Any]] = []
    live_mapping(stream, since, lambda event: delivered.append(event) or {"batchItemFailures": []})  # type: ignore[func-returns-value]
    (payload,) = delivered  # what the live mapping handed the function, as Lambda writes it into the record
    since = between_records()
    sequences = put_agent_events(stream, *(login(a, 4) for a in in_stream))
    shard = client("kinesis").list_shards(StreamARN=stream)["Shards"][0]["ShardId"]

    def on_failure_record(first: str, last: str, count: int) -> dict[str, Any]:
        return {
            "requestContext": {"requestId": str(uuid.uuid4()), "condition": "RetryAttemptsExhausted"},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": "2026-11-20T08:00:06.021Z",
            "KinesisBatchInfo": {
                "shardId": shard,
                "startSequenceNumber": first,
                "endSequenceNumber": last,
                "approximateArrivalOfFirstRecord": "2026-11-20T08:00:04.835Z",
                "approximateArrivalOfLastRecord": "2026-11-20T08:00:05.580Z",
                "batchSize": count,
                "streamArn": stream,
            },
        }

    records = payload["Records"]
    first, last = records[0]["kinesis"]["sequenceNumber"], records[-1]["kinesis"]["sequenceNumber"]
    s3 = client("s3")
    prefix = f"aws/lambda/{uuid.uuid4()}/{shard}/2026/11/20/"
    documents = {
        f"{prefix}2026-11-20T08.00.06-a": {**on_failure_record(first, last, 2), "payload": json.dumps(payload)},
        f"{prefix}2026-11-20T08.00.07-b": on_failure_record(sequences[0], sequences[-1], 2),
    }
    for key, document in documents.items():
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(document).encode())
    # When they are replayed (and deleted once applied)
    code, output = run(RUNBOOK["replay what Lambda gave up on"] + " DELETE=1", capsys, invoker=function)
    # Then all four agents are in the table and the records are gone
    assert code == 0, output
    items = agent_items(outputs["AgentStateTableName"])
    assert all(agent in items for agent in in_payload + in_stream)
    assert s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("KeyCount") == 0
    assert [len(e["Records"]) for e in function.events] == [2, 2]
    assert lambda_changes(aws) == []


# --- put quarantined agent records back ---------------------------------------------------------------------------


def test_quarantined_agent_records_go_back_on_the_stream_byte_for_byte(
    deployed: Deployed, aws: Calls, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = deployed.outputs
    stream, quarantine_url = outputs["AgentEventStreamArn"], outputs["AgentEventsQuarantineQueueUrl"]
    agents = new_agents(2)
    # Given records quarantined by a function deployed with a limit too strict for them (a defect since fixed)
    events = [login(agents[0], 5), {**login(agents[1], 5), "Note": "ü ✓ \u2028"}]  # any bytes, not only ASCII
    originals = [json.dumps(e, ensure_ascii=False).encode() for e in events]
    since = between_records()
    kinesis = client("kinesis")
    for data, event in zip(originals, events, strict=True):
        kinesis.put_record(StreamARN=stream, Data=data, PartitionKey=event["AgentARN"])
    _drain(quarantine_url)
    too_strict = InProcessFunction(
        AGENT_HANDLER, {**deployed.environments[AGENT_HANDLER], "MAX_AGENT_EVENT_BYTES": "1024"}
    )
    live_mapping(stream, since, too_strict)
    assert (
        client("sqs").get_queue_attributes(QueueUrl=quarantine_url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ]["ApproximateNumberOfMessages"]
        == "2"
    )
    # and one whose text was cut short in its message but is still in the stream, one that no longer is
    long_event = login(agents[0], 6)
    (long_one,) = put_agent_events(stream, long_event)
    shard = kinesis.list_shards(StreamARN=stream)["Shards"][0]["ShardId"]
    quarantine = SqsQuarantine(client("sqs"), quarantine_url)

    def cut_short(sequence: str) -> QuarantinedRecord:
        origin = {
            "eventSourceARN": stream,
            "eventID": f"{shard}:{sequence}",
            "partitionKey": agents[0],
            "sequenceNumber": sequence,
        }
        return QuarantinedRecord("oversized", "agent-event-stream", "x" * 200_001, origin)

    assert quarantine.send([cut_short(long_one), cut_short("4" * 56)]) == []
    # When the fix is deployed and the records are put back
    since = between_records()
    code, output = run(RUNBOOK["put agent records back"], capsys)
    # Then the stream holds exactly the original bytes again, and the fixed function applies them
    assert code == 1, output  # one message is kept, and said why
    put_back = [
        r for s in kinesis.list_shards(StreamARN=stream)["Shards"] for r in _records_since(stream, s["ShardId"], since)
    ]
    assert sorted(r["Data"] for r in put_back) == sorted([*originals, json.dumps(long_event).encode()])
    assert {r["PartitionKey"] for r in put_back} == set(agents)
    assert "no longer has" in output
    assert "put 3 record(s) back" in output
    fixed = InProcessFunction(AGENT_HANDLER, deployed.environments[AGENT_HANDLER])
    live_mapping(stream, since, fixed)
    items = agent_items(outputs["AgentStateTableName"])
    assert all(agent in items for agent in agents)
    assert _drain(quarantine_url) == 1  # the one that cannot be recovered stays


def _records_since(stream: str, shard: str, since: datetime) -> list[dict[str, Any]]:
    kinesis = client("kinesis")
    iterator = kinesis.get_shard_iterator(
        StreamARN=stream, ShardId=shard, ShardIteratorType="AT_TIMESTAMP", Timestamp=since
    )["ShardIterator"]
    return list(kinesis.get_records(ShardIterator=iterator, Limit=1000, StreamARN=stream)["Records"])


def _drain(queue_url: str) -> int:
    sqs = client("sqs")
    count = 0
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        count += len(messages)
    return count


# --- redrive ----------------------------------------------------------------------------------------------------------


def bodies(queue_url: str) -> list[str]:
    sqs = client("sqs")
    found = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=30).get(
        "Messages", []
    ):
        for message in messages:
            found.append(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return found


def depth(queue_url: str, name: str = "ApproximateNumberOfMessages") -> int:
    attributes = client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=[name])["Attributes"]
    return int(attributes[name])


@pytest.mark.parametrize(
    ("queue", "source", "destination", "stage"),
    [
        (
            "contact-event-rule-dead-letter",
            "ContactEventRuleDeadLetterQueueUrl",
            "ContactEventsBufferQueueUrl",
            "QUEUED",
        ),
        (
            "enrichment-completed-rule-dead-letter",
            "ContactEnrichmentCompletedRuleDeadLetterQueueUrl",
            "ContactEnrichmentCompletedQueueUrl",
            "COMPLETED",
        ),
        (
            "enrichment-disconnected-rule-dead-letter",
            "ContactEnrichmentDisconnectedRuleDeadLetterQueueUrl",
            "ContactEnrichmentDisconnectedQueueUrl",
            "DISCONNECTED",
        ),
    ],
)
def test_each_rules_dead_letter_queue_goes_back_to_that_rules_queue_only(
    deployed: Deployed,
    aws: Calls,
    capsys: pytest.CaptureFixture[str],
    queue: str,
    source: str,
    destination: str,
    stage: str,
) -> None:
    outputs = deployed.outputs
    watched = {
        "ContactEventsBufferQueueUrl",
        "ContactEnrichmentCompletedQueueUrl",
        "ContactEnrichmentDisconnectedQueueUrl",
    }
    for url in watched:
        bodies(outputs[url])
    delayed = depth(outputs["ContactEnrichmentDisconnectedQueueUrl"], "ApproximateNumberOfMessagesDelayed")
    # Given an event EventBridge could not deliver, in its rule's dead-letter queue (as EventBridge puts it: the event)
    stages = ["INITIATED", "QUEUED", "CONNECTED_TO_AGENT", "DISCONNECTED", "COMPLETED"]
    event = json.dumps(lifecycle(str(uuid.uuid4()), stages)[stages.index(stage)])
    client("sqs").send_message(QueueUrl=outputs[source], MessageBody=event)
    # When it is redriven
    code, output = run(RUNBOOK["redrive a queue"].format(queue=queue), capsys)
    # Then it is on its own rule's queue, unchanged, and on no other (the delay queue holds it for its delay)
    assert code == 0, output
    assert depth(outputs[source]) == 0
    for url in watched - {destination}:
        assert depth(outputs[url]) == 0, url
    now_delayed = depth(outputs["ContactEnrichmentDisconnectedQueueUrl"], "ApproximateNumberOfMessagesDelayed")
    if destination == "ContactEnrichmentDisconnectedQueueUrl":
        assert now_delayed == delayed + 1
    else:
        assert now_delayed == delayed
        assert bodies(outputs[destination]) == [event]
    assert "StartMessageMoveTask" not in aws.operations("sqs")  # SQS would refuse: not a queue's dead-letter queue


def test_a_quarantined_contact_event_is_redriven_to_the_buffer_queue_and_applied(
    deployed: Deployed, aws: Calls, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = deployed.outputs
    contact_id = str(uuid.uuid4())
    (event,) = lifecycle(contact_id, ["INITIATED"])
    # Given a contact event the contact events function quarantined (written by its own quarantine writer)
    quarantine = SqsQuarantine(client("sqs"), outputs["ContactEventsQuarantineQueueUrl"])
    assert quarantine.send([QuarantinedRecord("a parser too strict", "contact-events", json.dumps(event))]) == []
    assert quarantine.send([QuarantinedRecord("cut short", "contact-events", "{" * 200_001)]) == []
    # When the fix is deployed and the quarantine is redriven
    code, output = run(RUNBOOK["redrive a queue"].format(queue="contact-events-quarantine"), capsys)
    # Then the message is on the buffer queue and the function applies it; the one cut short stays, and why is said
    assert code == 1, output
    assert "moved 1 message(s); 1 kept" in output
    assert "cut short" in output
    function = InProcessFunction(CONTACT_HANDLER, deployed.environments[CONTACT_HANDLER])
    _deliver_queue(outputs["ContactEventsBufferQueueUrl"], function)
    item = client("dynamodb").get_item(TableName=outputs["ContactStateTableName"], Key={"contactId": {"S": contact_id}})
    assert item["Item"]["status"]["S"] == "INITIATED"
    assert _drain(outputs["ContactEventsQuarantineQueueUrl"]) == 1


def _deliver_queue(queue_url: str, function: InProcessFunction) -> None:
    """Lambda's SQS event source mapping: batches of 10, messages reported as failed stay."""
    sqs = client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    while messages := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    ).get("Messages", []):
        event = {"Records": [received_sqs_record(m, arn) for m in messages]}
        failed = {f["itemIdentifier"] for f in function(event)["batchItemFailures"]}
        assert not failed
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.mark.parametrize(
    ("queue", "source", "destination"),
    [
        ("contact-events-dead-letter", "ContactEventsDeadLetterQueueArn", "ContactEventsBufferQueueArn"),
        ("enrichment-dead-letter", "ContactEnrichmentDeadLetterQueueArn", "ContactEnrichmentCompletedQueueArn"),
    ],
)
def test_a_queues_dead_letter_queue_is_redriven_by_sqs_itself(
    deployed: Deployed, aws: Calls, capsys: pytest.CaptureFixture[str], queue: str, source: str, destination: str
) -> None:
    # Given a dead-letter queue of an SQS queue (the emulator has no StartMessageMoveTask: answered here)
    aws.answers["StartMessageMoveTask"] = {"TaskHandle": "task-1"}
    aws.answers["ListMessageMoveTasks"] = {"Results": [{"Status": "COMPLETED", "ApproximateNumberOfMessagesMoved": 3}]}
    # When it is redriven
    code, output = run(RUNBOOK["redrive a queue"].format(queue=queue), capsys)
    # Then the tool checked it is a dead-letter queue (ListDeadLetterSourceQueues, on the emulator) and had SQS move
    # its messages to the route's queue, with a request valid for SQS's service model
    assert code == 0, output
    assert "ListDeadLetterSourceQueues" in aws.operations("sqs")
    (move,) = aws.params("StartMessageMoveTask")
    assert move == {"SourceArn": deployed.outputs[source], "DestinationArn": deployed.outputs[destination]}
    assert_valid_request("sqs", "StartMessageMoveTask", move)
    for listing in aws.params("ListMessageMoveTasks"):
        assert_valid_request("sqs", "ListMessageMoveTasks", listing)
    assert "moved 3 message(s)" in output
    assert aws.operations("sqs").count("ReceiveMessage") == 0  # SQS moves them, not the tool


# --- contact events and the rebuild ----------------------------------------------------------------------------------


def contact_item(outputs: Mapping[str, str], contact_id: str) -> dict[str, Any] | None:
    key = {"contactId": {"S": contact_id}}
    item: dict[str, Any] | None = (
        client("dynamodb").get_item(TableName=outputs["ContactStateTableName"], Key=key).get("Item")
    )
    return item


def publish(*events: dict[str, Any]) -> None:
    """Connect's side: contact events on the default bus (the rules route them, the archive keeps them)."""
    entries = [
        {
            "Source": e["source"],
            "DetailType": e["detail-type"],
            "Detail": json.dumps(e["detail"]),
            "Time": datetime.now(UTC),
        }
        for e in events
    ]
    assert client("events").put_events(Entries=entries)["FailedEntryCount"] == 0


def test_a_time_range_of_contact_events_is_replayed_from_the_archive(
    deployed: Deployed, aws: Calls, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = deployed.outputs
    contact_id = str(uuid.uuid4())
    buffer = outputs["ContactEventsBufferQueueUrl"]
    bodies(buffer)
    # Given contact events that reached the buffer queue once, and were lost after
    start = between_records()
    publish(*lifecycle(contact_id, ["INITIATED", "QUEUED"]))
    end = between_records()
    assert len(bodies(buffer)) == 2
    # When the range is replayed
    code, output = run(RUNBOOK["replay contacts"].format(start=start.isoformat(), end=end.isoformat()), capsys)
    # Then the events are delivered again (moto ignores FilterArns and the range: the request is checked instead)
    assert code == 0, output
    (replay,) = aws.params("StartReplay")
    assert_valid_request("events", "StartReplay", replay)
    assert replay["Destination"]["FilterArns"] == [outputs["ContactEventRuleArn"]]
    assert (replay["EventStartTime"], replay["EventEndTime"]) == (start, end)
    assert replay["EventSourceArn"] == outputs["ContactEventArchiveArn"]
    function = InProcessFunction(CONTACT_HANDLER, deployed.environments[CONTACT_HANDLER])
    _deliver_queue(buffer, function)
    item = contact_item(outputs, contact_id)
    assert item is not None
    assert item["status"]["S"] == "QUEUED"
    bodies(outputs["ContactEnrichmentCompletedQueueUrl"])  # moto's replay ignores FilterArns


def test_the_state_is_rebuilt_from_scratch(deployed: Deployed, aws: Calls, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = deployed.outputs
    stream = outputs["AgentEventStreamArn"]
    agents, contact_id = new_agents(3), str(uuid.uuid4())
    agent_function = InProcessFunction(AGENT_HANDLER, deployed.environments[AGENT_HANDLER])
    contact_function = InProcessFunction(CONTACT_HANDLER, deployed.environments[CONTACT_HANDLER])
    # Given a state built by the live pipeline
    since = between_records()
    put_agent_events(stream, *(login(a, 7, "Break") for a in agents))
    live_mapping(stream, since, agent_function)
    publish(*lifecycle(contact_id, ["INITIATED", "QUEUED", "CONNECTED_TO_AGENT"]))
    _deliver_queue(outputs["ContactEventsBufferQueueUrl"], contact_function)
    built_agents = {a: _without_processing_time(i) for a, i in agent_items(outputs["AgentStateTableName"]).items()}
    built_contact = contact_item(outputs, contact_id)
    assert built_contact is not None
    assert all(a in built_agents for a in agents)
    # When the tables are cleared and refilled from the stream and the archive, by fresh containers
    code, output = run(RUNBOOK["clear the state"], capsys)
    assert code == 0, output
    assert agent_items(outputs["AgentStateTableName"]) == {}
    assert contact_item(outputs, contact_id) is None
    agent_function.new_container()
    contact_function.new_container()
    code, output = run(RUNBOOK["rebuild the agent table"], capsys, invoker=agent_function)
    assert code == 0, output
    code, output = run(RUNBOOK["rebuild the contact table"].format(start=since.isoformat()), capsys)
    assert code == 0, output
    (replay,) = aws.params("StartReplay")
    assert replay["Destination"]["FilterArns"] == [
        outputs["ContactEventRuleArn"],
        *outputs["ContactEnrichmentRuleArns"].split(","),
    ]
    _deliver_queue(outputs["ContactEventsBufferQueueUrl"], contact_function)
    # Then every item is as it was (but for when it was written)
    rebuilt = {a: _without_processing_time(i) for a, i in agent_items(outputs["AgentStateTableName"]).items()}
    assert {agent: rebuilt.get(agent) for agent in built_agents} == built_agents  # (and records never applied before)
    rebuilt_contact = contact_item(outputs, contact_id)
    assert rebuilt_contact is not None
    # (moto's replay gives each event a new id, which only the merge bookkeeping records)
    assert _public(rebuilt_contact) == _public(built_contact)
    bodies(outputs["ContactEnrichmentCompletedQueueUrl"])  # moto's replay ignores FilterArns


def _without_processing_time(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key not in {"updatedAt", "ttl"}}


def _public(contact: Mapping[str, Any]) -> dict[str, Any]:
    """The contact item's public contract (README): without processing time and merge bookkeeping."""
    bookkeeping = {"revision", "orderKeys", "stagesSeen", "firstEventTime"}
    return {key: value for key, value in _without_processing_time(contact).items() if key not in bookkeeping}
