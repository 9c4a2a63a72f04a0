"""`make cost`'s arithmetic: DynamoDB's units, traffic cut into invocations, a measured hour turned into a month."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from demo.contact_centre import SimulationConfig
from demo.simulate import AGENT, CONTACT, Disorder, generate
from tests.bench import cost
from tests.bench.cost_measure import (
    AGENT_FUNCTION,
    CONTACT_FUNCTION,
    ENRICHMENT_FUNCTION,
    EventSource,
    FunctionUsage,
    Measurement,
    StackFacts,
    Traffic,
    _sqs_batches,
    _sqs_record,
    plan,
)
from tests.bench.dynamodb_units import index_write_units, item_size, read_units, write_units

INSTANCE = "arn:aws:connect:eu-west-2:123456789012:instance/5d1c6a2e-8f3b-4c1e-9a7d-2b6f0e4c8a13"
CONTACT_EVENTS = {"source": ["aws.connect"], "detail-type": ["Amazon Connect Contact Event"]}


def string_of(size: int) -> dict[str, str]:
    return {"S": "x" * size}


# --- DynamoDB units -----------------------------------------------------------------------------------------------
def test_item_size_follows_dynamodbs_rules_for_each_type() -> None:
    assert item_size({"id": {"S": "abc"}}) == 2 + 3
    assert item_size({"n": {"N": "12345"}}) == 1 + 3 + 1  # one byte per two significant digits, plus one
    assert item_size({"n": {"N": "1000"}}) == 1 + 1 + 1  # trailing zeros are not significant
    assert item_size({"b": {"BOOL": True}, "z": {"NULL": True}}) == 2 + 2
    assert item_size({"m": {"M": {"ab": {"S": "x"}}}}) == 1 + 3 + (2 + 1 + 1)  # 3 bytes + name + value + 1 each
    assert item_size({"l": {"L": [{"S": "xy"}, {"N": "7"}]}}) == 1 + 3 + (2 + 1) + (2 + 1)
    assert item_size({"é": {"S": "é"}}) == 4  # UTF-8 bytes, not characters
    assert item_size(None) == 0


def test_a_write_costs_one_unit_per_started_kilobyte_of_the_larger_item() -> None:
    small = {"k": string_of(1022)}  # 1 + 1022 = 1,023 bytes
    large = {"k": string_of(1024)}  # 1,025 bytes
    assert write_units(None, small) == 1
    assert write_units(None, large) == 2
    assert write_units(large, small) == 2  # the item as it was counts too
    assert write_units(large, large) == 2  # a failed condition still costs the item's size
    assert write_units(None, None) == 1  # never less than one


def test_a_read_costs_one_unit_per_started_4_kb_and_half_when_eventually_consistent() -> None:
    assert read_units({"k": string_of(4094)}, consistent=True) == 1
    assert read_units({"k": string_of(4096)}, consistent=True) == 2
    assert read_units({"k": string_of(4096)}, consistent=False) == 1
    assert read_units(None, consistent=True) == 1
    assert read_units(None, consistent=False) == 0.5


def test_index_writes_follow_the_item_into_out_of_and_within_each_index() -> None:
    keys = [("queueArn", "queuedSince")]
    outside = {"id": {"S": "c"}, "queueArn": {"S": "q"}}
    queued = {**outside, "queuedSince": {"S": "t1"}}
    assert index_write_units(outside, queued, keys) == 1  # enters
    assert index_write_units(queued, outside, keys) == 1  # leaves
    assert index_write_units(queued, queued, keys) == 0  # nothing changed
    assert index_write_units(queued, {**queued, "x": {"S": "y"}}, keys) == 1  # changed while in the index
    assert index_write_units(queued, {**queued, "queuedSince": {"S": "t2"}}, keys) == 2  # key change: delete + put
    assert index_write_units(None, outside, keys) == 0
    big = {**queued, "pad": string_of(1500)}
    assert index_write_units(None, big, keys) == 2  # sized like the item (the indexes project ALL)


# --- traffic -> invocations ---------------------------------------------------------------------------------------
def facts(**changes: object) -> StackFacts:
    completed = {**CONTACT_EVENTS, "detail": {"instanceArn": [INSTANCE], "eventType": ["COMPLETED"]}}
    disconnected = {**CONTACT_EVENTS, "detail": {"instanceArn": [INSTANCE], "eventType": ["DISCONNECTED"]}}
    every = {**CONTACT_EVENTS, "detail": {"instanceArn": [INSTANCE]}}
    base = StackFacts(
        memory_mb=dict.fromkeys((AGENT_FUNCTION, CONTACT_FUNCTION, ENRICHMENT_FUNCTION), 512),
        tracing=dict.fromkeys((AGENT_FUNCTION, CONTACT_FUNCTION, ENRICHMENT_FUNCTION), True),
        sources=[
            EventSource(AGENT_FUNCTION, None, 100, 1000, None),
            EventSource(CONTACT_FUNCTION, "buffer", 10, 2000, None),
            EventSource(ENRICHMENT_FUNCTION, "completed", 10, 1000, 2),
            EventSource(ENRICHMENT_FUNCTION, "disconnected", 10, 1000, 2),
        ],
        rules=[(every, "buffer"), (completed, "completed"), (disconnected, "disconnected")],
        archive_pattern=every,
        queue_delay_ms={"buffer": 0, "completed": 0, "disconnected": 900_000},
        alarms=20,
        dashboards=1,
        creates_stream=True,
        log_retention_days=30,
        queues=9,
        tables=3,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_queue_batch_closes_when_its_window_ends_or_it_is_full() -> None:
    source = EventSource(CONTACT_FUNCTION, "buffer", 3, 2000, None)
    arrivals = [0, 1500, 2500, 2600, 2700, 2800]
    batches = list(_sqs_batches([(at, _sqs_record(str(at), "buffer")) for at in arrivals], source))
    assert [[r["body"] for r in b.records] for b in batches] == [["0", "1500"], ["2500", "2600", "2700"], ["2800"]]
    assert [b.at_ms for b in batches] == [2000, 2700, 4800]  # the window's end, the third message, the window's end


def test_every_record_is_delivered_once_to_the_function_the_rules_route_it_to() -> None:
    run = generate(SimulationConfig(agents=3, minutes=15, seed=5, instance_arn=INSTANCE), replace(Disorder(), shards=4))
    traffic = plan(run, facts())
    delivered: Counter[str] = Counter()
    for invocation in traffic.invocations:
        assert len(invocation.records) <= (100 if invocation.function == AGENT_FUNCTION else 10)
        delivered[invocation.source] += len(invocation.records)
    agent_records = [d for d in run.deliveries if d.kind == AGENT]
    assert sum(n for source, n in delivered.items() if source.startswith("shard-")) == len(agent_records)
    assert traffic.agent_records == len(agent_records)
    events = [d.line["event"] for d in run.deliveries if d.kind == CONTACT and isinstance(d.line["event"], dict)]
    ours = [e for e in events if e.get("detail-type") == "Amazon Connect Contact Event"]
    completed = [e for e in ours if e["detail"].get("eventType") == "COMPLETED"]
    assert delivered["completed"] == traffic.deliveries["completed"] == len(completed) > 0
    not_json = sum(1 for d in run.deliveries if d.kind == CONTACT and isinstance(d.line["event"], str))
    assert delivered["buffer"] == len(ours) + not_json  # another detail-type is never delivered
    assert traffic.kinesis_billed_kb >= len(agent_records)  # at least 1 KB each, as on-demand Kinesis bills


def test_the_disconnected_fallback_runs_after_the_queues_delay() -> None:
    run = generate(SimulationConfig(agents=2, minutes=15, seed=5, instance_arn=INSTANCE), replace(Disorder(), shards=4))
    traffic = plan(run, facts())
    first_delivery = min(d.arrival_ms for d in run.deliveries)
    delayed = [i for i in traffic.invocations if i.source == "disconnected"]
    assert delayed
    assert min(i.at_ms for i in delayed) >= first_delivery + 900_000
    assert [i.at_ms for i in traffic.invocations] == sorted(i.at_ms for i in traffic.invocations)


# --- a measured hour -> a month -----------------------------------------------------------------------------------
def measured_hour() -> Measurement:
    def used(invocations: int, wru: int, rru: float = 0.0) -> FunctionUsage:
        return FunctionUsage(
            invocations=invocations,
            records=invocations,
            requests=Counter({"dynamodb:UpdateItem": wru // 2, "sqs:SendMessageBatch": 1}),
            write_units=Counter({"AgentState": wru}),
            read_units={"ContactState": rru},
            events_published=2,
            describe_contact_calls=3,
            log_bytes=10_000,
            busy_seconds=0.5,
        )

    return Measurement(
        agents=10,
        minutes=60,
        seed=7,
        traffic=Traffic(agent_records=600, kinesis_billed_kb=600, contact_events=800, deliveries=Counter(buffer=800)),
        usage={
            AGENT_FUNCTION: used(500, 1000),
            CONTACT_FUNCTION: used(400, 900),
            ENRICHMENT_FUNCTION: used(200, 300, 5),
        },
        metric_series={("ConnectRealtimeState", "[]", f"M{n}") for n in range(12)},
        table_bytes={"AgentState": 15_000, "ContactState": 300_000, "CallSlots": 1_000},
        index_bytes={"AgentState": 0, "ContactState": 250_000, "CallSlots": 0},
        table_items={"AgentState": 10, "ContactState": 170, "CallSlots": 10},
        contacts=170,
        init_seconds=dict.fromkeys((AGENT_FUNCTION, CONTACT_FUNCTION, ENRICHMENT_FUNCTION), 0.5),
    )


ALWAYS_ON = {"on-demand stream", "alarms", "dashboard", "custom metrics (EMF)", "requests by DynamoDB and Kinesis"}


def test_usage_lines_scale_with_agents_and_always_on_lines_do_not() -> None:
    small = {line.item: line for line in cost.monthly(measured_hour(), facts(), 100)}
    large = {line.item: line for line in cost.monthly(measured_hour(), facts(), 1_000)}
    assert small.keys() == large.keys()
    for item, line in small.items():
        fixed = any(item.startswith(name) for name in ALWAYS_ON) or "long polls" in item
        if fixed:
            assert large[item].usd == pytest.approx(line.usd), item
        elif item != "traces recorded":  # sampling is not linear: the first request of each second is always kept
            assert large[item].usd == pytest.approx(10 * line.usd), item
    assert large["traces recorded"].quantity < 10 * small["traces recorded"].quantity


def test_a_month_is_176_agent_hours_priced_at_the_listed_prices() -> None:
    lines = {line.item: line for line in cost.monthly(measured_hour(), facts(), 100)}
    # 100 agents x 176 h = 17,600 agent-hours = 1,760 measured hours of 10 agents
    assert lines["requests"].quantity == pytest.approx(1_100 * 1_760)
    assert lines["AgentState writes"].quantity == pytest.approx(2_200 * 1_760)
    assert lines["AgentState writes"].usd == pytest.approx(2_200 * 1_760 * 0.625e-6)
    assert lines["on-demand stream"].usd == pytest.approx(730 * 0.04)
    assert lines["alarms"].usd == pytest.approx(20 * 0.10)
    assert lines["Contact Abandoned events published"].quantity == pytest.approx(6 * 1_760)


def test_an_existing_stream_and_tracing_off_remove_their_lines() -> None:
    off = dict.fromkeys((AGENT_FUNCTION, CONTACT_FUNCTION, ENRICHMENT_FUNCTION), False)
    lines = {line.item: line for line in cost.monthly(measured_hour(), facts(creates_stream=False, tracing=off), 100)}
    assert "on-demand stream" not in lines
    assert "data in (agent events)" not in lines
    assert lines["data out (the agent events function)"].usd > 0  # the function still reads your stream
    assert lines["traces recorded"].usd == 0


def test_every_price_names_its_source_and_date() -> None:
    for name, price in cost.PRICES.items():
        assert price.usd > 0, name
        assert len(price.source) > 10, name
        assert price.date[:4].isdigit(), name
