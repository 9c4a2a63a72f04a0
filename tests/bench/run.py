"""`make bench`: figures printed, not asserted. Throughput of decode + validate + normalise on one core against the
bare base64 + json.loads floor, DynamoDB requests per event through the handler against moto, the handlers' own CPU per
event with AWS answered in-process, the DescribeContact rate when 1,000 contacts complete at once, and import time."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HTTPHeaders

from tests.bench.workload import agent_events

AGENTS = 200
EVENTS = 10_000
BATCH = 100
ROOT = Path(__file__).resolve().parents[2]


def best_of(runs: int, work: Callable[[], object], clock: Callable[[], float] = time.perf_counter) -> float:
    timings = []
    for _ in range(runs):
        start = clock()
        work()
        timings.append(clock() - start)
    return min(timings)


def quiet() -> contextlib.redirect_stdout[io.StringIO]:
    """The handlers' EMF metric lines (stdout) are CloudWatch's business, not the benchmark's."""
    return contextlib.redirect_stdout(io.StringIO())


def fake_aws_environment() -> None:
    """moto in-process; Powertools quiet: warnings only, and EMF lines go nowhere (see `quiet`). Metrics are not
    disabled: Powertools then keeps the values between invocations and prints them anyway at 100."""
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": "eu-west-2",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AGENT_TABLE_NAME": "agent-state",
            "STATE_TTL_DAYS": "90",
            "MAX_AGENT_EVENT_BYTES": "131072",
            "POWERTOOLS_METRICS_NAMESPACE": "Bench",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )


def throughput(records: list[str]) -> None:
    from connect_state.domain import agent_state
    from connect_state.models.agent_event import AgentEvent
    from connect_state.models.decoder import decode_agent_record

    def floor() -> None:
        for data in records:
            json.loads(base64.b64decode(data))

    def pipeline() -> None:
        for index, data in enumerate(records):
            event = decode_agent_record(data, 131_072)
            assert isinstance(event, AgentEvent)
            agent_state.observe(event, str(index))

    floor_seconds = best_of(5, floor)
    pipeline_seconds = best_of(5, pipeline)
    print(f"records                          {len(records):>10,}")
    print(f"base64 + json.loads (floor)      {len(records) / floor_seconds:>10,.0f} records/s")
    print(f"decode + validate + normalise    {len(records) / pipeline_seconds:>10,.0f} records/s")
    print(f"ratio to the floor               {pipeline_seconds / floor_seconds:>10.2f}x   (target: within 2x)")


def requests_per_event(events: list[dict[str, object]]) -> list[dict[str, Any]]:
    """The agent workload through the agent events handler against moto; returns its Kinesis records."""
    from moto import mock_aws

    from tests.integration.conftest import create_agent_pipeline
    from tests.lambda_context import FakeLambdaContext
    from tests.samples import kinesis_event, kinesis_record, sequence

    with mock_aws():
        pipeline = create_agent_pipeline()
        os.environ["QUARANTINE_QUEUE_URL"] = pipeline.queue_url
        from connect_state.handlers import agent_events as handler

        records = [kinesis_record(event, sequence(i)) for i, event in enumerate(events)]
        distinct_agents_per_batch = 0
        start = time.perf_counter()
        for offset in range(0, len(records), BATCH):
            batch = records[offset : offset + BATCH]
            distinct_agents_per_batch += len({r["kinesis"]["partitionKey"] for r in batch})
            with quiet():
                response = handler.lambda_handler(kinesis_event(*batch), FakeLambdaContext())
            assert response == {"batchItemFailures": []}, response
        elapsed = time.perf_counter() - start
        requests = handler.dependencies().store.requests
        print(f"handler events/s (moto, in-process) {len(records) / elapsed:>7,.0f}")
        print(f"DynamoDB requests                {requests:>10,}")
        print(f"distinct agents summed per batch {distinct_agents_per_batch:>10,}")
        print(f"DynamoDB requests per event      {requests / len(records):>10.3f}")
        print(f"requests per distinct agent per batch {requests / distinct_agents_per_batch:>5.3f}   (target: <= 1)")
        print(f"agents in the table              {len(pipeline.items()):>10,}")
        handler.dependencies.reset()
    return records


