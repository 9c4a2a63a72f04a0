"""The contact state merge: status never moves backwards, first-seen timestamps, abandoned contacts, and any order or
duplication of the same events ending in the same item (property-based, over real and generated lifecycles)."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connect_state.domain import contact_state
from connect_state.domain.contact_state import ContactObservation, ContactState, RecordObservation
from connect_state.domain.versioned import Outcome
from connect_state.models.contact_event import ContactEvent
from connect_state.models.contact_record import ContactRecord
from connect_state.models.decoder import parse_contact_event
from tests import samples
from tests.contact_lifecycles import (
    ABANDONED_2021,
    AGENT,
    FULL,
    QUEUE,
    QUEUE_2,
    QUEUED_2021,
    lifecycle,
    without_enqueue_timestamp,
)
from tests.samples import sample

TTL_DAYS = 90
NOW = 1_800_000_000


def parsed(document: dict[str, Any]) -> ContactEvent:
    event = parse_contact_event(json.dumps(document))
    assert isinstance(event, ContactEvent), event
    return event


def observe_all(documents: Sequence[dict[str, Any]]) -> list[ContactObservation]:
    return [contact_state.observe(parsed(d)) for d in documents]


def state_of(observations: Sequence[ContactObservation | RecordObservation]) -> ContactState:
    state, _ = contact_state.merge(None, observations)
    return state


GENERATED = {
    "inbound answered": lifecycle("c-answered", FULL),
    "abandoned in queue": lifecycle(
        "c-abandoned", ("INITIATED", "CONNECTED_TO_SYSTEM", "QUEUED", "DISCONNECTED", "COMPLETED")
    ),
    "ivr only": lifecycle("c-ivr", ("INITIATED", "CONNECTED_TO_SYSTEM", "DISCONNECTED", "COMPLETED")),
    "outbound": lifecycle(
        "c-outbound",
        ("INITIATED", "CONNECTED_TO_SYSTEM", "QUEUED", "CONNECTED_TO_AGENT", "DISCONNECTED", "COMPLETED"),
        method="OUTBOUND",
        queue=False,  # "queueInfo is not included when initiationMethod is OUTBOUND"
    ),
    "transfer": lifecycle(
        "c-transfer",
        ("INITIATED", "QUEUED", "CONNECTED_TO_AGENT", "DISCONNECTED", "COMPLETED"),
        method="TRANSFER",
        extra={"initialContactId": "c-first", "previousContactId": "c-first"},
    ),
    "callback": lifecycle(
        "c-callback",
        ("INITIATED", "QUEUED", "CONNECTED_TO_AGENT", "DISCONNECTED", "COMPLETED"),
        method="CALLBACK",
        extra={"relatedContactId": "c-original"},
    ),
    "queue transfer": lifecycle(
        "c-queue-transfer",
        ("INITIATED", "CONNECTED_TO_SYSTEM", "QUEUED", "QUEUED", "CONNECTED_TO_AGENT", "DISCONNECTED", "COMPLETED"),
    ),
    "chat": lifecycle(
        "c-chat",
        ("INITIATED", "CONNECTED_TO_SYSTEM", "QUEUED", "CONTACT_DATA_UPDATED", "CONNECTED_TO_AGENT", "DISCONNECTED"),
        channel="Chat",
        method="API",
    ),
}
# The real chats ce10..ce15 (two contacts: ce10-ce12 and ce13-ce15) plus the real transfer ce16.
REAL = [sample(f"ce{n}") for n in range(10, 17)]


def test_real_chat_lifecycle_ends_connected_answered_and_not_abandoned() -> None:
    # Given the real chat ce13 (QUEUED), ce14 (CONNECTED_TO_AGENT), ce15 (DISCONNECTED)
    state = state_of(observe_all(REAL[3:6]))
    item = contact_state.to_item(state, TTL_DAYS, NOW)
    assert item["status"] == "DISCONNECTED"
    assert item["channel"] == "CHAT"
    assert item["enqueueTimestamp"] == "2023-01-05T21:24:04.505Z"
    assert item["connectedToAgentTimestamp"] == "2023-01-05T21:24:58.202Z"
    assert item["agentArn"].endswith("/agent/d3e3b92c-55ce-4cd1-bfdf-717b8613022f")
    assert item["abandoned"] is False
    assert "queuedSince" not in item
    # TTL from the contact's own earliest timestamp, not from processing time
    assert item["ttl"] == int(datetime(2023, 1, 5, 21, 24, 0, tzinfo=UTC).timestamp()) + TTL_DAYS * 86_400


def test_status_never_moves_backwards() -> None:
    # Given a DISCONNECTED, When an INITIATED and a QUEUED arrive after it, Then the status stays DISCONNECTED
    events = GENERATED["inbound answered"]
    state, outcomes = contact_state.merge(None, observe_all([events[4], events[0], events[2], events[0]]))
    assert state.status == "DISCONNECTED"
    # the late events still record that their stage was seen; a second copy of one changes nothing
    assert outcomes == [Outcome.APPLIED, Outcome.APPLIED, Outcome.APPLIED, Outcome.STALE]
    assert state.stages == {"INITIATED", "QUEUED", "DISCONNECTED"}


def test_repeated_event_is_a_duplicate() -> None:
    events = GENERATED["inbound answered"]
    _, outcomes = contact_state.merge(None, observe_all([events[2], events[2]]))
    assert outcomes == [Outcome.APPLIED, Outcome.DUPLICATE]


def test_contact_data_updated_does_not_move_status_but_contributes_fields() -> None:
    # Given ce07 alone (CONTACT_DATA_UPDATED of a queued chat), Then the status is what its timestamps prove
    state = state_of(observe_all([sample("ce07")]))
    item = contact_state.to_item(state, TTL_DAYS, NOW)
    assert "CONTACT_DATA_UPDATED" not in item.get("stagesSeen", set())
    assert item["status"] == "QUEUED"
    assert item["queuedSince"] == item["enqueueTimestamp"] == "2023-11-01T18:33:03.062Z"


def test_sentinel_timestamps_are_not_first_seen_values() -> None:
    item = contact_state.to_item(state_of(observe_all([sample("ce05")])), TTL_DAYS, NOW)
    assert "connectedToAgentTimestamp" not in item
    assert "connectedToSystemTimestamp" not in item
    assert item["status"] == "QUEUED"


def test_first_seen_timestamp_is_the_earliest_whatever_the_order() -> None:
    # Given two QUEUED events with different enqueue times (a queue transfer), in either order
    early, late = lifecycle("c-q", ("QUEUED",)), lifecycle("c-q", ("INITIATED", "QUEUED"))
    late[1]["id"] = "other-id"
    for order in ([early[0], late[1]], [late[1], early[0]]):
        state = state_of(observe_all(order))
        assert state.first_seen["enqueueTimestamp"] == "2025-03-04T09:00:00.123Z"


def test_queued_contact_is_in_the_queue_index_until_it_leaves() -> None:
    events = GENERATED["inbound answered"]
    queued = contact_state.to_item(state_of(observe_all(events[:3])), TTL_DAYS, NOW)
    assert queued["status"] == "QUEUED"
    assert queued["queuedSince"] == queued["enqueueTimestamp"]
    connected = contact_state.to_item(state_of(observe_all(events[:4])), TTL_DAYS, NOW)
    assert "queuedSince" not in connected
    assert "queuedSince" in contact_state.REMOVABLE_ATTRIBUTES


def test_a_contact_keeps_when_it_was_queued_after_it_leaves_the_queue() -> None:
    # Given a contact answered after waiting in its queue, and an IVR-only contact that never queued
    events = GENERATED["inbound answered"]
    queued = contact_state.to_item(state_of(observe_all(events[:3])), TTL_DAYS, NOW)
    answered = contact_state.to_item(state_of(observe_all(events)), TTL_DAYS, NOW)
    ivr_only = contact_state.to_item(state_of(observe_all(GENERATED["ivr only"])), TTL_DAYS, NOW)
    # Then `enqueuedAt` (the byQueueEnqueued index's sort key: the board's "contacts queued today") is set once the
    # contact queued and stays after it left the queue; a contact that never queued has none
    assert queued["enqueuedAt"] == queued["enqueueTimestamp"]
    assert answered["enqueuedAt"] == answered["enqueueTimestamp"]
    assert "queuedSince" not in answered
    assert "enqueuedAt" not in ivr_only


def test_enqueued_at_falls_back_to_the_queued_event_time_like_queued_since() -> None:
    for order in (QUEUED_2021, QUEUED_2021[::-1]):
        item = contact_state.to_item(state_of(observe_all(order)), TTL_DAYS, NOW)
        assert item["enqueuedAt"] == item["queuedSince"] == "2025-03-04T09:00:14.000Z"


def test_a_queued_contact_without_enqueue_timestamp_is_in_its_queue_since_the_queued_event() -> None:
    # Given a 2021-style QUEUED voice event (queueInfo: queueArn and queueType only) and the events before it
    for order in (QUEUED_2021, QUEUED_2021[::-1]):
        item = contact_state.to_item(state_of(observe_all(order)), TTL_DAYS, NOW)
        # Then it is QUEUED and in the byQueue index, since the QUEUED event's own time (its envelope, whole seconds)
        assert (item["status"], item["queueArn"]) == ("QUEUED", QUEUE)
        assert item["queuedSince"] == "2025-03-04T09:00:14.000Z"
        assert "enqueueTimestamp" not in item  # Connect did not say; the fallback is not passed off as its value


def test_the_queued_event_time_is_not_earlier_than_what_the_event_itself_proves() -> None:
    # Given a QUEUED event whose envelope time (whole seconds) is earlier than its own connectedToSystemTimestamp
    event = json.loads(json.dumps(QUEUED_2021[2]))
    event["detail"]["connectedToSystemTimestamp"] = "2025-03-04T09:00:14.600Z"
    item = contact_state.to_item(state_of(observe_all([event])), TTL_DAYS, NOW)
    # Then the caller has waited since then at the earliest
    assert item["queuedSince"] == "2025-03-04T09:00:14.600Z"


def test_the_real_enqueue_timestamp_replaces_the_fallback_in_any_order() -> None:
    # Given the 2021-style events, and one later event of the same contact that does carry enqueueTimestamp
    with_timestamp = lifecycle("c-2021", ("INITIATED", "CONNECTED_TO_SYSTEM", "QUEUED"))[2]
    with_timestamp["id"] = "newer-capture-of-the-queued-event"
    for order in ([*QUEUED_2021, with_timestamp], [with_timestamp, *QUEUED_2021]):
        item = contact_state.to_item(state_of(observe_all(order)), TTL_DAYS, NOW)
        # Then Connect's value is the enqueue time
        assert item["queuedSince"] == item["enqueueTimestamp"] == "2025-03-04T09:00:14.123Z"


def test_an_abandoned_contact_without_enqueue_timestamp_has_its_queue_wait() -> None:
    state = state_of(observe_all(ABANDONED_2021))
    assert state.abandoned
    detail = contact_state.abandoned_event_detail(state)
    # From the QUEUED event's time (09:00:14.000) to the disconnect (09:00:21.123)
    assert detail["queueWaitSeconds"] == 7.123
    assert "enqueueTimestamp" not in detail


def test_abandoned_in_queue() -> None:
    state = state_of(observe_all(GENERATED["abandoned in queue"]))
    assert state.abandoned
    assert state.completed
    detail = contact_state.abandoned_event_detail(state)
    assert detail["queueArn"] == QUEUE
    assert detail["channel"] == "VOICE"
    assert detail["queueWaitSeconds"] == 7.0
    assert "customerEndpoint" not in detail


def test_late_connected_to_agent_turns_abandoned_back_to_false() -> None:
    # Given a contact seen QUEUED then DISCONNECTED with no agent (looks abandoned)
    events = GENERATED["abandoned in queue"]
    state = state_of(observe_all([events[2], events[3]]))
    assert state.abandoned
    # When a delayed CONNECTED_TO_AGENT of the same contact arrives, Then it is not abandoned after all
    connected = lifecycle("c-abandoned", FULL)[3]
    state, outcomes = contact_state.merge(state, observe_all([connected]))
    assert outcomes == [Outcome.APPLIED]
    assert not state.abandoned
    assert state.status == "DISCONNECTED"


def test_disconnected_without_queue_or_agent_is_not_abandoned() -> None:
    assert not state_of(observe_all(GENERATED["ivr only"])).abandoned
    assert not state_of(observe_all(GENERATED["outbound"])).abandoned


def test_completed_carries_after_contact_work() -> None:
    item = contact_state.to_item(state_of(observe_all(GENERATED["inbound answered"])), TTL_DAYS, NOW)
    assert item["status"] == "COMPLETED"
    assert item["afterContactWorkDuration"] == 7
    assert item["agentInitiatedHoldDuration"] == 12
    assert item["afterContactWorkStartTimestamp"] == item["disconnectTimestamp"]


def test_queue_transfer_keeps_the_first_enqueue_time_and_the_last_queue() -> None:
    events = GENERATED["queue transfer"]
    for order in (events, events[::-1]):
        item = contact_state.to_item(state_of(observe_all(order)), TTL_DAYS, NOW)
        assert item["enqueueTimestamp"] == "2025-03-04T09:00:14.123Z"  # the first QUEUED, 14 s in
        assert item["queueArn"] == QUEUE_2


def test_transfer_keeps_the_links_to_the_first_contact() -> None:
    item = contact_state.to_item(state_of(observe_all(GENERATED["transfer"])), TTL_DAYS, NOW)
    assert (item["initialContactId"], item["previousContactId"]) == ("c-first", "c-first")
    real = contact_state.to_item(state_of(observe_all([sample("ce16")])), TTL_DAYS, NOW)
    assert real["initiationMethod"] == "TRANSFER"
    assert real["previousContactId"] == "edfcdfa6-358e-4594-981a-adeab87a8cc5"


def test_item_round_trips_through_dynamodb_types() -> None:
    state = state_of(observe_all(GENERATED["inbound answered"]))
    assert contact_state.from_item(_as_stored(contact_state.to_item(state, TTL_DAYS, NOW))) == state


def _as_stored(item: dict[str, Any]) -> dict[str, Any]:
    """What the DynamoDB deserializer hands back: numbers as Decimal, in nested maps and lists too."""
    stored: dict[str, Any] = _stored_value(item)
    return stored


def _stored_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stored_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stored_value(v) for v in value]
    return Decimal(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _by_contact(documents: Sequence[dict[str, Any]]) -> dict[str, list[ContactObservation]]:
    grouped: dict[str, list[ContactObservation]] = defaultdict(list)
    for observation in observe_all(documents):
        grouped[observation.contact_id].append(observation)
    return grouped


LIFECYCLES = [REAL, *GENERATED.values()]


@settings(max_examples=150, deadline=None)
@given(data=st.data(), lifecycle_index=st.integers(0, len(LIFECYCLES) - 1))
def test_any_order_and_duplication_gives_the_same_item(data: st.DataObject, lifecycle_index: int) -> None:
    # Given a lifecycle's events, shuffled, some delivered more than once, and split into batches that go through a
    # DynamoDB round trip between them
    documents = LIFECYCLES[lifecycle_index]
    expected = {
        contact_id: contact_state.to_item(state_of(observations), TTL_DAYS, NOW)
        for contact_id, observations in _by_contact(documents).items()
    }
    duplicates = data.draw(st.lists(st.sampled_from(documents), max_size=len(documents)))
    delivered = data.draw(st.permutations([*documents, *duplicates]))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(delivered)), max_size=3)))
    # When each batch is merged into what was stored after the previous one
    stored: dict[str, dict[str, Any]] = {}
    for start, end in zip([0, *cuts], [*cuts, len(delivered)], strict=True):
        for contact_id, observations in _by_contact(delivered[start:end]).items():
            known = contact_state.from_item(stored[contact_id]) if contact_id in stored else None
            merged, _ = contact_state.merge(known, observations)
            stored[contact_id] = _as_stored(contact_state.to_item(merged, TTL_DAYS, NOW))
    # Then every contact's item is the one in-order delivery gives
    assert stored == {contact_id: _as_stored(item) for contact_id, item in expected.items()}


QUEUED_LIFECYCLES = [
    GENERATED["inbound answered"],
    GENERATED["abandoned in queue"],
    GENERATED["queue transfer"],
    GENERATED["chat"],
    lifecycle("c-waiting", ("INITIATED", "CONNECTED_TO_SYSTEM", "QUEUED", "CONTACT_DATA_UPDATED")),
]


@settings(max_examples=150, deadline=None)
@given(data=st.data(), lifecycle_index=st.integers(0, len(QUEUED_LIFECYCLES) - 1))
def test_events_with_and_without_enqueue_timestamp_in_any_order_give_the_same_item(
    data: st.DataObject, lifecycle_index: int
) -> None:
    # Given a lifecycle in which some events carry enqueueTimestamp and some (2021-style) do not
    documents = QUEUED_LIFECYCLES[lifecycle_index]
    stripped = without_enqueue_timestamp(documents)
    keep = data.draw(st.lists(st.booleans(), min_size=len(documents), max_size=len(documents)))
    mixed = [original if kept else bare for original, bare, kept in zip(documents, stripped, keep, strict=True)]
    expected = _as_stored(contact_state.to_item(state_of(observe_all(mixed)), TTL_DAYS, NOW))
    # When they arrive in any order, some twice, in batches with a DynamoDB round trip between them
    delivered = data.draw(st.permutations([*mixed, *data.draw(st.lists(st.sampled_from(mixed), max_size=3))]))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(delivered)), max_size=3)))
    stored: dict[str, Any] | None = None
    for start, end in zip([0, *cuts], [*cuts, len(delivered)], strict=True):
        if start == end:
            continue
        known = contact_state.from_item(stored) if stored else None
        merged, _ = contact_state.merge(known, observe_all(delivered[start:end]))
        stored = _as_stored(contact_state.to_item(merged, TTL_DAYS, NOW))
    # Then the item is the same, and a QUEUED contact is always in its queue, at Connect's time when any event said it
    assert stored == expected
    if stored["status"] == "QUEUED":
        assert stored["queuedSince"] == stored.get("enqueueTimestamp", stored["queuedSince"])
        assert stored["queueArn"]
    else:
        assert "queuedSince" not in stored
    carried = [
        d["detail"]["queueInfo"]["enqueueTimestamp"]
        for d in mixed
        if "enqueueTimestamp" in d["detail"].get("queueInfo", {})
    ]
    assert stored.get("enqueueTimestamp") == (min(carried) if carried else None)


# Contact records (CTRs): whole-second facts that fill what events did not deliver and close the contact.


def _seconds(timestamp: str) -> str:
    """A CTR's whole-second form of an event's millisecond timestamp."""
    return timestamp[:19] + "Z"


def record_for(
    documents: Sequence[dict[str, Any]], last_update: str = "2025-03-04T09:05:00Z", **overrides: Any
) -> dict[str, Any]:
    """The contact record Connect would write for a built lifecycle (its final fields, in whole seconds).

    BUILT, NOT CAPTURED: shaped like the real ctr01 to ctr03 (SCHEMA-NOTES §5), from the lifecycle's own events."""
    detail = documents[-1]["detail"]
    queue, agent = detail.get("queueInfo"), detail.get("agentInfo")
    end = detail.get("disconnectTimestamp", "2025-03-04T09:01:00.000Z")
    record: dict[str, Any] = {
        "AWSContactTraceRecordFormatVersion": "2017-03-10",
        "ContactId": detail["contactId"],
        "InstanceARN": detail["instanceArn"],
        "Channel": detail["channel"].upper(),
        "InitiationMethod": detail["initiationMethod"],
        "InitialContactId": detail.get("initialContactId"),
        "PreviousContactId": detail.get("previousContactId"),
        "NextContactId": None,
        "InitiationTimestamp": _seconds(detail["initiationTimestamp"]),
        "ConnectedToSystemTimestamp": None,
        "DisconnectTimestamp": _seconds(end),
        "DisconnectReason": "CUSTOMER_DISCONNECT",
        "LastUpdateTimestamp": last_update,
        "Queue": None,
        "Agent": None,
        "Recording": None,
        "Recordings": None,
        "CustomerEndpoint": {"Address": "+15550100099", "Type": "TELEPHONE_NUMBER"},
    }
    if queue:
        record["Queue"] = {
            "ARN": queue["queueArn"],
            "EnqueueTimestamp": _seconds(queue["enqueueTimestamp"]),
            "DequeueTimestamp": _seconds(agent["connectedToAgentTimestamp"] if agent else end),
            "Duration": 7,
        }
    if agent:
        record["Agent"] = {
            "ARN": agent["agentArn"],
            "ConnectedToAgentTimestamp": _seconds(agent["connectedToAgentTimestamp"]),
            "AfterContactWorkStartTimestamp": _seconds(end),
            "AfterContactWorkEndTimestamp": "2025-03-04T09:00:45Z",
            "AfterContactWorkDuration": 10,
            "AgentInitiatedHoldDuration": 3,
        }
    record.update(overrides)
    return record


