"""The agent state as a pure function of events: ACW, activity, status type, ordering, login."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connect_state.domain import agent_state
from connect_state.domain.agent_state import AgentObservation
from connect_state.domain.versioned import Outcome
from connect_state.models.agent_event import AgentEvent
from tests import samples
from tests.factories import Contact, Snapshot, agent_arn, agent_event, timestamp

TTL_DAYS = 90


def observe(event: dict[str, Any], sequence_number: str | None = None) -> AgentObservation:
    return agent_state.observe(AgentEvent.model_validate(event), sequence_number)


def item_after(*events: dict[str, Any]) -> dict[str, Any]:
    state, _ = agent_state.merge(None, [observe(e, samples.sequence(i)) for i, e in enumerate(events)])
    return agent_state.to_item(state, TTL_DAYS)


@pytest.mark.parametrize(
    ("ended", "cleared", "start", "end"),
    [
        ("ae03", "ae04", "2018-10-25T18:55:27.027Z", "2018-10-25T18:55:32.032Z"),
        ("ae05", "ae06", "2019-05-25T18:55:27.017Z", "2019-05-25T18:55:32.022Z"),
    ],
)
def test_after_contact_work_reproduces_aws_worked_example(ended: str, cleared: str, start: str, end: str) -> None:
    # Given the contact ENDED (ACW starts) and then cleared from the agent, as in AWS's "Determine how long an agent
    # spends doing ACW"
    item = item_after(samples.sample(ended), samples.sample(cleared))
    # Then the ACW is AWS's figure: 5.005 seconds
    assert item["lastAfterContactWork"] == {
        "contactId": "ContactId-1",
        "startTimestamp": start,
        "endTimestamp": end,
        "durationSeconds": Decimal("5.005"),
    }
    assert item["activity"] == "AVAILABLE"
    assert item["contacts"] == []


def test_acw_is_measured_from_the_clearing_event_alone_even_if_it_arrives_first() -> None:
    item = item_after(samples.sample("ae04"))
    assert item["lastAfterContactWork"]["durationSeconds"] == Decimal("5.005")


def test_configuration_only_state_change_is_not_after_contact_work() -> None:
    # Given a STATE_CHANGE that only changes the routing profile while the contact is still in ACW
    contact = Contact("c-1", "ENDED", timestamp(10))
    event = agent_event(
        agent_arn(1),
        "STATE_CHANGE",
        timestamp(20),
        Snapshot(contacts=[contact], routing_profile="Support"),
        Snapshot(contacts=[contact], routing_profile="Sales"),
    )
    item = item_after(event)
    assert "lastAfterContactWork" not in item
    assert item["activity"] == "AFTER_CONTACT_WORK"
    assert item["routingProfileName"] == "Support"


def test_contact_in_error_removed_is_not_after_contact_work() -> None:
    # Given the real ae08: a contact in ERROR (customer abandoned during whisper) removed from the agent
    item = item_after(samples.sample("ae08"))
    assert "lastAfterContactWork" not in item


@pytest.mark.parametrize(
    ("states", "activity"),
    [
        (["ENDED", "CONNECTED"], "ON_CONTACT"),
        (["CONNECTED_ONHOLD", "CONNECTING"], "ON_HOLD"),
        (["INCOMING"], "INCOMING"),
        (["PENDING", "ENDED"], "INCOMING"),
        (["ENDED", "MISSED"], "AFTER_CONTACT_WORK"),
        (["REJECTED"], "MISSED"),
        (["ERROR"], "ERROR"),
    ],
)
def test_activity_is_the_highest_contact_state(states: list[str], activity: str) -> None:
    contacts = [Contact(f"c-{i}", state, timestamp(i), channel="CHAT") for i, state in enumerate(states)]
    event = agent_event(agent_arn(1), "STATE_CHANGE", timestamp(30), Snapshot(contacts=contacts), None)
    assert item_after(event)["activity"] == activity


@pytest.mark.parametrize(
    ("status", "declared", "status_type", "activity"),
    [
        ("Available", None, "ROUTABLE", "AVAILABLE"),
        ("Offline", None, "OFFLINE", "OFFLINE"),
        ("Break", None, "CUSTOM", "CUSTOM_STATUS"),
        ("Training", "ROUTABLE", "ROUTABLE", "AVAILABLE"),
    ],
)
def test_status_type_is_declared_or_inferred(
    status: str, declared: str | None, status_type: str, activity: str
) -> None:
    event = agent_event(agent_arn(1), "STATE_CHANGE", timestamp(1), Snapshot(status, status_type=declared), None)
    item = item_after(event)
    assert (item["statusType"], item["activity"]) == (status_type, activity)


def test_after_logout_the_agent_is_offline_whatever_later_heartbeats_say() -> None:
    # Given a LOGOUT and then a heartbeat (Connect sends them up to an hour after logoff) still showing Available
    agent = agent_arn(1)
    logout = agent_event(agent, "LOGOUT", timestamp(10), Snapshot("Available"), Snapshot("Available"))
    heartbeat = agent_event(agent, "HEART_BEAT", timestamp(130), Snapshot("Available"), Snapshot("Available"))
    item = item_after(logout, heartbeat)
    assert (item["loggedIn"], item["activity"], item["lastEventType"]) == (False, "OFFLINE", "HEART_BEAT")


def test_a_late_logout_still_counts_but_does_not_overwrite_the_newer_snapshot() -> None:
    agent = agent_arn(1)
    login = agent_event(agent, "LOGIN", timestamp(0), Snapshot("Offline"), None)
    logout = agent_event(agent, "LOGOUT", timestamp(50), Snapshot("Offline"), Snapshot("Offline"))
    heartbeat = agent_event(agent, "HEART_BEAT", timestamp(100), Snapshot("Break"), Snapshot("Break"))
    # When the LOGOUT arrives last
    item = item_after(login, heartbeat, logout)
    # Then loggedIn follows the newest LOGIN/LOGOUT and the status the newest event
    assert item["loggedIn"] is False
    assert item["statusName"] == "Break"
    assert item["lastEventType"] == "HEART_BEAT"


def test_older_event_never_overwrites_newer_and_duplicates_change_nothing() -> None:
    agent = agent_arn(1)
    newer = observe(agent_event(agent, "STATE_CHANGE", timestamp(20), Snapshot("Break"), None), samples.sequence(2))
    older = observe(agent_event(agent, "STATE_CHANGE", timestamp(10), Snapshot("Lunch"), None), samples.sequence(1))
    state, outcomes = agent_state.merge(None, [newer, older, newer])
    assert outcomes == [Outcome.APPLIED, Outcome.STALE, Outcome.DUPLICATE]
    assert agent_state.to_item(state, TTL_DAYS)["statusName"] == "Break"


def test_fake_milliseconds_are_ordered_by_sequence_number() -> None:
    # Given two events in the same second of an early capture (the milliseconds repeat the seconds: .027)
    agent = agent_arn(1)
    at = "2018-10-25T18:55:27.027Z"
    first = observe(agent_event(agent, "STATE_CHANGE", at, Snapshot("Break"), None, "z-event"), samples.sequence(1))
    second = observe(agent_event(agent, "STATE_CHANGE", at, Snapshot("Lunch"), None, "a-event"), samples.sequence(2))
    state, _ = agent_state.merge(None, [second, first])
    # Then the one Connect wrote later to the shard wins, whatever the event ids
    assert agent_state.to_item(state, TTL_DAYS)["statusName"] == "Lunch"


def test_item_round_trips_through_storage() -> None:
    state, _ = agent_state.merge(
        None, [observe(samples.sample(p), samples.sequence(i)) for i, p in enumerate(["ae05", "ae06"])]
    )
    assert agent_state.from_item(agent_state.to_item(state, TTL_DAYS)) == state


def test_item_has_the_documented_attributes() -> None:
    item = item_after(samples.sample("ae07"))
    assert item["agentId"] == "1b50fbd1-5391-4355-b116-c7011a6b0d28"
    assert item["instanceArn"].endswith("instance/0b89d1f7-ab32-48f8-9870-67be7409181f")
    assert (item["username"], item["firstName"], item["lastName"]) == ("P12345678", "Joe", "Bloggs")
    assert item["statusStartTimestamp"] == "2019-06-24T08:58:34.253Z"
    assert item["routingProfileName"] == "1. Customer Services"
    # The real capture has ConnectedToAgentTimestamp null while CONNECTED: absent, not "null"
    assert item["contacts"] == [
        {
            "contactId": "29e1f3bf-c5f7-428d-a51f-a6371cf4c9a2",
            "channel": "VOICE",
            "state": "CONNECTED",
            "stateStartTimestamp": "2019-06-24T09:03:55.795Z",
            "initiationMethod": "INBOUND",
            "queueArn": "arn:aws:connect:eu-central-1:443350248290:instance/0b89d1f7-ab32-48f8-9870-67be7409181f"
            "/queue/86841fd9-2515-49aa-bbec-45f19cfd0540",  # the contact's Queue.ARN in ae07
        }
    ]
    assert item["activity"] == "ON_CONTACT"
    assert item["ttl"] == 1561367035 + TTL_DAYS * 86_400  # event time + stateTtlDays: a function of the event


def test_item_lists_the_queues_of_the_routing_profile_without_the_agents_own_queue() -> None:
    # Given the real ae07: ten InboundQueues, one of them the agent's own queue (queue/agent/<id>, Name null)
    item = item_after(samples.sample("ae07"))
    # Then the item has the nine routing-profile queues, sorted: the wallboard's "agents staffed for this queue"
    instance = "arn:aws:connect:eu-central-1:443350248290:instance/0b89d1f7-ab32-48f8-9870-67be7409181f"
    queues = item["routingProfileQueueArns"]
    assert len(queues) == 9
    assert queues == sorted(queues)
    assert f"{instance}/queue/86841fd9-2515-49aa-bbec-45f19cfd0540" in queues
    assert not any("/queue/agent/" in queue for queue in queues)


def test_an_event_without_configuration_leaves_the_routing_profile_queues_unknown() -> None:
    # Given an event whose snapshot has no Configuration (a fragment-like HEART_BEAT)
    event = samples.sample("ae07")
    event["CurrentAgentSnapshot"].pop("Configuration")
    item = item_after(event)
    # Then the attribute is absent (unknown), not an empty list (serves no queue)
    assert "routingProfileQueueArns" not in item


def test_a_newer_routing_profile_replaces_the_queues_served() -> None:
    # Given the agent moved to a routing profile with other queues (a configuration STATE_CHANGE)
    older = agent_event(agent_arn(1), "STATE_CHANGE", timestamp(10), Snapshot(), None)
    newer = agent_event(agent_arn(1), "STATE_CHANGE", timestamp(20), Snapshot(), None)
    newer["CurrentAgentSnapshot"]["Configuration"]["RoutingProfile"]["InboundQueues"] = [
        {"ARN": "arn:aws:connect:eu-west-2:111122223333:instance/i/queue/support", "Name": "Support"},
        {"ARN": "arn:aws:connect:eu-west-2:111122223333:instance/i/queue/billing", "Name": "Billing"},
    ]
    # When they arrive in either order
    for events in ((older, newer), (newer, older)):
        item = item_after(*events)
        # Then the newest event's queues are the item's
        assert item["routingProfileQueueArns"] == [
            "arn:aws:connect:eu-west-2:111122223333:instance/i/queue/billing",
            "arn:aws:connect:eu-west-2:111122223333:instance/i/queue/support",
        ]


def test_item_lists_the_agents_hierarchy_groups_at_every_level() -> None:
    # Given an agent in a hierarchy (Configuration.AgentHierarchyGroups, Level1..Level5; a level may be null or absent)
    group = "arn:aws:connect:eu-west-2:111122223333:instance/i/agent-group/{}"
    event = agent_event(agent_arn(1), "STATE_CHANGE", timestamp(10), Snapshot(), None)
    event["CurrentAgentSnapshot"]["Configuration"]["AgentHierarchyGroups"] = {
        "Level1": {"ARN": group.format("site-london"), "Name": "London"},
        "Level2": None,
        "Level3": {"ARN": group.format("team-blue"), "Name": "Blue"},
        "Level4": {"ARN": None, "Name": "no ARN"},
    }
    item = item_after(event)
    # Then the item has the ARNs of the levels present, sorted: the agent groups a supervisor may be scoped to
    assert item["hierarchyGroupArns"] == [group.format("site-london"), group.format("team-blue")]


def test_an_agent_outside_any_hierarchy_has_no_hierarchy_groups() -> None:
    # Given the real ae07: AgentHierarchyGroups null, as in every real capture
    item = item_after(samples.sample("ae07"))
    assert "hierarchyGroupArns" not in item
    # and a newer event that has no groups removes the ones an older event had (the snapshot part is replaced)
    event = agent_event(agent_arn(1), "STATE_CHANGE", timestamp(10), Snapshot(), None)
    grouped = agent_event(agent_arn(1), "STATE_CHANGE", timestamp(5), Snapshot(), None)
    grouped["CurrentAgentSnapshot"]["Configuration"]["AgentHierarchyGroups"] = {
        "Level1": {"ARN": "arn:aws:connect:eu-west-2:111122223333:instance/i/agent-group/g", "Name": "G"}
    }
    assert "hierarchyGroupArns" not in item_after(grouped, event)
    assert "hierarchyGroupArns" in agent_state.OPTIONAL_ATTRIBUTES