def contact_workload(contacts: int = 300, seed: int = 7) -> list[list[dict[str, Any]]]:
    """Contact lifecycles (answered and abandoned), shuffled with 10% duplicates, in SQS batches of 10 as the buffer
    queue delivers them."""
    import random

    from demo.lambda_shapes import sqs_record
    from tests.contact_lifecycles import FULL, lifecycle

    abandoned = ("INITIATED", "CONNECTED_TO_SYSTEM", "QUEUED", "DISCONNECTED", "COMPLETED")
    rng = random.Random(seed)
    events = [e for n in range(contacts) for e in lifecycle(f"contact-{n}", abandoned if n % 5 == 0 else FULL)]
    events += rng.sample(events, len(events) // 10)
    rng.shuffle(events)
    return [
        [
            sqs_record(
                json.dumps(e),
                "arn:aws:sqs:eu-west-2:111122223333:buffer",
                message_id=str(offset + i),
                receipt_handle="h",
                attributes={},
            )
            for i, e in enumerate(events[offset : offset + 10])
        ]
        for offset in range(0, len(events), 10)
    ]


def contact_events(batches: list[list[dict[str, Any]]], contacts: int = 300) -> None:
    """The contact workload through the contact events handler against moto."""
    from moto import mock_aws

    from tests.integration.conftest import create_contact_pipeline
    from tests.lambda_context import FakeLambdaContext

    events = sum(len(batch) for batch in batches)
    with mock_aws():
        pipeline = create_contact_pipeline()
        os.environ.update(
            {
                "CONTACT_TABLE_NAME": pipeline.table_name,
                "QUARANTINE_QUEUE_URL": pipeline.quarantine_url,
                "EVENT_BUS_NAME": "contact-state-events",
            }
        )
        from connect_state.handlers import contact_events as handler

        handler.dependencies.reset()
        start = time.perf_counter()
        for batch in batches:
            with quiet():
                response = handler.lambda_handler({"Records": batch}, FakeLambdaContext())
            assert response == {"batchItemFailures": []}, response
        elapsed = time.perf_counter() - start
        requests = handler.dependencies().store.requests
        handler.dependencies.reset()
        items = pipeline.items()
        print(f"contact events (with duplicates) {events:>10,}   over {contacts:,} contacts, batches of 10")
        print(f"handler events/s (moto, in-process) {events / elapsed:>7,.0f}")
        print(f"DynamoDB requests per event      {requests / events:>10.3f}")
        print(
            f"contacts abandoned / published   {sum(1 for i in items.values() if i.get('abandoned')):>10,}"
            f" / {len(pipeline.published()):,}"
        )


class CannedBody:
    """The raw HTTP body botocore reads a response from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: object) -> Iterator[bytes]:
        yield self._body


# What AWS answers a successful call of each operation the two handlers make (single writer: no condition fails).
CANNED = {
    "UpdateItem": b"{}",
    "PutEvents": b'{"FailedEntryCount": 0, "Entries": [{"EventId": "e"}]}',
    "SendMessageBatch": b'{"Successful": [], "Failed": []}',
}


def answer_without_sending(request: AWSPreparedRequest, **_: object) -> AWSResponse:
    """botocore's `before-send` hook: the request is built, validated and signed as for AWS, and the canned answer is
    parsed as AWS's would be; nothing leaves the process and no emulator spends CPU in this thread."""
    target = request.headers.get("X-Amz-Target", b"")
    operation = (target.decode() if isinstance(target, bytes) else target).rpartition(".")[2]
    if not operation:  # SQS's JSON protocol names the action in the target too; anything else is a bench bug
        raise AssertionError(f"unexpected request to {request.url}")
    return AWSResponse(request.url, 200, HTTPHeaders(), CannedBody(CANNED[operation]))


@contextlib.contextmanager
def aws_answered_in_process() -> Iterator[None]:
    """Clients built from here on (the handlers build theirs at their first invocation) get `answer_without_sending`."""
    import boto3

    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-send", answer_without_sending)  # type: ignore[arg-type]
    try:
        yield
    finally:
        boto3.DEFAULT_SESSION = None


def client_cpu(agent_records: list[dict[str, Any]], contact_batches: list[list[dict[str, Any]]]) -> None:
    """CPU per event in this thread (time.thread_time) through each handler, AWS answered in-process: the decode, the
    merge, the write path and botocore's request building, signing and response parsing, and no emulator. The floor
    is the one `throughput` prints, base64 + json.loads of an agent record; a contact message body's json.loads is
    printed beside it."""
    from connect_state.handlers import agent_events as agent_handler
    from connect_state.handlers import contact_events as contact_handler
    from tests.lambda_context import FakeLambdaContext
    from tests.samples import kinesis_event

    os.environ.update(
        {
            "QUARANTINE_QUEUE_URL": "https://sqs.eu-west-2.amazonaws.com/111122223333/quarantine",
            "CONTACT_TABLE_NAME": "contact-state",
            "EVENT_BUS_NAME": "contact-state-events",
        }
    )
    agent_data = [record["kinesis"]["data"] for record in agent_records]
    contact_bodies = [record["body"] for batch in contact_batches for record in batch]
    cpu = time.thread_time
    floor = best_of(5, lambda: [json.loads(base64.b64decode(d)) for d in agent_data], cpu) / len(agent_data) * 1e6
    body_floor = best_of(5, lambda: [json.loads(body) for body in contact_bodies], cpu) / len(contact_bodies) * 1e6
    runs = [
        (agent_handler, [kinesis_event(*agent_records[o : o + BATCH]) for o in range(0, len(agent_records), BATCH)]),
        (contact_handler, [{"Records": batch} for batch in contact_batches]),
    ]
    print("client CPU per event: this thread's CPU time through the handler, with AWS answered in-process at")
    print("botocore's before-send (requests built and signed as for AWS, canned answers parsed; no emulator time)")
    print(f"floor (CPU): base64 + json.loads of an agent record {floor:.0f} µs; of a contact body {body_floor:.0f} µs")
    for handler, events in runs:
        with aws_answered_in_process():
            best = float("inf")
            for _ in range(3):  # a fresh container each run: every write is a first write, as in moto's run
                handler.dependencies.reset()
                with quiet():
                    handler.lambda_handler(events[0], FakeLambdaContext())  # clients and configuration built
                handler.dependencies.reset()
                store = handler.dependencies().store
                with quiet():
                    start = time.thread_time()
                    for event in events:
                        response = handler.lambda_handler(event, FakeLambdaContext())
                        assert response == {"batchItemFailures": []}, response
                    best = min(best, time.thread_time() - start)
            handler.dependencies.reset()
        count = sum(len(event["Records"]) for event in events)
        per_event = best / count * 1e6
        name = handler.__name__.rpartition(".")[2].replace("_", " ")
        print(
            f"{name + ' handler':<22} {per_event:>6,.0f} µs per event, {best / store.requests * 1e6:>5,.0f} µs per "
            f"DynamoDB request; {per_event / floor:>4.1f}x the floor   (target: at most 15x)"
        )


def enrichment_rate(contacts: int = 1000, containers: int = 4) -> None:
    """DescribeContact calls when `contacts` complete at once, on fake clocks (tests/enrichment_burst.py)."""
    from tests.enrichment_burst import burst

    for rate in (5, 10):
        result = burst(contacts, rate, containers)
        print(
            f"enrichment at {rate:>2}/s: {len(result.calls):,} calls by {containers} containers in "
            f"{result.duration():.1f} s; most calls in a whole second {result.max_per_whole_second()}, "
            f"in any sliding second {result.max_per_sliding_second()}"
        )


def import_time() -> None:
    code = (
        "import time; t = time.perf_counter(); import connect_state.handlers.agent_events; "
        "print(time.perf_counter() - t)"
    )
    environment = {**os.environ, "PYTHONPATH": f"{ROOT / 'lambdas'}"}
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(5)
    ]
    print(f"handler module import (cold)     {min(runs) * 1000:>10.0f} ms   (best of 5 fresh interpreters)")


def main() -> None:
    fake_aws_environment()
    events = list(agent_events(AGENTS, EVENTS))
    records = [base64.b64encode(json.dumps(e).encode()).decode() for e in events]
    print(f"workload: {EVENTS:,} agent events over {AGENTS} agents, batches of {BATCH}\n")
    throughput(records)
    print()
    agent_records = requests_per_event(events)
    print()
    contact_batches = contact_workload()
    contact_events(contact_batches)
    print()
    client_cpu(agent_records, contact_batches)
    print()
    enrichment_rate()
    print()
    import_time()


if __name__ == "__main__":
    main()