def observe_record(document: dict[str, Any]) -> RecordObservation:
    return contact_state.observe_record(ContactRecord.model_validate(document))


def item_of(observations: Sequence[ContactObservation | RecordObservation]) -> dict[str, Any]:
    return contact_state.to_item(state_of(observations), TTL_DAYS, NOW)


def test_the_real_agent_handled_record_alone_makes_a_completed_contact() -> None:
    # Given the real ctr03 (inbound, queued, answered, transferred out) and no event of its contact
    # When it is the only input
    item = item_of([observe_record(samples.load(samples.CONTACT_RECORDS[2]))])
    # Then the contact is closed (after-contact work is over when Connect writes the record), answered, not abandoned,
    # with the record's facts in the item at whole seconds
    assert item["status"] == "COMPLETED"
    assert item["abandoned"] is False
    assert "queuedSince" not in item
    assert item["enqueueTimestamp"] == item["enqueuedAt"] == "2022-01-05T17:14:46.000Z"
    assert item["dequeueTimestamp"] == item["connectedToAgentTimestamp"] == "2022-01-05T17:20:32.000Z"
    assert item["disconnectReason"] == "CUSTOMER_DISCONNECT"
    assert item["afterContactWorkDuration"] == 5
    assert item["recordings"][0]["mediaStreamType"] == "AUDIO"
    assert item["recordings"][0]["storageType"] == "S3"
    assert "CustomerEndpoint" not in json.dumps(item, default=str)
    assert "+15550100005" not in json.dumps(item, default=str)


