"""Simulate a contact centre and write what the pipeline would receive, in delivery order, as JSON lines.

    .venv/bin/python -m demo.simulate --agents 50 --minutes 60 --seed 7 --out events.jsonl

writes `events.jsonl` and the expected final state `events.truth.json` beside it (demo.ground_truth), and prints a
one-line summary. The same seed gives byte-identical files.

Line format (one JSON object per line, UTF-8; the same reader serves replays of real captures, see `parse_line`):

- An agent event stream record (Kinesis):
  `{"kind": "agent", "partitionKey": <AgentARN>, "sequenceNumber": <decimal string>, "data": <base64>}`.
  `data` is the record's payload exactly as Lambda hands it over: base64 of the agent event JSON. A redelivered
  record keeps its sequence number (it is the same Kinesis record).
- A contact event (EventBridge, through the SQS buffer): `{"kind": "contact", "event": <EventBridge event>}`.
  `event` is an object (send `json.dumps(event)` as the SQS message body) or a string (send it as it is: a body that
  is not a JSON object, such as a truncated one).
- Informational keys the pipeline must not need: `deliveredAt` (simulated arrival time), `duplicate` (true on a
  redelivered copy), `malformed` (what is wrong with a record the pipeline must quarantine).
- Accepted when replaying a capture: a bare EventBridge event (an object with `detail-type`/`detail`), a bare Kinesis
  record (`{"data": ..., "partitionKey"?: ..., "sequenceNumber"?: ...}`, also with boto3's capitalised `Data`/
  `PartitionKey`/`SequenceNumber`, or Lambda's `{"kinesis": {...}}` record), and a bare agent event (an object with
  `AgentARN`: it is base64-encoded as Connect would).

Delivery disorder (`Disorder`), what Kinesis, Lambda and EventBridge really do:
- agent events: one agent's records stay in the order Connect wrote them (partition key = AgentARN, one shard per
  agent); Lambda batches (records within a second, at most 100 per shard) are sometimes delivered again, whole or
  their second half (a retried, bisected batch), before the shard moves on;
- contact events: each arrives a few seconds after it happened, so neighbours are shuffled within that window; a few
  are delivered twice (same EventBridge `id`) and a few minutes late;
- a few malformed records of each stream: invalid base64, not JSON, an agent event without `EventTimestamp`, a
  contact event with another detail-type or without `contactId`. They are exactly `GroundTruth.quarantined`.
Valid contact events are never lost: every one is delivered at least once (EventBridge is best effort, but a demo
that expects 100% agreement cannot lose any). Agent events are never lost either.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import random
import sys
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from demo.connect_payloads import iso_ms
from demo.contact_centre import (
    CHAT,
    DEFAULT_INSTANCE_ARN,
    DEFAULT_START,
    INBOUND_VOICE,
    IVR_ONLY,
    OUTBOUND,
    TRANSFER,
    AgentRecord,
    Simulation,
    SimulationConfig,
    shard_of,
    simulate,
)
from demo.ground_truth import AGENT_TABLE, CONTACT_TABLE, GroundTruth, expected_state

AGENT = "agent"
CONTACT = "contact"
KIND_LABELS = (
    (INBOUND_VOICE, "inbound voice"),
    (CHAT, "chat"),
    (OUTBOUND, "outbound"),
    (IVR_ONLY, "IVR-only"),
    (TRANSFER, "transfers"),
)


@dataclass(frozen=True)
class Disorder:
    shards: int = 2
    batch_window_ms: int = 1_000  # Lambda's batching window
    batch_size: int = 100
    agent_latency_ms: tuple[int, int] = (200, 1_500)
    batch_redelivery: float = 0.03
    contact_delay_ms: tuple[int, int] = (50, 5_000)
    contact_late: float = 0.02
    contact_late_ms: tuple[int, int] = (120_000, 600_000)
    contact_duplicate: float = 0.04
    contact_duplicate_delay_ms: tuple[int, int] = (200, 90_000)
    malformed_per_thousand: float = 1.5

    @classmethod
    def none(cls) -> Disorder:
        """In order, once each, nothing malformed (except the small delivery delays)."""
        return cls(batch_redelivery=0.0, contact_late=0.0, contact_duplicate=0.0, malformed_per_thousand=0.0)


@dataclass(frozen=True)
class Delivery:
    kind: str  # "agent" / "contact"
    arrival_ms: int
    line: dict[str, Any]  # the JSONL object
    malformed: str | None = None
    duplicate: bool = False

    def to_jsonl(self) -> str:
        return json.dumps(self.line, separators=(",", ":"))


@dataclass(frozen=True)
class KinesisDelivery:
    """An agent event stream record: `data` is base64, as in Lambda's `Records[].kinesis.data`."""

    data: str
    partition_key: str | None = None
    sequence_number: str | None = None


