"""The state the pipeline must end in after the simulated events, and how close a real run came to it.

`expected_state(simulation, quarantined)` gives, per agent and per contact, the subset of the table contract
(README, "The agent state table" and "The contact state table") that the pipeline must reproduce exactly, worked out
from the simulation itself, not from the project's domain code, so comparing the two is a real check:

- agents (key `agentArn`): `statusName`, `statusType`, `statusStartTimestamp`, `activity`, `loggedIn`, `contactIds`
  (the sorted ids of the item's `contacts`), `lastAfterContactWork` (`contactId`, `startTimestamp`, `endTimestamp`,
  `durationSeconds` to the millisecond) or None;
- contacts (key `contactId`), from the contact events: `status`, `abandoned`, `channel`, `initiationMethod`,
  `initialContactId`, `previousContactId`, `queueArn`, `agentArn`, `initiationTimestamp`,
  `connectedToSystemTimestamp`, `enqueueTimestamp`, `connectedToAgentTimestamp`, `disconnectTimestamp`, and from the
  COMPLETED event `afterContactWorkStartTimestamp`, `afterContactWorkEndTimestamp`, `afterContactWorkDuration`,
  `agentInitiatedHoldDuration`;
- contacts, from DescribeContact enrichment, only for contacts whose COMPLETED event is delivered:
  `disconnectReason`, `recordings` (compared as a count: a list's length, absent = 0) and
  `enrichmentStatus` = "ENRICHED". Contacts still open when the simulation ends are not checked on these.

An expected value of None means the attribute must be absent (or null); a field missing from an expectation is not
checked. Timestamps are in the state's canonical form `yyyy-mm-ddThh:mm:ss.sssZ`. The expected number of quarantined
records (the malformed ones put into the delivery) is in `quarantined`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from demo.connect_payloads import iso_ms
from demo.contact_centre import (
    STATUS_TYPES,
    Agent,
    Contact,
    Simulation,
    agent_activity,
)

AGENT_FIELDS = (
    "statusName",
    "statusType",
    "statusStartTimestamp",
    "activity",
    "loggedIn",
    "contactIds",
    "lastAfterContactWork",
)
CONTACT_EVENT_FIELDS = (
    "status",
    "abandoned",
    "channel",
    "initiationMethod",
    "initialContactId",
    "previousContactId",
    "queueArn",
    "agentArn",
    "initiationTimestamp",
    "connectedToSystemTimestamp",
    "enqueueTimestamp",
    "connectedToAgentTimestamp",
    "disconnectTimestamp",
    "afterContactWorkStartTimestamp",
    "afterContactWorkEndTimestamp",
    "afterContactWorkDuration",
    "agentInitiatedHoldDuration",
)
ENRICHMENT_FIELDS = ("disconnectReason", "recordings", "enrichmentStatus")
CONTACT_FIELDS = CONTACT_EVENT_FIELDS + ENRICHMENT_FIELDS
ENRICHED = "ENRICHED"

AGENT_TABLE = "agent"
CONTACT_TABLE = "contact"


@dataclass(frozen=True)
class GroundTruth:
    agents: Mapping[str, Mapping[str, Any]]  # agentArn -> expected attributes
    contacts: Mapping[str, Mapping[str, Any]]  # contactId -> expected attributes
    quarantined: Mapping[str, int]  # {"agent": n, "contact": m}: malformed records the pipeline must quarantine
    config: Mapping[str, Any] = field(default_factory=dict)  # the simulation's configuration, to regenerate it

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())

    @property
    def abandoned_published(self) -> int:
        """`Contact Abandoned` events the pipeline publishes: abandoned contacts whose COMPLETED is delivered."""
        return sum(1 for c in self.contacts.values() if c.get("abandoned") and c.get("status") == "COMPLETED")

    def to_json(self) -> str:
        document = {
            "config": dict(self.config),
            "quarantined": dict(self.quarantined),
            "fields": {
                "agent": list(AGENT_FIELDS),
                "contactEvents": list(CONTACT_EVENT_FIELDS),
                "enrichment": list(ENRICHMENT_FIELDS),
            },
            "agents": {arn: dict(expected) for arn, expected in self.agents.items()},
            "contacts": {contact_id: dict(expected) for contact_id, expected in self.contacts.items()},
        }
        return json.dumps(document, indent=1, default=_json_default) + "\n"

    @classmethod
    def from_json(cls, text: str) -> GroundTruth:
        document = json.loads(text, parse_float=Decimal)
        return cls(
            agents=document["agents"],
            contacts=document["contacts"],
            quarantined={name: int(count) for name, count in document["quarantined"].items()},
            config=document.get("config", {}),
        )


def expected_state(simulation: Simulation, quarantined: Mapping[str, int] | None = None) -> GroundTruth:
    """Every agent that sent at least one event and every contact that sent at least one contact event."""
    agents = {agent.arn: expected_agent(agent) for agent in simulation.agents if agent.events_emitted}
    contacts = {contact.contact_id: expected_contact(contact) for contact in simulation.contacts.values()}
    return GroundTruth(
        agents=agents,
        contacts={contact_id: expected for contact_id, expected in contacts.items() if expected["status"] is not None},
        quarantined=dict(quarantined or {AGENT_TABLE: 0, CONTACT_TABLE: 0}),
        config=simulation.config.to_json(),
    )


def expected_agent(agent: Agent) -> dict[str, Any]:
    acw = agent.last_acw
    return {
        "statusName": agent.status,
        "statusType": STATUS_TYPES[agent.status],
        "statusStartTimestamp": iso_ms(agent.status_start_ms),
        "activity": agent_activity(agent),
        "loggedIn": agent.logged_in,
        "contactIds": sorted(agent.contacts),
        "lastAfterContactWork": (
            {
                "contactId": acw.contact_id,
                "startTimestamp": iso_ms(acw.start_ms),
                "endTimestamp": iso_ms(acw.end_ms),
                "durationSeconds": Decimal(acw.end_ms - acw.start_ms) / 1000,
            }
            if acw is not None
            else None
        ),
    }


def expected_contact(contact: Contact) -> dict[str, Any]:
    connected = contact.connected_to_agent_ms is not None
    completed_with_agent = contact.completed and connected
    expected: dict[str, Any] = {
        "status": contact.furthest_stage,
        "abandoned": contact.abandoned,
        "channel": contact.channel,
        "initiationMethod": contact.initiation_method,
        "initialContactId": contact.initial_contact_id,
        "previousContactId": contact.previous_contact_id,
        "queueArn": contact.queue.arn if contact.queue is not None and contact.enqueue_ms is not None else None,
        "agentArn": contact.agent.arn if contact.agent is not None and connected else None,
        "initiationTimestamp": _iso(contact.initiation_ms),
        "connectedToSystemTimestamp": _iso(contact.connected_to_system_ms),
        "enqueueTimestamp": _iso(contact.enqueue_ms),
        "connectedToAgentTimestamp": _iso(contact.connected_to_agent_ms),
        "disconnectTimestamp": _iso(contact.disconnect_ms),
        "afterContactWorkStartTimestamp": _iso(contact.acw_start_ms) if completed_with_agent else None,
        "afterContactWorkEndTimestamp": _iso(contact.acw_end_ms) if completed_with_agent else None,
        "afterContactWorkDuration": contact.acw_duration_seconds if completed_with_agent else None,
        "agentInitiatedHoldDuration": contact.hold_seconds if completed_with_agent else None,
    }
    if contact.completed:
        expected["disconnectReason"] = contact.disconnect_reason
        expected["recordings"] = 1 if contact.recorded else 0
        expected["enrichmentStatus"] = ENRICHED
    return expected


# --- comparison ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mismatch:
    table: str  # "agent" / "contact"
    id: str  # agentArn / contactId
    field: str  # "(missing item)" when the pipeline has no item at all
    expected: Any
    actual: Any

    def __str__(self) -> str:
        return f"{self.table} {self.id} {self.field}: expected {self.expected!r}, got {self.actual!r}"


@dataclass(frozen=True)
class Agreement:
    items_total: int
    items_matched: int
    fields_checked: int
    mismatches: tuple[Mismatch, ...]
    missing: tuple[str, ...]  # expected ids with no actual item
    unexpected: tuple[str, ...]  # actual items nobody expected (not counted against the agreement)
    by_table: Mapping[str, tuple[int, int]]  # table -> (matched, total)

    @property
    def percent(self) -> float:
        return 100.0 * self.items_matched / self.items_total if self.items_total else 100.0

    @property
    def perfect(self) -> bool:
        return self.items_matched == self.items_total

    def mismatches_by_field(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for mismatch in self.mismatches:
            key = f"{mismatch.table}.{mismatch.field}"
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items()))

    def __str__(self) -> str:
        return f"agreement {self.percent:.1f}% ({self.items_matched}/{self.items_total})"

    def report(self, limit: int = 20) -> str:
        """The one-line figure, the figure per table, mismatch counts per field, then the first mismatches."""
        lines = [str(self)]
        lines += [f"  {table}: {matched}/{total}" for table, (matched, total) in self.by_table.items()]
        lines += [f"  {name}: {count} mismatched" for name, count in self.mismatches_by_field().items()]
        lines += [f"  {mismatch}" for mismatch in self.mismatches[:limit]]
        if len(self.mismatches) > limit:
            lines.append(f"  ... and {len(self.mismatches) - limit} more")
        if self.unexpected:
            lines.append(f"  {len(self.unexpected)} items not in the ground truth (ignored)")
        return "\n".join(lines)


def compare(
    expected: GroundTruth,
    actual_items: Iterable[Mapping[str, Any]],
    *,
    include_enrichment: bool = True,
    agent_fields: Sequence[str] = AGENT_FIELDS,
    contact_fields: Sequence[str] | None = None,
) -> Agreement:
    """Compare the items of both tables (in any mix: an item with `contactId` is a contact, else one with `agentArn`
    an agent) with the ground truth. An item matches when every checked field matches.

    `include_enrichment=False` leaves out the DescribeContact-only fields (`ENRICHMENT_FIELDS`). An empty field list
    leaves a table out; an expected item with none of the fields is not counted.
    """
    if contact_fields is None:
        contact_fields = CONTACT_FIELDS if include_enrichment else CONTACT_EVENT_FIELDS
    elif not include_enrichment:
        contact_fields = tuple(name for name in contact_fields if name not in ENRICHMENT_FIELDS)
    agents: dict[str, Mapping[str, Any]] = {}
    contacts: dict[str, Mapping[str, Any]] = {}
    for item in actual_items:
        if "contactId" in item:
            contacts[str(item["contactId"])] = item
        elif "agentArn" in item:
            agents[str(item["agentArn"])] = item
    mismatches: list[Mismatch] = []
    missing: list[str] = []
    by_table: dict[str, tuple[int, int]] = {}
    fields_checked = 0
    for table, wanted, found, names in (
        (AGENT_TABLE, expected.agents, agents, agent_fields),
        (CONTACT_TABLE, expected.contacts, contacts, contact_fields),
    ):
        if not names:
            continue  # that table is not compared
        matched = total = 0
        for item_id, expectation in wanted.items():
            if not any(name in expectation for name in names):
                continue  # nothing to check on this item (say, enrichment of a contact still open)
            total += 1
            actual_item = found.get(item_id)
            if actual_item is None:
                missing.append(item_id)
                mismatches.append(Mismatch(table, item_id, "(missing item)", "an item", None))
                continue
            item_mismatches = []
            for name in names:
                if name not in expectation:
                    continue
                fields_checked += 1
                actual = _actual(table, name, actual_item)
                if not _equal(expectation[name], actual):
                    item_mismatches.append(Mismatch(table, item_id, name, expectation[name], actual))
            mismatches += item_mismatches
            matched += not item_mismatches
        by_table[table] = (matched, total)
    unexpected = [i for i in agents if i not in expected.agents] + [i for i in contacts if i not in expected.contacts]
    return Agreement(
        items_total=sum(total for _, total in by_table.values()),
        items_matched=sum(matched for matched, _ in by_table.values()),
        fields_checked=fields_checked,
        mismatches=tuple(mismatches),
        missing=tuple(missing),
        unexpected=tuple(unexpected),
        by_table=by_table,
    )


def _actual(table: str, name: str, item: Mapping[str, Any]) -> Any:
    if table == AGENT_TABLE and name == "contactIds":
        return sorted(str(c.get("contactId")) for c in item.get("contacts") or [])
    if table == CONTACT_TABLE and name == "recordings":
        recordings = item.get("recordings")
        if recordings is None:
            return 0
        return recordings if isinstance(recordings, int | Decimal) else len(recordings)
    return item.get(name)


def _equal(expected: Any, actual: Any) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, int | float | Decimal) and isinstance(actual, int | float | Decimal):
        return _decimal(expected) == _decimal(actual)
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        return all(_equal(value, actual.get(key)) for key, value in expected.items())
    if isinstance(expected, list | tuple) and isinstance(actual, list | tuple):
        return len(expected) == len(actual) and all(_equal(e, a) for e, a in zip(expected, actual, strict=True))
    return bool(expected == actual)


def _decimal(value: int | float | Decimal) -> Decimal:
    """Durations are compared to the millisecond, however they were stored (DynamoDB Decimal, JSON float)."""
    return Decimal(str(value)).quantize(Decimal("0.001"))


def _iso(ms: int | None) -> str | None:
    return iso_ms(ms) if ms is not None else None


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
