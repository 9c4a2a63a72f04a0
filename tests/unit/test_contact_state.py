"""The contact state merge: status never moves backwards, first-seen timestamps, abandoned contacts, and any order or
duplication of the same events ending in the same item (property-based, over real and generated lifecycles)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connect_state.domain import contact_state
from connect_state.domain.contact_state import ContactObservation, ContactState
from connect_state.domain.versioned import Outcome
from connect_state.models.contact_event import ContactEvent
from connect_state.models.decoder import parse_contact_event
from tests.contact_lifecycles import (
    ABANDONED_2021,
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


def state_of(observations: Sequence[ContactObservation]) -> ContactState:
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
    """What the DynamoDB deserializer hands back: numbers as Decimal."""
    return {k: Decimal(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in item.items()}


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