def test_the_real_ivr_only_record_closes_the_contact_without_abandoning_it() -> None:
    # Given the real ctr02: no queue, no agent
    item = item_of([observe_record(samples.load(samples.CONTACT_RECORDS[1]))])
    assert (item["status"], item["abandoned"]) == ("DISCONNECTED", False)
    assert item["disconnectTimestamp"] == "2019-01-30T15:11:39.000Z"


def test_the_older_recording_field_is_read_when_recordings_is_missing() -> None:
    # Given the real ctr01 with only the older `Recording`
    document = samples.load(samples.CONTACT_RECORDS[0])
    del document["Recordings"]
    item = item_of([observe_record(document)])
    assert item["recordings"] == [
        {"location": document["Recording"]["Location"], "status": "AVAILABLE", "mediaStreamType": "AUDIO"}
    ]
    # and an OUTBOUND record's queue with no enqueue time does not make the contact queued
    assert "enqueueTimestamp" not in item
    assert item["status"] == "COMPLETED"


def test_a_record_never_overwrites_an_events_millisecond_value_and_fills_the_rest() -> None:
    # Given an answered call whose events carry milliseconds, and its record with the same facts in whole seconds
    events = GENERATED["inbound answered"][:4]  # DISCONNECTED and COMPLETED lost
    record = record_for(events)
    # When the record arrives before or after the events
    record_first: list[ContactObservation | RecordObservation] = [observe_record(record), *observe_all(events)]
    for inputs in (record_first, record_first[::-1]):
        item = item_of(inputs)
        # Then the events' values stand, the record only fills what they lacked, and the contact is closed
        assert item["connectedToAgentTimestamp"] == "2025-03-04T09:00:21.123Z"
        assert item["enqueueTimestamp"] == "2025-03-04T09:00:14.123Z"
        assert item["disconnectTimestamp"] == "2025-03-04T09:01:00.000Z"
        assert item["afterContactWorkDuration"] == 10
        assert item["disconnectReason"] == "CUSTOMER_DISCONNECT"
        assert item["status"] == "COMPLETED"
        assert item["filledByRecord"] >= {"disconnectTimestamp", "disconnectReason", "afterContactWorkDuration"}
        assert "connectedToAgentTimestamp" not in item["filledByRecord"]


