"""The contact-centre simulator (demo/): deterministic, valid for the project's Parser models, self-consistent,
delivered with realistic disorder, and its ground truth reproduced by the project's own domain merge.

Everything here is BUILT by the simulator from the schemas (SCHEMA-NOTES), not captured.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from connect_state.domain import agent_state, contact_state, enrichment, timestamps
from connect_state.models.agent_event import AgentEvent
from connect_state.models.contact_event import ContactEvent
from connect_state.models.decoder import Rejected, decode_agent_record, parse_contact_event
from demo import simulate as simulator
from demo.connect_payloads import epoch_ms
from demo.contact_centre import (
    CHAT,
    DEFAULT_START,
    IVR_ONLY,
    OUTBOUND,
    TRANSFER,
    Simulation,
    SimulationConfig,
)
from demo.describe_contact import SimulatedConnect
from demo.ground_truth import ENRICHMENT_FIELDS, GroundTruth, compare
from demo.simulate import EventBridgeDelivery, KinesisDelivery, Run, generate, parse_line

pytestmark = pytest.mark.usefixtures("no_network")  # pure, as the unit tier is
CONFIG = SimulationConfig(agents=24, minutes=45, seed=7)
MAX_AGENT_EVENT_BYTES = 131_072
TTL_DAYS = 90
FICTIONAL_PREFIXES = ("+447700900", *(f"+1{area}55501" for area in ("202", "312", "415", "617")))
STAGES_HANDLED = ["INITIATED", "CONNECTED_TO_SYSTEM", "QUEUED", "CONNECTED_TO_AGENT", "DISCONNECTED", "COMPLETED"]


@pytest.fixture(scope="module")
def run() -> Run:
    return generate(CONFIG)


@pytest.fixture(scope="module")
def simulation(run: Run) -> Simulation:
    return run.simulation


def agent_events(simulation: Simulation) -> list[dict[str, Any]]:
    return [record.event for record in simulation.agent_records]


def contact_events(simulation: Simulation) -> list[dict[str, Any]]:
    return [record.event for record in simulation.contact_records]


def events_of(simulation: Simulation, contact_id: str) -> dict[str, dict[str, Any]]:
    return {e["detail"]["eventType"]: e for e in contact_events(simulation) if e["detail"]["contactId"] == contact_id}


def received(run: Run) -> Iterator[KinesisDelivery | EventBridgeDelivery]:
    """What the pipeline gets, line by line, through the JSONL reader."""
    for delivery in run.deliveries:
        yield parse_line(delivery.to_jsonl())


def fold_through_domain(run: Run) -> tuple[list[dict[str, Any]], int]:
    """The pure-domain pipeline: decode each delivery, observe it and merge it into its item, in delivery order."""
    agents: dict[str, agent_state.AgentState] = {}
    contacts: dict[str, contact_state.ContactState] = {}
    rejected = 0
    for delivery in received(run):
        if isinstance(delivery, KinesisDelivery):
            agent_event = decode_agent_record(delivery.data, MAX_AGENT_EVENT_BYTES)
            if not isinstance(agent_event, AgentEvent):
                rejected += 1
                continue
            agent_observation = agent_state.observe(agent_event, delivery.sequence_number)
            arn = agent_observation.agent_arn
            agents[arn], _ = agent_state.merge(agents.get(arn), [agent_observation])
        else:
            contact_event = parse_contact_event(delivery.body)
            if not isinstance(contact_event, ContactEvent):
                rejected += 1
                continue
            contact_observation = contact_state.observe(contact_event)
            contact_id = contact_observation.contact_id
            contacts[contact_id], _ = contact_state.merge(contacts.get(contact_id), [contact_observation])
    items = [agent_state.to_item(state, TTL_DAYS) for state in agents.values()]
    items += [contact_state.to_item(state, TTL_DAYS, 0) for state in contacts.values()]
    return items, rejected


# --- determinism --------------------------------------------------------------------------------------------------
def test_the_same_seed_gives_the_same_lines_and_ground_truth() -> None:
    # Given two runs with the same configuration, and one with another seed
    config = SimulationConfig(agents=8, minutes=15, seed=42)
    first, second = generate(config), generate(config)
    other = generate(replace(config, seed=43))
    # Then the same seed gives byte-identical lines and ground truth; another seed does not
    assert [d.to_jsonl() for d in first.deliveries] == [d.to_jsonl() for d in second.deliveries]
    assert first.truth.to_json() == second.truth.to_json()
    assert [d.to_jsonl() for d in first.deliveries] != [d.to_jsonl() for d in other.deliveries]


def test_the_instance_arn_and_start_are_parameters() -> None:
    # Given another instance and start
    instance = "arn:aws:connect:us-east-1:210987654321:instance/0f0e0d0c-0b0a-4909-8807-060504030201"
    start = datetime.fromisoformat("2027-01-04T13:30:00+00:00")
    simulation = generate(SimulationConfig(agents=4, minutes=10, seed=1, start=start, instance_arn=instance)).simulation
    # Then every ARN is in that instance and every event is after the start
    for event in agent_events(simulation):
        assert event["InstanceARN"] == instance
        assert event["AgentARN"].startswith(f"{instance}/agent/")
        assert event["EventTimestamp"] >= "2027-01-04T13:30:00.000Z"
    for event in contact_events(simulation):
        assert (event["account"], event["region"]) == ("210987654321", "us-east-1")
        assert event["detail"]["instanceArn"] == instance
        assert event["resources"] == [instance, f"{instance}/contact/{event['detail']['contactId']}"]


def test_an_invalid_instance_arn_is_refused() -> None:
    with pytest.raises(ValueError, match="instance ARN"):
        SimulationConfig(instance_arn="arn:aws:connect:eu-west-2:1234:instance/abc")


# --- validity for the project's models --------------------------------------------------------------------------
def test_every_valid_record_is_accepted_and_every_malformed_one_rejected_by_the_parsers(run: Run) -> None:
    # Given every delivery, read back from its JSONL line
    for delivery, record in zip(run.deliveries, received(run), strict=True):
        # When the project's decoders read it
        if isinstance(record, KinesisDelivery):
            parsed: object = decode_agent_record(record.data, MAX_AGENT_EVENT_BYTES)
            expected_type: type = AgentEvent
        else:
            parsed = parse_contact_event(record.body)
            expected_type = ContactEvent
        # Then a valid record is an event and a malformed one is rejected with a reason
        if delivery.malformed:
            assert isinstance(parsed, Rejected), (delivery.malformed, parsed)
        else:
            assert isinstance(parsed, expected_type), parsed  # a contact event without its envelope is Rejected


def test_every_kind_of_malformed_record_is_there_and_counted_in_the_ground_truth(run: Run) -> None:
    malformed = [(d.kind, d.malformed) for d in run.deliveries if d.malformed]
    assert {kind for _, kind in malformed} == set(simulator.AGENT_MALFORMED) | set(simulator.CONTACT_MALFORMED)
    assert run.truth.quarantined == {
        "agent": sum(1 for stream, _ in malformed if stream == "agent"),
        "contact": sum(1 for stream, _ in malformed if stream == "contact"),
    }


def test_agent_events_have_the_shape_of_the_real_captures(simulation: Simulation) -> None:
    statuses = {"Available": "ROUTABLE", "Break": "CUSTOM", "Lunch": "CUSTOM", "Offline": "OFFLINE"}
    seen_types = set()
    for event in agent_events(simulation):
        AgentEvent.model_validate(event)
        assert set(event) == {
            "AWSAccountId",
            "AgentARN",
            "CurrentAgentSnapshot",
            "EventId",
            "EventTimestamp",
            "EventType",
            "InstanceARN",
            "PreviousAgentSnapshot",
            "Version",
        }
        seen_types.add(event["EventType"])
        status = event["CurrentAgentSnapshot"]["AgentStatus"]
        assert statuses[status["Name"]] == status["Type"]
        assert timestamps.canonical(event["EventTimestamp"]) == event["EventTimestamp"]
        configuration = event["CurrentAgentSnapshot"]["Configuration"]
        assert configuration["RoutingProfile"]["InboundQueues"][-1]["Name"] is None  # the agent's own queue
    assert seen_types == {"LOGIN", "LOGOUT", "STATE_CHANGE", "HEART_BEAT"}


def test_contact_events_have_the_shape_of_the_real_envelopes(simulation: Simulation) -> None:
    for event in contact_events(simulation):
        detail = event["detail"]
        assert event["detail-type"] == "Amazon Connect Contact Event"
        assert event["source"] == "aws.connect"
        assert event["version"] == "0"
        assert len(event["time"]) == len("2026-11-20T08:00:00Z")  # whole seconds
        assert event["time"] == timestamps.format_timestamp(timestamps.parse(event["time"]))[:19] + "Z"
        assert all(key[:1].islower() for key in detail)  # camelCase, as real details are
        for key in ("initiationTimestamp", "connectedToSystemTimestamp", "disconnectTimestamp"):
            if key in detail:
                assert timestamps.canonical(detail[key]) == detail[key]
        if detail["initiationMethod"] == "OUTBOUND":
            assert "queueInfo" not in detail
        for endpoint in ("customerEndpoint", "systemEndpoint"):
            if endpoint in detail:
                assert detail["channel"] == "VOICE"
                assert detail[endpoint]["address"].startswith(FICTIONAL_PREFIXES)


# --- scenarios ----------------------------------------------------------------------------------------------------
def test_every_scenario_happens(simulation: Simulation) -> None:
    contacts = list(simulation.contacts.values())
    # Then every kind of contact is there
    assert all(count > 0 for count in simulation.contacts_by_kind().values()), simulation.contacts_by_kind()
    # And contacts were abandoned, held, transferred to a queue and to an agent
    assert any(c.abandoned for c in contacts)
    assert any(c.holds for c in contacts)
    transfer_targets = {c.queue.queue_type for c in contacts if c.kind == TRANSFER and c.queue is not None}
    assert transfer_targets == {"STANDARD", "AGENT"}
    # And one agent handled several chats at once
    most_chats = max(
        sum(1 for c in e["CurrentAgentSnapshot"]["Contacts"] if c["Channel"] == "CHAT")
        for e in agent_events(simulation)
    )
    assert 2 <= most_chats <= 3
    # And agents took breaks and lunch, queued a next status and logged out
    names = {e["CurrentAgentSnapshot"]["AgentStatus"]["Name"] for e in agent_events(simulation)}
    assert names == {"Available", "Break", "Lunch", "Offline"}
    assert any("NextAgentStatus" in e["CurrentAgentSnapshot"] for e in agent_events(simulation))


def test_each_kind_of_contact_sends_the_events_connect_sends(simulation: Simulation) -> None:
    for contact in simulation.contacts.values():
        if not contact.completed:
            continue
        events = events_of(simulation, contact.contact_id)
        stages = list(events)
        completed = events["COMPLETED"]["detail"]
        if contact.kind == IVR_ONLY:
            assert stages == ["INITIATED", "CONNECTED_TO_SYSTEM", "DISCONNECTED", "COMPLETED"]
            assert "queueInfo" not in completed
            assert "agentInfo" not in completed
        elif contact.abandoned:
            # "the COMPLETED event is published immediately after the DISCONNECT event with the same data"
            assert stages[-3:] == ["QUEUED", "DISCONNECTED", "COMPLETED"]
            disconnected = dict(events["DISCONNECTED"]["detail"], eventType="COMPLETED")
            assert completed == disconnected
        elif contact.kind == OUTBOUND:
            assert stages == ["INITIATED", "CONNECTED_TO_SYSTEM", "CONNECTED_TO_AGENT", "DISCONNECTED", "COMPLETED"]
            assert "queueInfo" not in completed
        elif contact.kind == TRANSFER:
            assert stages == ["INITIATED", "QUEUED", "CONNECTED_TO_AGENT", "DISCONNECTED", "COMPLETED"]
            assert completed["initiationMethod"] == "TRANSFER"
            previous = simulation.contacts[completed["previousContactId"]]
            assert previous.transferred_to == contact.contact_id
            assert completed["initialContactId"] == (previous.initial_contact_id or previous.contact_id)
        else:
            assert stages == STAGES_HANDLED
            assert completed["initiationMethod"] == ("API" if contact.kind == CHAT else "INBOUND")
        if "agentInfo" in completed:
            agent_info = completed["agentInfo"]
            assert isinstance(agent_info["afterContactWorkDuration"], int)
            assert isinstance(agent_info["agentInitiatedHoldDuration"], int)
            start = timestamps.parse(agent_info["afterContactWorkStartTimestamp"])
            end = timestamps.parse(agent_info["afterContactWorkEndTimestamp"])
            assert agent_info["afterContactWorkDuration"] == round((end - start).total_seconds() + 1e-9)


# --- consistency between the two streams ----------------------------------------------------------------------------
def test_agent_snapshots_agree_with_the_contact_events(simulation: Simulation) -> None:
    # Given every contact as the agent snapshots show it
    outbound_queue = simulation.instance.outbound_queue.arn
    seen: dict[str, dict[str, Any]] = defaultdict(dict)
    for event in agent_events(simulation):
        current = {c["ContactId"]: c for c in event["CurrentAgentSnapshot"]["Contacts"]}
        previous = {c["ContactId"]: c for c in (event["PreviousAgentSnapshot"] or {}).get("Contacts", [])}
        for contact_id, contact in current.items():
            facts = seen[contact_id]
            facts.setdefault("agents", set()).add(event["AgentARN"])
            facts.setdefault(contact["State"], contact)
        for contact_id, contact in previous.items():
            if contact_id not in current and contact["State"] == "ENDED":
                seen[contact_id]["cleared"] = event["EventTimestamp"]
    assert seen
    for contact_id, facts in seen.items():
        events = events_of(simulation, contact_id)
        # Then one agent had it, the one the contact events name
        (agent_arn,) = facts["agents"]
        if "CONNECTED" not in facts:
            continue  # still ringing when the simulation ended
        detail = events["CONNECTED_TO_AGENT"]["detail"]
        assert detail["agentInfo"]["agentArn"] == agent_arn
        # And the same channel, method, initial contact, queue and instants
        connected = facts["CONNECTED"]
        assert connected["Channel"] == detail["channel"]
        assert connected["InitiationMethod"] == detail["initiationMethod"]
        assert connected["InitialContactId"] == detail.get("initialContactId")
        assert connected["StateStartTimestamp"] == detail["agentInfo"]["connectedToAgentTimestamp"]
        assert connected["ConnectedToAgentTimestamp"] == detail["agentInfo"]["connectedToAgentTimestamp"]
        if "queueInfo" in detail:
            assert connected["Queue"]["ARN"] == detail["queueInfo"]["queueArn"]
            assert connected["QueueTimestamp"] == detail["queueInfo"]["enqueueTimestamp"]
        else:  # outbound: the agent's snapshot shows the default outbound queue (as in ae05), the event no queue
            assert connected["Queue"]["ARN"] == outbound_queue
            assert connected["QueueTimestamp"] is None
        if "ENDED" in facts:
            disconnected = events["DISCONNECTED"]["detail"]
            assert facts["ENDED"]["StateStartTimestamp"] == disconnected["disconnectTimestamp"]
        if "cleared" in facts:
            agent_info = events["COMPLETED"]["detail"]["agentInfo"]
            assert agent_info["afterContactWorkStartTimestamp"] == facts["ENDED"]["StateStartTimestamp"]
            assert agent_info["afterContactWorkEndTimestamp"] == facts["cleared"]


def test_agents_get_contacts_only_while_logged_in_and_available_and_within_their_slots(
    simulation: Simulation,
) -> None:
    logged_in: dict[str, bool] = {}
    for event in agent_events(simulation):
        agent = event["AgentARN"]
        if event["EventType"] in ("LOGIN", "LOGOUT"):
            logged_in[agent] = event["EventType"] == "LOGIN"
        current = event["CurrentAgentSnapshot"]
        previous = event["PreviousAgentSnapshot"] or {"Contacts": []}
        new = {c["ContactId"] for c in current["Contacts"]} - {c["ContactId"] for c in previous["Contacts"]}
        if new:
            # Then a new contact reaches only a logged-in, Available agent with no status queued
            assert logged_in.get(agent), event["EventId"]
            assert previous["AgentStatus"]["Name"] == "Available"
            assert "NextAgentStatus" not in previous
            assert len(new) == 1
        # And a voice contact is alone; chats stay within the CHAT slots
        channels = [c["Channel"] for c in current["Contacts"]]
        slots = {c["Channel"]: c["MaximumSlots"] for c in current["Configuration"]["RoutingProfile"]["Concurrency"]}
        if "VOICE" in channels:
            assert channels == ["VOICE"]
        assert channels.count("CHAT") <= slots.get("CHAT", 0)


def test_one_agents_events_strictly_increase_and_heartbeats_fill_every_120_seconds_of_silence(
    simulation: Simulation,
) -> None:
    by_agent: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in agent_events(simulation):
        by_agent[event["AgentARN"]].append(event)
    heartbeats = 0
    for events in by_agent.values():
        assert events[0]["EventType"] == "LOGIN"
        assert events[0]["PreviousAgentSnapshot"] is None
        moments = [timestamps.parse(e["EventTimestamp"]) for e in events]
        for before, after, event in zip(moments, moments[1:], events[1:], strict=False):
            assert after > before
            assert after - before <= timedelta(seconds=120, milliseconds=1)
            if event["EventType"] == "HEART_BEAT":
                heartbeats += 1
                assert after - before == timedelta(seconds=120)
                assert event["CurrentAgentSnapshot"] == event["PreviousAgentSnapshot"]
    assert heartbeats


# --- delivery -----------------------------------------------------------------------------------------------------
def test_delivery_keeps_each_agents_order_and_redelivers_whole_batches(run: Run) -> None:
    # Given the agent records in delivery order
    emitted: dict[str, list[str]] = defaultdict(list)
    for record in run.simulation.agent_records:
        emitted[record.agent_arn].append(record.sequence_number)
    delivered: dict[str, list[str]] = defaultdict(list)
    for delivery in run.deliveries:
        if delivery.kind == "agent" and not delivery.malformed:
            delivered[delivery.line["partitionKey"]].append(delivery.line["sequenceNumber"])
    redelivered = 0
    for agent, sequence in emitted.items():
        # Then, duplicates aside, each agent's records arrive in the order Connect wrote them, none lost
        firsts = list(dict.fromkeys(delivered[agent]))
        assert firsts == sequence
        # And a redelivery only repeats records already delivered
        position = {s: i for i, s in enumerate(sequence)}
        high = -1
        for number in delivered[agent]:
            if position[number] <= high:
                redelivered += 1
            high = max(high, position[number])
    assert redelivered == sum(1 for d in run.deliveries if d.kind == "agent" and d.duplicate)
    assert redelivered > 0


def test_contact_events_are_shuffled_duplicated_and_late_but_never_lost(run: Run) -> None:
    emitted = {r.event["id"]: r for r in run.simulation.contact_records}
    copies: dict[str, list[int]] = defaultdict(list)
    order = []
    for delivery in run.deliveries:
        if delivery.kind == "contact" and not delivery.malformed:
            event = delivery.line["event"]
            assert event == emitted[event["id"]].event  # a duplicate is the same event, same id
            copies[event["id"]].append(delivery.arrival_ms)
            order.append(emitted[event["id"]].emitted_ms)
    # Then every valid event arrives at least once
    assert set(copies) == set(emitted)
    # And some twice, some minutes late, and not in the order they happened
    assert any(len(arrivals) > 1 for arrivals in copies.values())
    assert any(copies[i][0] - r.emitted_ms >= 120_000 for i, r in emitted.items())
    assert order != sorted(order)


# --- ground truth, reproduced by the domain ------------------------------------------------------------------------
def test_the_project_domain_reproduces_the_ground_truth_from_the_delivered_events(run: Run) -> None:
    # Given every delivery folded, in delivery order, through the project's parsers and merge functions
    items, rejected = fold_through_domain(run)
    # When the items are compared with the ground truth (enrichment left out: it comes from DescribeContact)
    agreement = compare(run.truth, items, include_enrichment=False)
    # Then every agent and every contact agrees, and exactly the malformed records were rejected
    assert agreement.perfect, agreement.report()
    assert str(agreement) == f"agreement 100.0% ({agreement.items_total}/{agreement.items_total})"
    assert agreement.items_total == len(run.truth.agents) + len(run.truth.contacts)
    assert agreement.by_table["agent"] == (CONFIG.agents, CONFIG.agents)
    assert rejected == run.truth.quarantined_total


def test_with_describe_contact_enrichment_the_whole_ground_truth_is_reproduced(run: Run) -> None:
    # Given the domain's items, and every delivered COMPLETED enriched from the simulated DescribeContact through the
    # project's enrichment domain (the event's values are kept, the answer fills the rest: README "Enrichment")
    items, _ = fold_through_domain(run)
    by_contact = {item["contactId"]: item for item in items if "contactId" in item}
    connect = SimulatedConnect(run.simulation)
    now = datetime.fromisoformat("2026-11-20T12:00:00+00:00")
    for delivery in received(run):
        event = parse_contact_event(delivery.body) if isinstance(delivery, EventBridgeDelivery) else None
        if not isinstance(event, ContactEvent):
            continue
        detail = event.detail
        request = enrichment.request_for(detail.contact_id, detail.instance_arn, detail.event_type)
        if request is None or request.trigger is not enrichment.Trigger.COMPLETED:
            continue
        answer = connect.describe_contact(InstanceId=request.instance_id, ContactId=request.contact_id)
        enriched = enrichment.from_answer(request, answer["Contact"], now)
        item = by_contact[detail.contact_id]
        item.update({name: value for name, value in enriched.fields.items() if name not in item})
        item["enrichmentStatus"] = enriched.status.value
    # When compared with every field, enrichment included
    agreement = compare(run.truth, items)
    # Then everything agrees
    assert agreement.perfect, agreement.report()


def test_the_ground_truth_covers_the_contract_fields(run: Run) -> None:
    truth = run.truth
    acw = [a["lastAfterContactWork"] for a in truth.agents.values() if a["lastAfterContactWork"]]
    assert acw
    assert all(isinstance(entry["durationSeconds"], Decimal) for entry in acw)
    activities = {a["activity"] for a in truth.agents.values()}
    assert {"ON_CONTACT", "CUSTOM_STATUS", "OFFLINE"} <= activities
    completed = [c for c in truth.contacts.values() if c["status"] == "COMPLETED"]
    assert all(c["enrichmentStatus"] == "ENRICHED" for c in completed)
    open_contacts = [c for c in truth.contacts.values() if c["status"] != "COMPLETED"]
    assert open_contacts
    assert not any(name in c for c in open_contacts for name in ENRICHMENT_FIELDS)
    assert {c["recordings"] for c in completed} == {0, 1}
    assert truth.abandoned_published == sum(1 for c in completed if c["abandoned"])


def test_compare_names_each_mismatch_and_missing_item(run: Run) -> None:
    # Given the domain's items with one agent changed and one contact missing
    items, _ = fold_through_domain(run)
    agent = next(i for i in items if "agentArn" in i and "contactId" not in i)
    contact = next(i for i in items if "contactId" in i)
    changed = [dict(i, statusName="Lunch-ish") if i is agent else i for i in items if i is not contact]
    # When compared
    agreement = compare(run.truth, changed, include_enrichment=False)
    # Then both are counted and named
    total = agreement.items_total
    assert str(agreement) == f"agreement {100 * (total - 2) / total:.1f}% ({total - 2}/{total})"
    assert agreement.missing == (contact["contactId"],)
    fields = {(m.table, m.id, m.field) for m in agreement.mismatches}
    assert ("agent", agent["agentArn"], "statusName") in fields
    assert ("contact", contact["contactId"], "(missing item)") in fields
    assert "agent.statusName: 1 mismatched" in agreement.report()


def test_compare_checks_enrichment_when_asked(run: Run) -> None:
    # Given items that carry only what enrichment writes, as a DynamoDB item would hold it
    items = []
    for contact_id, expected in run.truth.contacts.items():
        if "enrichmentStatus" in expected:
            recordings = [{"location": "s3://..."}] * expected["recordings"] or None
            item = {
                "contactId": contact_id,
                "disconnectReason": expected["disconnectReason"],
                "enrichmentStatus": "ENRICHED",
            }
            items.append(item | ({"recordings": recordings} if recordings else {}))
    # Then enrichment alone agrees, and a wrong reason is found
    assert compare(run.truth, items, agent_fields=(), contact_fields=ENRICHMENT_FIELDS).perfect
    items[0] = dict(items[0], disconnectReason="BARGED")
    agreement = compare(run.truth, items, agent_fields=(), contact_fields=ENRICHMENT_FIELDS)
    assert [m.field for m in agreement.mismatches] == ["disconnectReason"]


def test_the_ground_truth_survives_its_json_file(run: Run) -> None:
    again = GroundTruth.from_json(run.truth.to_json())
    assert again.agents == run.truth.agents
    assert again.contacts == run.truth.contacts
    assert again.quarantined == run.truth.quarantined
    assert SimulationConfig.from_json(again.config) == CONFIG


# --- DescribeContact ------------------------------------------------------------------------------------------------
def iso(moment: datetime) -> str:
    assert moment.tzinfo is not None
    return timestamps.format_timestamp(moment)


def test_describe_contact_agrees_with_every_completed_event(run: Run) -> None:
    # Given the simulated Connect API
    simulation = run.simulation
    connect = SimulatedConnect(simulation)
    completed = [e["detail"] for e in contact_events(simulation) if e["detail"]["eventType"] == "COMPLETED"]
    assert completed
    for detail in completed:
        # When DescribeContact is asked about the contact, as the enrichment asks (instance id, not ARN)
        response = connect.describe_contact(InstanceId=simulation.instance.instance_id, ContactId=detail["contactId"])
        contact = response["Contact"]
        # Then it tells what the COMPLETED event told, in boto3's shape
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert contact["Id"] == detail["contactId"]
        assert contact["Arn"] == f"{simulation.instance.arn}/contact/{detail['contactId']}"
        assert contact["Channel"] == detail["channel"]
        assert contact["InitiationMethod"] == detail["initiationMethod"]
        assert iso(contact["InitiationTimestamp"]) == detail["initiationTimestamp"]
        assert iso(contact["DisconnectTimestamp"]) == detail["disconnectTimestamp"]
        assert contact.get("PreviousContactId") == detail.get("previousContactId")
        assert contact["DisconnectReason"] in ("CUSTOMER_DISCONNECT", "AGENT_DISCONNECT", "CONTACT_FLOW_DISCONNECT")
        if "queueInfo" in detail:
            assert contact["QueueInfo"]["Id"] == detail["queueInfo"]["queueArn"].rsplit("/", 1)[-1]
            assert iso(contact["QueueInfo"]["EnqueueTimestamp"]) == detail["queueInfo"]["enqueueTimestamp"]
        else:
            assert "QueueInfo" not in contact
        if "agentInfo" not in detail:
            assert "AgentInfo" not in contact
            assert "Recordings" not in contact
            continue
        events_info, api_info = detail["agentInfo"], contact["AgentInfo"]
        assert api_info["Id"] == events_info["agentArn"].rsplit("/", 1)[-1]
        assert iso(api_info["ConnectedToAgentTimestamp"]) == events_info["connectedToAgentTimestamp"]
        assert iso(api_info["AfterContactWorkStartTimestamp"]) == events_info["afterContactWorkStartTimestamp"]
        assert iso(api_info["AfterContactWorkEndTimestamp"]) == events_info["afterContactWorkEndTimestamp"]
        assert api_info["AfterContactWorkDuration"] == events_info["afterContactWorkDuration"]
        assert api_info["AgentInitiatedHoldDuration"] == events_info["agentInitiatedHoldDuration"]
        if detail["channel"] == "VOICE":
            (recording,) = contact["Recordings"]
            assert recording["StorageType"] == "S3"
            assert recording["MediaStreamType"] == "AUDIO"
            assert recording["Status"] == "AVAILABLE"
            assert iso(recording["StopTimestamp"]) == detail["disconnectTimestamp"]
            assert contact["CustomerEndpoint"]["Address"].startswith(FICTIONAL_PREFIXES)
            assert contact["SystemEndpoint"]["Address"].startswith(FICTIONAL_PREFIXES)
        else:
            assert "Recordings" not in contact
    assert connect.calls == len(completed)


def test_describe_contact_raises_resource_not_found_like_boto3(simulation: Simulation) -> None:
    connect = SimulatedConnect(simulation)
    known = next(iter(simulation.contacts))
    # The instance ARN is accepted as well as its id
    assert connect.describe_contact(InstanceId=simulation.instance.arn, ContactId=known)["Contact"]["Id"] == known
    for instance_id, contact_id in (
        (simulation.instance.instance_id, "00000000-0000-4000-8000-000000000000"),
        ("11111111-2222-4333-8444-555555555555", known),
    ):
        with pytest.raises(ClientError) as raised:
            connect.describe_contact(InstanceId=instance_id, ContactId=contact_id)
        assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert raised.value.operation_name == "DescribeContact"


def test_describe_contact_answers_as_of_a_moment_during_after_contact_work(simulation: Simulation) -> None:
    # Given a contact asked about while its agent is still in after-contact work
    contact = next(c for c in simulation.contacts.values() if c.completed and c.acw_end_ms is not None)
    assert contact.acw_start_ms is not None
    moment = DEFAULT_START + timedelta(milliseconds=contact.acw_start_ms - epoch_ms(DEFAULT_START) + 1)
    connect = SimulatedConnect(simulation, clock=lambda: moment)
    agent_info = connect.describe_contact(InstanceId=simulation.instance.instance_id, ContactId=contact.contact_id)[
        "Contact"
    ]["AgentInfo"]
    # Then ACW has started, not ended
    assert "AfterContactWorkStartTimestamp" in agent_info
    assert "AfterContactWorkEndTimestamp" not in agent_info
    assert "AfterContactWorkDuration" not in agent_info


# --- the command and the line format ------------------------------------------------------------------------------
def test_the_command_writes_the_lines_and_the_ground_truth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # When the command runs
    out = tmp_path / "events.jsonl"
    status = simulator.main(["--agents", "6", "--minutes", "12", "--seed", "3", "--out", str(out)])
    # Then it prints one summary line and writes both files
    assert status == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("simulated 6 agents for 12 min from 2026-11-20T08:00:00.000Z (seed 3): ")
    for words in ("contacts (inbound voice", "records (agent", "malformed", "duplicates"):
        assert words in line
    truth = GroundTruth.from_json((tmp_path / "events.truth.json").read_text())
    expected = generate(SimulationConfig(agents=6, minutes=12, seed=3))
    assert truth.contacts == expected.truth.contacts
    assert out.read_text().splitlines() == [d.to_jsonl() for d in expected.deliveries]
    assert sum(1 for _ in simulator.read_file(out)) == len(expected.deliveries)
    # And the ground truth lets DescribeContact be answered again from the file alone
    connect = SimulatedConnect.from_truth_file(tmp_path / "events.truth.json")
    contact_id = next(iter(truth.contacts))
    assert connect.describe_contact(InstanceId=expected.simulation.instance.arn, ContactId=contact_id)


def test_the_line_reader_also_takes_bare_captures() -> None:
    event = {"version": "0", "id": "x", "detail-type": "Amazon Connect Contact Event", "detail": {}}
    agent_event = {"AgentARN": "arn:agent", "EventType": "HEART_BEAT"}
    data = base64.b64encode(json.dumps(agent_event).encode()).decode()
    bare_event = json.dumps(event)
    assert parse_line(bare_event) == EventBridgeDelivery(bare_event)
    assert parse_line(json.dumps({"data": data})) == KinesisDelivery(data)
    assert parse_line(json.dumps({"Data": data, "PartitionKey": "p", "SequenceNumber": "1"})) == KinesisDelivery(
        data, "p", "1"
    )
    lambda_record = {
        "kinesis": {"data": data, "partitionKey": "p", "sequenceNumber": "2"},
        "eventSource": "aws:kinesis",
    }
    assert parse_line(json.dumps(lambda_record)) == KinesisDelivery(data, "p", "2")
    bare_agent = parse_line(json.dumps(agent_event))
    assert isinstance(bare_agent, KinesisDelivery)
    assert json.loads(base64.b64decode(bare_agent.data)) == agent_event
    assert parse_line(json.dumps({"kind": "contact", "event": '{"trunc'})) == EventBridgeDelivery('{"trunc')
    with pytest.raises(ValueError, match="line 2"):
        list(simulator.read_deliveries([bare_event, "[1, 2]"]))