@dataclass(frozen=True)
class EventBridgeDelivery:
    """A contact event: `body` is the SQS message body (the EventBridge event's JSON, or broken text)."""

    body: str


def deliver(simulation: Simulation, disorder: Disorder | None = None) -> list[Delivery]:
    """Every record of the simulation, in the order the pipeline receives them (deterministic for the seed)."""
    disorder = disorder or Disorder()
    rng = random.Random(simulation.config.seed * 1_000_003 + 17)
    pending: list[tuple[int, int, Delivery]] = []

    def add(delivery: Delivery) -> None:
        pending.append((delivery.arrival_ms, len(pending), delivery))

    for shard in range(disorder.shards):
        records = [r for r in simulation.agent_records if shard_of(r.agent_arn, disorder.shards) == shard]
        for delivery in _shard_deliveries(records, disorder, rng):
            add(delivery)
    for record in simulation.contact_records:
        arrival = record.emitted_ms + rng.randint(*disorder.contact_delay_ms)
        if rng.random() < disorder.contact_late:
            arrival += rng.randint(*disorder.contact_late_ms)
        add(Delivery(CONTACT, arrival, _contact_line(record.event, arrival)))
        if rng.random() < disorder.contact_duplicate:
            again = arrival + rng.randint(*disorder.contact_duplicate_delay_ms)
            add(Delivery(CONTACT, again, _contact_line(record.event, again, duplicate=True), duplicate=True))
    for delivery in _malformed(simulation, disorder, rng):
        add(delivery)
    pending.sort(key=lambda entry: (entry[0], entry[1]))
    return [delivery for _, _, delivery in pending]