def test_a_record_closes_a_ghost_caller_whose_disconnect_was_lost_and_confirms_it_abandoned() -> None:
    # Given a call whose events stop at QUEUED (DISCONNECTED lost): a ghost in the queue
    events = GENERATED["abandoned in queue"][:3]
    assert item_of(observe_all(events))["status"] == "QUEUED"
    # When its record arrives: a queue, no agent
    item = item_of([*observe_all(events), observe_record(record_for(events))])
    # Then it is out of the queue, disconnected and abandoned
    assert (item["status"], item["abandoned"]) == ("DISCONNECTED", True)
    assert "queuedSince" not in item
    state = state_of([*observe_all(events), observe_record(record_for(events))])
    assert contact_state.abandoned_event_detail(state)["disconnectTimestamp"] == "2025-03-04T09:01:00.000Z"


def test_an_agent_in_the_record_turns_a_provisional_abandoned_back() -> None:
    # Given QUEUED then DISCONNECTED, with no agent in any event (CONNECTED_TO_AGENT lost): provisionally abandoned
    events = GENERATED["abandoned in queue"][2:4]
    assert item_of(observe_all(events))["abandoned"] is True
    # When the record, which names the agent who answered, arrives
    agent = {"ARN": AGENT, "ConnectedToAgentTimestamp": "2025-03-04T09:00:20Z"}
    item = item_of([*observe_all(events), observe_record(record_for(events, Agent=agent))])
    # Then the contact was answered after all
    assert item["abandoned"] is False
    assert (item["agentArn"], item["connectedToAgentTimestamp"]) == (AGENT, "2025-03-04T09:00:20.000Z")
    assert item["status"] == "COMPLETED"


