"""`make cost`: what the stack costs a month at 100 and 1,000 agents, from requests measured through the real handlers
and published list prices.

    PYTHONPATH=lambdas:. .venv/bin/python -m tests.bench.cost [--agents 20 --minutes 60 --seed 7]

1. Measure (tests.bench.cost_measure): one simulated hour of `--agents` agents, every invocation Lambda would make run
   through the real handlers against moto; every AWS request, DynamoDB unit, log byte and second of work counted.
2. Scale linearly per agent-hour to each size, for the business hours below. Linear is an upper bound for the
   per-invocation lines: with more agents Lambda's batches hold more records, so there are fewer invocations and
   fewer writes per event than a small run shows.
3. Price every line with the list prices below (each with its source and date), plus what runs around the clock.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.bench.cost_measure import (
    AGENT_FUNCTION,
    CONTACT_FUNCTION,
    ENRICHMENT_FUNCTION,
    Measurement,
    StackFacts,
    measure,
    stack_facts,
)

REGION = "eu-west-2"  # the example's (cdk.json's example instance)
SIZES = (100, 1_000)
HOURS_PER_DAY = 8  # each agent logged in 8 hours a day...
DAYS_PER_MONTH = 22  # ...22 working days a month: 176 agent-hours per agent
HOURS_PER_MONTH = 730  # what runs around the clock: the stream, alarms, the pollers of the queues
GB = 1024**3


@dataclass(frozen=True)
class Price:
    usd: float
    per: str
    source: str
    date: str


# AWS list prices, each with its source and date: prices.json beside this file says where they come from (US East:
# no eu-west-2 price list could be read offline).
_PRICE_LIST = json.loads((Path(__file__).with_name("prices.json")).read_text())["prices"]
PRICES = {
    name: Price(entry["usd"] / entry.get("for", 1), entry["per"], entry["source"], entry["date"])
    for name, entry in _PRICE_LIST.items()
}

# Assumptions, each printed with the table.
LOG_BYTES_PER_INVOCATION = 600  # Lambda's own JSON log records per invocation (platform.start + platform.report)
AWS_CALL_SECONDS = 0.010  # billed waiting per DynamoDB/SQS/EventBridge request from a function (in-Region)
DESCRIBE_CONTACT_SECONDS = 0.100  # billed waiting per DescribeContact call
FULL_VCPU_MB = 1769  # Lambda gives a function one vCPU at 1,769 MB; at 512 MB, 512/1769 of one
COLD_START_SHARE = 0.01  # AWS: cold starts occur in under 1% of invocations (INIT is billed since 1 August 2025)
XRAY_RESERVOIR_PER_SECOND = 1.0  # Lambda's sampling: the first request each second, then 5% of the others
XRAY_EXTRA_RATE = 0.05
KMS_REQUESTS_PER_KEY_USER_HOUR = 12  # services cache data keys ~5 minutes: one request per table or shard per 5 min
SQS_LONG_POLL_SECONDS = 20  # Lambda's pollers wait up to 20 s on an empty queue...
SQS_IDLE_POLLERS = 2  # ...with as few as 2 pollers at low traffic, but 5 when maximum concurrency is set (AWS docs)
SQS_IDLE_POLLERS_WITH_MAX_CONCURRENCY = 5


@dataclass(frozen=True)
class Line:
    service: str
    item: str
    quantity: float  # per month
    unit: str
    usd: float


def monthly(measured: Measurement, facts: StackFacts, agents: int) -> list[Line]:
    """Every billed line for `agents` agents, a month, from a measurement scaled per agent-hour."""
    scale = agents * HOURS_PER_DAY * DAYS_PER_MONTH / measured.agent_hours  # measured hour -> month
    business_seconds = HOURS_PER_DAY * DAYS_PER_MONTH * 3600
    usage = measured.usage
    traffic = measured.traffic
    lines: list[Line] = []

    def add(service: str, item: str, quantity: float, unit: str, price: str) -> None:
        lines.append(Line(service, item, quantity, unit, quantity * PRICES[price].usd))

    # Kinesis: the stream the stack creates (none when agentEventStreamArn names yours), one consumer.
    kinesis_gb = traffic.kinesis_billed_kb * 1024 * scale / GB
    if facts.creates_stream:
        add("Kinesis", "on-demand stream", HOURS_PER_MONTH, "stream-hours", "kinesis_stream_hour")
        add("Kinesis", "data in (agent events)", kinesis_gb, "GB", "kinesis_in_gb")
    add("Kinesis", "data out (the agent events function)", kinesis_gb, "GB", "kinesis_out_gb")

    # Lambda
    invocations = sum(u.invocations for u in usage.values()) * scale
    add("Lambda", "requests", invocations, "invocations", "lambda_request")
    for name, used in usage.items():
        memory_gb = facts.memory_mb[name] / 1024
        cpu_factor = FULL_VCPU_MB / facts.memory_mb[name]
        aws_requests = sum(used.requests.values())
        seconds = (
            used.busy_seconds * cpu_factor
            + aws_requests * AWS_CALL_SECONDS
            + used.describe_contact_calls * DESCRIBE_CONTACT_SECONDS
            + used.invocations * COLD_START_SHARE * measured.init_seconds[name] * cpu_factor
        ) * scale
        add(
            "Lambda",
            f"duration, {name} ({facts.memory_mb[name]} MB arm64)",
            seconds * memory_gb,
            "GB-s",
            "lambda_arm_gb_second",
        )

    # DynamoDB
    for table in ("AgentState", "ContactState", "CallSlots"):
        wru = sum(u.write_units.get(table, 0) for u in usage.values()) * scale
        rru = sum(u.read_units.get(table, 0.0) for u in usage.values()) * scale
        if wru:
            indexes = " (and its two indexes)" if table == "ContactState" else ""
            add("DynamoDB", f"{table} writes{indexes}", wru, "WRU", "dynamodb_wru")
        if rru:
            add("DynamoDB", f"{table} reads", rru, "RRU", "dynamodb_rru")
    stored, backed_up = _stored_gb(measured, agents, scale)
    add("DynamoDB", "storage (steady state, indexes included)", stored, "GB-month", "dynamodb_storage_gb_month")
    add("DynamoDB", "point-in-time recovery (state tables)", backed_up, "GB-month", "dynamodb_pitr_gb_month")

    # SQS: EventBridge's sends, Lambda's receives and deletes, the pollers' empty long polls, the functions' own
    sqs_invocations = sum(u.invocations for n, u in usage.items() if n != AGENT_FUNCTION) * scale
    add(
        "SQS",
        "EventBridge -> queues (SendMessage)",
        sum(traffic.deliveries.values()) * scale,
        "requests",
        "sqs_request",
    )
    add("SQS", "Lambda: receive + delete per batch", 2 * sqs_invocations, "requests", "sqs_request")
    polls_per_poller = HOURS_PER_MONTH * 3600 / SQS_LONG_POLL_SECONDS
    pollers = sum(
        SQS_IDLE_POLLERS_WITH_MAX_CONCURRENCY if source.max_concurrency else SQS_IDLE_POLLERS
        for source in facts.sources
        if source.queue is not None
    )
    add(
        "SQS",
        f"Lambda: empty long polls ({pollers} pollers, around the clock)",
        pollers * polls_per_poller,
        "requests",
        "sqs_request",
    )
    own = sum(count for u in usage.values() for op, count in u.requests.items() if op.startswith("sqs:")) * scale
    add("SQS", "functions' own (quarantine, dead letters, backoff)", own, "requests", "sqs_request")

    # EventBridge: Connect's events on the default bus and the rules' deliveries are free; custom events are not.
    published = sum(u.events_published for u in usage.values()) * scale
    add("EventBridge", "Contact Abandoned events published", published, "events", "eventbridge_custom_event")
    if facts.archive_pattern is not None:
        archived_gb = traffic.archived_bytes * scale / GB
        add("EventBridge", "contact event archive, ingested", archived_gb, "GB", "eventbridge_archive_gb")
        retention_months = 7 / 30.4  # contactEventArchiveDays (default 7)
        add(
            "EventBridge",
            "contact event archive, kept",
            archived_gb * retention_months,
            "GB-month",
            "eventbridge_archive_gb_month",
        )

    # CloudWatch
    add("CloudWatch", "alarms", facts.alarms, "alarm-months", "cloudwatch_alarm_month")
    add("CloudWatch", "dashboard", facts.dashboards, "dashboard-months", "cloudwatch_dashboard_month")
    add("CloudWatch", "custom metrics (EMF)", len(measured.metric_series), "metric-months", "cloudwatch_metric_month")
    log_bytes = sum(u.log_bytes + u.invocations * LOG_BYTES_PER_INVOCATION for u in usage.values()) * scale
    add("CloudWatch", "logs ingested", log_bytes / GB, "GB", "logs_ingested_gb")
    kept = log_bytes / GB * min(1.0, facts.log_retention_days / 30.4)
    add("CloudWatch", "logs stored (uncompressed: an upper bound)", kept, "GB-month", "logs_stored_gb_month")

    # X-Ray: Lambda samples per function: the first request in a second, then 5% (Poisson arrivals in business hours)
    traces = 0.0
    for name, used in usage.items():
        if facts.tracing.get(name):
            rate = used.invocations * scale / business_seconds
            first = 1 - math.exp(-rate)  # P(at least one request in a second)
            traces += (first * XRAY_RESERVOIR_PER_SECOND + XRAY_EXTRA_RATE * max(rate - first, 0.0)) * business_seconds
    add("X-Ray", "traces recorded", traces, "traces", "xray_trace")

    # KMS: AWS-managed keys have no monthly fee; the services' data-key requests are billed.
    key_users = 3 + (4 if facts.creates_stream else 0)  # the three tables, the stream's four shards
    add(
        "KMS",
        "requests by DynamoDB and Kinesis (AWS-managed keys)",
        key_users * KMS_REQUESTS_PER_KEY_USER_HOUR * HOURS_PER_MONTH,
        "requests",
        "kms_request",
    )
    return lines


def _stored_gb(measured: Measurement, agents: int, scale: float) -> tuple[float, float]:
    """Steady-state table sizes: one item per agent; contacts kept stateTtlDays (90) after their events."""
    per_agent = _average_item(measured, "AgentState")
    items = max(measured.table_items["ContactState"], 1)
    per_contact = measured.table_bytes["ContactState"] / items
    per_contact_indexes = measured.index_bytes["ContactState"] / items
    contacts_kept = measured.table_items["ContactState"] * scale * 90 / 30.4
    tables = agents * per_agent + contacts_kept * per_contact
    return (tables + contacts_kept * per_contact_indexes) / GB, tables / GB


# --- the report ------------------------------------------------------------------------------------------------------
WRITES = ("dynamodb:UpdateItem", "dynamodb:PutItem")


def _average_item(measured: Measurement, table: str) -> float:
    return measured.table_bytes[table] / max(measured.table_items[table], 1)


def report(measured: Measurement, facts: StackFacts) -> str:
    out: list[str] = []
    hours = measured.agent_hours
    usage = measured.usage
    traffic = measured.traffic
    out.append(f"make cost: connect-realtime-state, a month in {REGION}, USD, list prices without free tiers")
    out.append("")
    out.append(
        f"measured: {measured.agents} agents for {measured.minutes:g} simulated minutes (seed {measured.seed}), every "
        "invocation run "
        "through the real handlers on moto; per agent-hour:"
    )
    per = {
        "agent event records": traffic.agent_records / hours,
        "contact events": traffic.contact_events / hours,
        "contacts": measured.contacts / hours,
        "invocations, agent events": usage[AGENT_FUNCTION].invocations / hours,
        "invocations, contact events": usage[CONTACT_FUNCTION].invocations / hours,
        "invocations, enrichment": usage[ENRICHMENT_FUNCTION].invocations / hours,
        "DynamoDB requests": sum(
            c for u in usage.values() for op, c in u.requests.items() if op.startswith("dynamodb:")
        )
        / hours,
        "DynamoDB WRU": sum(sum(u.write_units.values()) for u in usage.values()) / hours,
        "DynamoDB RRU": sum(sum(u.read_units.values()) for u in usage.values()) / hours,
        "DescribeContact calls": usage[ENRICHMENT_FUNCTION].describe_contact_calls / hours,
        "SQS messages from EventBridge": sum(traffic.deliveries.values()) / hours,
        "Contact Abandoned published": sum(u.events_published for u in usage.values()) / hours,
        "log KB written by the functions": sum(u.log_bytes for u in usage.values()) / 1024 / hours,
    }
    for name, value in per.items():
        out.append(f"  {name:<34} {value:>9.1f}")
    writes = sum(c for u in usage.values() for op, c in u.requests.items() if op in WRITES)
    units = sum(sum(u.write_units.values()) for u in usage.values())
    agent_item, contact_item = _average_item(measured, "AgentState"), _average_item(measured, "ContactState")
    out.append(
        f"  (WRU per write {units / max(writes, 1):.2f}: agent items average {agent_item:,.0f} bytes, contact items "
        f"{contact_item:,.0f}, and the contact table's two indexes take their own writes)"
    )
    failed = sum(u.failed_records for u in usage.values())
    out.append(f"  records reported failed and retried: {failed}")
    out.append("")
    tables = {size: monthly(measured, facts, size) for size in SIZES}
    header = f"{'service':<12} {'line':<62}" + "".join(f"{f'{size:,} agents':>15}" for size in SIZES)
    out.append(header)
    out.append("-" * len(header))
    totals = dict.fromkeys(SIZES, 0.0)
    services: dict[str, dict[int, float]] = {}
    for index, line in enumerate(tables[SIZES[0]]):
        values = [tables[size][index].usd for size in SIZES]
        for size, value in zip(SIZES, values, strict=True):
            totals[size] += value
            services.setdefault(line.service, dict.fromkeys(SIZES, 0.0))[size] += value
        out.append(f"{line.service:<12} {line.item:<62}" + "".join(f"{value:>15,.2f}" for value in values))
    out.append("-" * len(header))
    for service, by_size in services.items():
        out.append(f"{service:<12} {'subtotal':<62}" + "".join(f"{by_size[size]:>15,.2f}" for size in SIZES))
    out.append(f"{'TOTAL':<12} {'per month':<62}" + "".join(f"{totals[size]:>15,.2f}" for size in SIZES))
    out.append(f"{'':<12} {'per agent per month':<62}" + "".join(f"{totals[size] / size:>15,.3f}" for size in SIZES))
    out.append("")
    out.append("assumptions:")
    for text in (
        f"each agent logged in {HOURS_PER_DAY} h a day, {DAYS_PER_MONTH} days a month "
        f"({HOURS_PER_DAY * DAYS_PER_MONTH} agent-hours), at the simulator's traffic; the stream, alarms, dashboard "
        f"and the queues' pollers bill all {HOURS_PER_MONTH} hours",
        "linear scaling from the measured hour: an upper bound for invocations and writes (bigger batches at scale)",
        f"Lambda duration: CPU time in the handler outside AWS calls on this machine x {FULL_VCPU_MB}/memory "
        f"(a 512 MB function has 512/{FULL_VCPU_MB} of a vCPU) + {AWS_CALL_SECONDS * 1000:.0f} ms per AWS request + "
        f"{DESCRIBE_CONTACT_SECONDS * 1000:.0f} ms per DescribeContact + cold starts in {COLD_START_SHARE:.0%} of "
        "invocations, each the handler's measured import time (scaled the same way)",
        f"logs: what the functions wrote (INFO) + {LOG_BYTES_PER_INVOCATION} bytes of Lambda's own records per "
        "invocation; X-Ray: Lambda's sampling (1 request a second, then 5%) on Poisson arrivals",
        f"SQS: Lambda's pollers wait {SQS_LONG_POLL_SECONDS} s per empty receive, {SQS_IDLE_POLLERS} per queue at low "
        f"traffic, {SQS_IDLE_POLLERS_WITH_MAX_CONCURRENCY} on a queue with maximum concurrency (the enrichment queues)",
        "KMS: one data-key request per table and per stream shard every 5 minutes; with kmsKeyArn the key's $1/month "
        "is your existing key's (the one Connect uses)",
        "not priced: EventBridge's AWS-service events and rule deliveries (free), SNS alarm notifications, the failed "
        "batches bucket (S3, empty unless batches fail), the CDK bootstrap bucket, data transfer (none leaves the "
        "Region), Amazon Connect itself and its DescribeContact API",
    ):
        out.append(f"  - {text}")
    out.append("")
    out.append(f"prices (USD; US East list prices: no {REGION} price list is readable offline; check calculator.aws):")
    for name, price in PRICES.items():
        amount = f"{price.usd:.4g} per" if price.usd >= 0.01 else f"{price.usd * 1e6:.4g} per million,"
        out.append(f"  {name:<28} {amount} {price.per}; {price.source}, {price.date}")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.cost", description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=20, help="agents in the measured hour (default 20)")
    parser.add_argument("--minutes", type=float, default=60, help="simulated minutes measured (default 60)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    facts = stack_facts()
    measured = measure(args.agents, args.minutes, args.seed, facts)
    print(report(measured, facts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