def _shard_deliveries(records: list[AgentRecord], disorder: Disorder, rng: random.Random) -> Iterator[Delivery]:
    clock = 0
    index = 0
    while index < len(records):
        first = records[index]
        batch = [first]
        index += 1
        while (
            index < len(records)
            and len(batch) < disorder.batch_size
            and records[index].emitted_ms < first.emitted_ms + disorder.batch_window_ms
        ):
            batch.append(records[index])
            index += 1
        clock = max(clock, batch[-1].emitted_ms + rng.randint(*disorder.agent_latency_ms))
        for record in batch:
            yield Delivery(AGENT, clock, _agent_line(record, clock))
        if rng.random() < disorder.batch_redelivery:
            # The batch failed part-way and Lambda retries it (bisected: its second half) before moving on.
            again = batch if len(batch) < 2 or rng.random() < 0.5 else batch[len(batch) // 2 :]
            clock += rng.randint(500, 3_000)
            for record in again:
                yield Delivery(AGENT, clock, _agent_line(record, clock, duplicate=True), duplicate=True)


def _agent_line(record: AgentRecord, arrival: int, *, duplicate: bool = False) -> dict[str, Any]:
    line: dict[str, Any] = {
        "kind": AGENT,
        "partitionKey": record.agent_arn,
        "sequenceNumber": record.sequence_number,
        "deliveredAt": iso_ms(arrival),
    }
    if duplicate:
        line["duplicate"] = True
    line["data"] = _base64_json(record.event)
    return line


def _contact_line(event: Any, arrival: int, *, duplicate: bool = False, malformed: str | None = None) -> dict[str, Any]:
    line: dict[str, Any] = {"kind": CONTACT, "deliveredAt": iso_ms(arrival)}
    if duplicate:
        line["duplicate"] = True
    if malformed:
        line["malformed"] = malformed
    line["event"] = event
    return line


def _base64_json(document: Any) -> str:
    return base64.b64encode(json.dumps(document, separators=(",", ":")).encode()).decode()


AGENT_MALFORMED = ("invalid base64", "not JSON", "agent event without EventTimestamp")
CONTACT_MALFORMED = ("not JSON", "wrong detail-type", "contact event without contactId")


def _malformed(simulation: Simulation, disorder: Disorder, rng: random.Random) -> Iterator[Delivery]:
    """A few records of each stream, each a corrupted copy of a real one, arriving shortly after it."""
    if disorder.malformed_per_thousand <= 0:
        return

    def how_many(records: Sequence[object], kinds: Sequence[str]) -> int:
        return max(len(kinds), round(len(records) * disorder.malformed_per_thousand / 1000)) if records else 0

    for n in range(how_many(simulation.agent_records, AGENT_MALFORMED)):
        agent_record = rng.choice(simulation.agent_records)
        arrival = agent_record.emitted_ms + rng.randint(*disorder.agent_latency_ms)
        kind = AGENT_MALFORMED[n % len(AGENT_MALFORMED)]
        yield Delivery(AGENT, arrival, _bad_agent_line(kind, agent_record, arrival, rng), malformed=kind)
    for n in range(how_many(simulation.contact_records, CONTACT_MALFORMED)):
        contact_record = rng.choice(simulation.contact_records)
        arrival = contact_record.emitted_ms + rng.randint(*disorder.contact_delay_ms)
        kind = CONTACT_MALFORMED[n % len(CONTACT_MALFORMED)]
        yield Delivery(CONTACT, arrival, _bad_contact_line(kind, contact_record.event, arrival, rng), malformed=kind)


def _bad_agent_line(kind: str, record: AgentRecord, arrival: int, rng: random.Random) -> dict[str, Any]:
    event = record.event
    text = json.dumps(event, separators=(",", ":"))
    if kind == "invalid base64":
        data = "!" + base64.b64encode(text.encode()).decode()[: rng.randint(20, 80)] + "*=="
    elif kind == "not JSON":
        data = base64.b64encode(text[: rng.randint(10, len(text) // 2)].encode()).decode()
    else:
        broken = {key: value for key, value in event.items() if key != "EventTimestamp"}
        data = _base64_json(broken)
    return {
        "kind": AGENT,
        "partitionKey": record.agent_arn,
        # A record of its own, written to the shard right after the one it was corrupted from.
        "sequenceNumber": str(int(record.sequence_number) + rng.randint(1, 999)),
        "deliveredAt": iso_ms(arrival),
        "malformed": kind,
        "data": data,
    }


def _bad_contact_line(kind: str, event: dict[str, Any], arrival: int, rng: random.Random) -> dict[str, Any]:
    broken: Any
    if kind == "not JSON":
        text = json.dumps(event)
        broken = text[: rng.randint(10, len(text) // 2)]
    else:
        broken = copy.deepcopy(event)
        broken["id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if kind == "wrong detail-type":
            broken["detail-type"] = "Amazon Connect Contact Lens Realtime Rules Matched"
        else:
            del broken["detail"]["contactId"]
    return _contact_line(broken, arrival, malformed=kind)


# --- reading lines back -------------------------------------------------------------------------------------------
def parse_line(line: str) -> KinesisDelivery | EventBridgeDelivery:
    """One line of the format above (ours or a capture's) as what the pipeline receives. ValueError if unreadable."""
    document = json.loads(line)
    if not isinstance(document, dict):
        raise ValueError(f"a line must hold a JSON object, got a {type(document).__name__}")
    kind = document.get("kind")
    if kind == AGENT:
        return KinesisDelivery(document["data"], document.get("partitionKey"), document.get("sequenceNumber"))
    if kind == CONTACT:
        event = document["event"]
        return EventBridgeDelivery(event if isinstance(event, str) else json.dumps(event))
    if isinstance(document.get("kinesis"), dict):
        document = document["kinesis"]
    for data, key, sequence in (("data", "partitionKey", "sequenceNumber"), ("Data", "PartitionKey", "SequenceNumber")):
        if data in document:
            return KinesisDelivery(str(document[data]), document.get(key), document.get(sequence))
    if "AgentARN" in document:
        return KinesisDelivery(_base64_json(document), str(document["AgentARN"]), None)
    return EventBridgeDelivery(line.strip())


def read_deliveries(lines: Iterable[str]) -> Iterator[KinesisDelivery | EventBridgeDelivery]:
    """Every non-blank line, parsed; a line that cannot be read raises ValueError naming its number."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield parse_line(line)
        except (ValueError, KeyError) as error:
            raise ValueError(f"line {number}: {error}") from error


def read_file(path: Path | str) -> Iterator[KinesisDelivery | EventBridgeDelivery]:
    with Path(path).open(encoding="utf-8") as lines:
        yield from read_deliveries(lines)


# --- a whole run --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Run:
    simulation: Simulation
    deliveries: list[Delivery]
    truth: GroundTruth

    def counts(self) -> dict[str, int]:
        contacts = list(self.simulation.contacts.values())
        by_kind = self.simulation.contacts_by_kind()
        return {
            "agents": len(self.simulation.agents),
            "contacts": len(contacts),
            **{f"contacts.{kind}": count for kind, count in by_kind.items()},
            "contacts.abandoned": sum(1 for c in contacts if c.abandoned),
            "contacts.held": sum(1 for c in contacts if c.holds),
            "records": len(self.deliveries),
            "records.agent": sum(1 for d in self.deliveries if d.kind == AGENT),
            "records.contact": sum(1 for d in self.deliveries if d.kind == CONTACT),
            "malformed": sum(1 for d in self.deliveries if d.malformed),
            "duplicates": sum(1 for d in self.deliveries if d.duplicate),
        }

    def summary(self) -> str:
        c = self.counts()
        config = self.simulation.config
        kinds = ", ".join(f"{label} {c['contacts.' + kind]}" for kind, label in KIND_LABELS)
        return (
            f"simulated {c['agents']} agents for {config.minutes:g} min from {iso_ms(self.simulation.start_ms)} "
            f"(seed {config.seed}): {c['contacts']} contacts ({kinds}; "
            f"abandoned {c['contacts.abandoned']}, held {c['contacts.held']}); "
            f"{c['records']} records (agent {c['records.agent']}, contact {c['records.contact']}), "
            f"malformed {c['malformed']}, duplicates {c['duplicates']}"
        )


def generate(config: SimulationConfig | None = None, disorder: Disorder | None = None) -> Run:
    """Simulate, deliver and work out the expected state."""
    simulation = simulate(config or SimulationConfig())
    deliveries = deliver(simulation, disorder or Disorder())
    quarantined = {
        AGENT_TABLE: sum(1 for d in deliveries if d.malformed and d.kind == AGENT),
        CONTACT_TABLE: sum(1 for d in deliveries if d.malformed and d.kind == CONTACT),
    }
    return Run(simulation, deliveries, expected_state(simulation, quarantined))


def truth_path_for(out: Path) -> Path:
    """`events.jsonl` -> `events.truth.json`."""
    return out.with_name(f"{out.stem if out.suffix else out.name}.truth.json")


def write(run: Run, out: Path, truth: Path | None = None) -> tuple[Path, Path]:
    truth = truth or truth_path_for(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as file:
        for delivery in run.deliveries:
            file.write(delivery.to_jsonl())
            file.write("\n")
    truth.write_text(run.truth.to_json(), encoding="utf-8")
    return out, truth


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m demo.simulate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=50, help="number of agents (default 50)")
    parser.add_argument("--minutes", type=float, default=60.0, help="simulated duration (default 60)")
    parser.add_argument("--seed", type=int, default=7, help="random seed: the same seed gives the same files")
    parser.add_argument("--out", type=Path, default=Path("events.jsonl"), help="the JSONL file (default events.jsonl)")
    parser.add_argument("--truth", type=Path, help="the ground truth file (default: <out stem>.truth.json)")
    parser.add_argument(
        "--start",
        default=iso_ms(int(DEFAULT_START.timestamp() * 1000)),
        help="simulated start, ISO-8601 UTC (default %(default)s)",
    )
    parser.add_argument(
        "--instance-arn", default=DEFAULT_INSTANCE_ARN, help="the Connect instance ARN (default %(default)s)"
    )
    parser.add_argument("--load", type=float, default=1.0, help="multiplier of every arrival rate (default 1.0)")
    parser.add_argument("--shards", type=int, default=2, help="Kinesis shards of the agent stream (default 2)")
    parser.add_argument("--in-order", action="store_true", help="no duplicates, no late events, nothing malformed")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        start = datetime.fromisoformat(str(args.start).replace("Z", "+00:00"))
        config = SimulationConfig(
            agents=args.agents,
            minutes=args.minutes,
            seed=args.seed,
            start=start,
            instance_arn=args.instance_arn,
            load=args.load,
        )
        if args.shards < 1:
            raise ValueError(f"shards must be at least 1, got {args.shards}")
    except ValueError as error:
        parser.error(str(error))
    disorder = replace(Disorder.none() if args.in_order else Disorder(), shards=args.shards)
    began = time.perf_counter()
    run = generate(config, disorder)
    out, truth = write(run, args.out, args.truth)
    elapsed = time.perf_counter() - began
    print(f"{run.summary()} -> {out}, {truth} in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