def test_the_newest_record_version_wins_and_copies_change_nothing() -> None:
    events = GENERATED["inbound answered"]
    first = observe_record(record_for(events, "2025-03-04T09:05:00Z"))
    updated = observe_record(record_for(events, "2025-03-04T09:09:00Z", DisconnectReason="AGENT_DISCONNECT"))
    state, outcomes = contact_state.merge(None, [updated, first, updated])
    assert outcomes == [Outcome.APPLIED, Outcome.STALE, Outcome.DUPLICATE]
    assert contact_state.to_item(state, TTL_DAYS, NOW)["disconnectReason"] == "AGENT_DISCONNECT"


def test_transfer_records_apply_each_to_its_own_contact_and_keep_the_links() -> None:
    first = record_for(GENERATED["inbound answered"], NextContactId="c-transfer")
    second = record_for(GENERATED["transfer"], InitialContactId="c-answered", PreviousContactId="c-answered")
    items = {o.contact_id: item_of([o]) for o in (observe_record(first), observe_record(second))}
    assert items["c-answered"]["nextContactId"] == "c-transfer"
    assert (items["c-transfer"]["initialContactId"], items["c-transfer"]["previousContactId"]) == (
        "c-answered",
        "c-answered",
    )


def test_a_state_without_a_record_keeps_the_revision_stored_items_have() -> None:
    state = state_of(observe_all(GENERATED["inbound answered"]))
    document = {
        "stages": sorted(state.stages),
        "firstSeen": dict(sorted(state.first_seen.items())),
        "registers": {name: [r.order_key, r.value] for name, r in sorted(state.latest.items())},
        "firstEventTime": state.first_event_time,
        "queuedEventTime": state.queued_event_time,
    }
    expected = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:32]
    item = contact_state.to_item(state, TTL_DAYS, NOW)
    assert item["revision"] == expected
    assert "contactRecord" not in item
    assert "filledByRecord" not in item


def test_an_item_with_a_record_round_trips_through_dynamodb_types() -> None:
    events = GENERATED["inbound answered"][:3]
    state = state_of([*observe_all(events), observe_record(record_for(GENERATED["inbound answered"]))])
    assert contact_state.from_item(_as_stored(contact_state.to_item(state, TTL_DAYS, NOW))) == state


RECORDED_LIFECYCLES = [
    GENERATED["inbound answered"],
    GENERATED["abandoned in queue"],
    GENERATED["ivr only"],
    GENERATED["transfer"],
    GENERATED["queue transfer"],
]


@settings(max_examples=150, deadline=None)
@given(data=st.data(), lifecycle_index=st.integers(0, len(RECORDED_LIFECYCLES) - 1))
def test_events_and_records_in_any_order_and_duplication_give_the_same_item(
    data: st.DataObject, lifecycle_index: int
) -> None:
    # Given some of a lifecycle's events (any may be lost) and two versions of its record (either may be missing)
    events = RECORDED_LIFECYCLES[lifecycle_index]
    kept_events = [
        e
        for e, kept in zip(
            events, data.draw(st.lists(st.booleans(), min_size=len(events), max_size=len(events))), strict=True
        )
        if kept
    ]
    versions = [("event", e) for e in kept_events] + [
        ("record", r)
        for r in (
            record_for(events, "2025-03-04T09:05:00Z"),
            record_for(events, "2025-03-04T09:07:00Z", DisconnectReason="OTHER"),
        )
        if data.draw(st.booleans())
    ]
    if not versions:
        return
    inputs = [contact_state.observe(parsed(d)) if kind == "event" else observe_record(d) for kind, d in versions]
    expected = _as_stored(item_of(inputs))
    # When they arrive in any order, some more than once, in batches with a DynamoDB round trip between them
    delivered = data.draw(st.permutations([*inputs, *data.draw(st.lists(st.sampled_from(inputs), max_size=4))]))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(delivered)), max_size=3)))
    stored: dict[str, Any] | None = None
    for start, end in zip([0, *cuts], [*cuts, len(delivered)], strict=True):
        if start == end:
            continue
        known = contact_state.from_item(stored) if stored else None
        merged, _ = contact_state.merge(known, delivered[start:end])
        stored = _as_stored(contact_state.to_item(merged, TTL_DAYS, NOW))
    # Then the item is the one in-order delivery gives; with a record the contact is never waiting or connected, and
    # no event's millisecond value was replaced by a record's whole-second one
    assert stored == expected
    if any(kind == "record" for kind, _ in versions):
        assert stored["status"] in {"DISCONNECTED", "COMPLETED"}
        assert "queuedSince" not in stored
    for name in contact_state.FIRST_SEEN:
        carried = [d["detail"][name] for kind, d in versions if kind == "event" and name in d["detail"]]
        if carried:
            assert stored[name] == min(carried)
