"""The wallboard's figures against hand-made state items: each Amazon Connect definition, and each of its traps
(domain/board.py's docstring cites the definitions)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from connect_state.domain import board, timestamps
from connect_state.models.board_settings import WallboardSettings

INSTANCE = "arn:aws:connect:eu-west-2:111122223333:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111"
SALES = f"{INSTANCE}/queue/11111111-2222-3333-4444-555555555555"
SUPPORT = f"{INSTANCE}/queue/66666666-7777-8888-9999-000000000000"
NOW = "2026-11-20T10:00:00.000Z"
SETTINGS = WallboardSettings.model_validate({"timeZone": "Europe/London", "queueNames": {SALES: "Sales"}})


def agent(
    n: int,
    status: str = "Available",
    status_type: str = "ROUTABLE",
    contacts: tuple[tuple[str, str], ...] = (),
    logged_in: bool = True,
    queues: tuple[str, ...] = (SALES,),
) -> dict[str, Any]:
    """An agent state item as the agent table holds it; contacts as (state, initiation method)."""
    return {
        "agentArn": f"{INSTANCE}/agent/agent-{n}",
        "agentId": f"agent-{n}",
        "firstName": "Ada",
        "lastName": f"Number{n}",
        "username": f"ada{n}",
        "statusName": status,
        "statusType": status_type,
        "statusStartTimestamp": "2026-11-20T09:00:00.000Z",
        "activity": "AVAILABLE",
        "loggedIn": logged_in,
        "contacts": [
            {"contactId": f"c-{n}-{i}", "channel": "VOICE", "state": state, "initiationMethod": method}
            for i, (state, method) in enumerate(contacts)
        ],
        "routingProfileQueueArns": list(queues),
        "routingProfileName": "Sales",
        "orderKey": "2026-11-20T09:00:00.000Z#1#e",
        "ttl": 1_900_000_000,
    }


def rows(*items: dict[str, Any]) -> list[dict[str, Any]]:
    return [board.agent_row(item) for item in items]


def contact(
    n: int,
    enqueued: str | None = "2026-11-20T09:00:00.000Z",
    answered_after: float | None = None,
    disconnected_after: float | None = None,
    abandoned: bool = False,
    method: str = "INBOUND",
    status: str = "COMPLETED",
    acw: int | None = None,
    queue: str = SALES,
) -> dict[str, Any]:
    """A contact item as the byQueueEnqueued index projects it; times in seconds after `enqueued`."""

    def at(seconds: float) -> str:
        return timestamps.format_timestamp(timestamps.parse(str(enqueued)) + timedelta(seconds=seconds))

    item: dict[str, Any] = {
        "contactId": f"contact-{n}",
        "queueArn": queue,
        "channel": "VOICE",
        "initiationMethod": method,
        "status": status,
        "abandoned": abandoned,
    }
    if enqueued:
        item["enqueuedAt"] = enqueued
    if answered_after is not None:
        item["connectedToAgentTimestamp"] = at(answered_after)
    if disconnected_after is not None:
        item["disconnectTimestamp"] = at(disconnected_after)
    if acw is not None:
        item["afterContactWorkDuration"] = Decimal(acw)
    return item


def waiting(n: int, since: str, queue: str = SALES) -> dict[str, Any]:
    return {"contactId": f"waiting-{n}", "queueArn": queue, "queuedSince": since, "channel": "CHAT"}


def view(**kwargs: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {"waiting": [], "enqueued": [], "rows": [], "settings": SETTINGS, "now": NOW}
    arguments.update(kwargs)
    return board.queue_view(SALES, **arguments)


# --- the agent row ---------------------------------------------------------------------------------------------
def test_the_agent_row_is_compact_and_names_the_agent() -> None:
    row = board.agent_row(agent(1, contacts=(("CONNECTED", "INBOUND"),)))
    assert row["name"] == "Ada Number1"
    assert row["queueArns"] == [SALES]
    assert row["contacts"] == [
        {"contactId": "c-1-0", "channel": "VOICE", "state": "CONNECTED", "initiationMethod": "INBOUND"}
    ]
    # Bookkeeping stays in the state table
    assert not {"orderKey", "ttl", "username", "firstName"} & row.keys()


def test_an_agent_without_first_or_last_name_is_shown_by_username() -> None:
    item = agent(2)
    del item["firstName"], item["lastName"]
    assert board.agent_row(item)["name"] == "ada2"


# --- agent counts ----------------------------------------------------------------------------------------------
def test_online_is_any_status_but_offline_and_staffed_leaves_out_custom_statuses() -> None:
    # Given an agent Available, one on Break (a custom status), one Offline, one logged out
    counts = board.agent_counts(
        rows(
            agent(1),
            agent(2, "Break", "CUSTOM"),
            agent(3, "Offline", "OFFLINE"),
            agent(4, logged_in=False),
        )
    )
    # Then Online counts Available and Break; Staffed only Available; NPT only Break
    assert (counts["AGENTS_ONLINE"], counts["AGENTS_STAFFED"], counts["AGENTS_NON_PRODUCTIVE"]) == (2, 1, 1)
    assert counts["AGENTS_AVAILABLE"] == 1


def test_trap_an_agent_in_a_custom_status_and_in_after_contact_work_counts_in_both() -> None:
    # Given an agent who set Break while finishing a contact's ACW (Connect: "counted as On call and NPT at once")
    counts = board.agent_counts(rows(agent(1, "Break", "CUSTOM", contacts=(("ENDED", "INBOUND"),))))
    # Then the agent is non-productive AND on contact, and its contact is in ACW; not staffed, not available
    assert counts["AGENTS_NON_PRODUCTIVE"] == 1
    assert counts["AGENTS_ON_CONTACT"] == 1
    assert counts["AGENTS_AFTER_CONTACT_WORK"] == 1
    assert (counts["AGENTS_STAFFED"], counts["AGENTS_AVAILABLE"]) == (0, 0)


def test_trap_after_contact_work_counts_contacts_not_agents() -> None:
    # Given one agent with two chats in ACW and one chat connected, and another agent with one contact in ACW
    counts = board.agent_counts(
        rows(
            agent(1, contacts=(("ENDED", "API"), ("ENDED", "API"), ("CONNECTED", "API"))),
            agent(2, contacts=(("ENDED", "INBOUND"),)),
        )
    )
    # Then AGENTS_AFTER_CONTACT_WORK is 3 (contacts), AGENTS_ON_CONTACT is 2 (agents)
    assert counts["AGENTS_AFTER_CONTACT_WORK"] == 3
    assert counts["AGENTS_ON_CONTACT"] == 2


@pytest.mark.parametrize(
    ("state", "method", "on_contact"),
    [
        ("CONNECTED", "INBOUND", True),
        ("CONNECTED_ONHOLD", "INBOUND", True),
        ("PAUSED", "API", True),
        ("ENDED", "INBOUND", True),  # after-contact work is "on contact" in Connect's definition
        ("CONNECTING", "OUTBOUND", True),  # outbound ring
        ("CONNECTING", "INBOUND", False),  # an inbound offer ringing is Incoming, not on contact
        ("MISSED", "INBOUND", False),
        ("ERROR", "INBOUND", False),
    ],
)
def test_on_contact_is_connected_on_hold_in_acw_or_outbound_ring(state: str, method: str, on_contact: bool) -> None:
    counts = board.agent_counts(rows(agent(1, contacts=((state, method),))))
    assert counts["AGENTS_ON_CONTACT"] == int(on_contact)


def test_an_agent_with_a_contact_in_error_counts_as_error_and_is_not_available() -> None:
    counts = board.agent_counts(rows(agent(1, contacts=(("ERROR", "INBOUND"),)), agent(2, "Error", "CUSTOM")))
    assert counts["AGENTS_ERROR"] == 2
    assert counts["AGENTS_AVAILABLE"] == 0
    # the Error status is not a custom status for NPT (Connect: NPT is any status but Available, Error, Offline)
    assert counts["AGENTS_NON_PRODUCTIVE"] == 0


def test_an_agent_on_break_making_an_outbound_call_is_on_contact_but_not_staffed() -> None:
    # Connect's own example under "Staffed"
    counts = board.agent_counts(rows(agent(1, "Break", "CUSTOM", contacts=(("CONNECTED", "OUTBOUND"),))))
    assert (counts["AGENTS_ON_CONTACT"], counts["AGENTS_STAFFED"]) == (1, 0)


def test_per_queue_agents_are_those_whose_routing_profile_serves_the_queue() -> None:
    agent_rows = rows(agent(1), agent(2, queues=(SUPPORT,)), agent(3, contacts=(("CONNECTED", "INBOUND"),)))
    assert board.queue_agent_counts(agent_rows, SALES) == {"AGENTS_STAFFED": 2, "AGENTS_AVAILABLE": 1}
    assert board.queue_agent_counts(agent_rows, SUPPORT) == {"AGENTS_STAFFED": 1, "AGENTS_AVAILABLE": 1}


# --- queue figures ---------------------------------------------------------------------------------------------
def test_waiting_contacts_oldest_first_with_their_waits_and_no_endpoint() -> None:
    shown = view(waiting=[waiting(2, "2026-11-20T09:59:30.000Z"), waiting(1, "2026-11-20T09:58:00.500Z")])
    assert shown["CONTACTS_IN_QUEUE"] == 2
    assert shown["OLDEST_CONTACT_AGE"] == 119  # whole seconds, 09:58:00.5 -> 10:00:00
    assert [w["contactId"] for w in shown["waiting"]] == ["waiting-1", "waiting-2"]
    assert shown["waiting"][1] == {
        "contactId": "waiting-2",
        "channel": "CHAT",
        "queuedSince": "2026-11-20T09:59:30.000Z",
        "waitSeconds": 30,
    }
    assert "customerEndpoint" not in str(shown)


def test_the_waiting_list_shows_fifty_and_counts_all() -> None:
    shown = view(waiting=[waiting(n, f"2026-11-20T09:{n:02d}:00.000Z") for n in range(60)])
    assert (len(shown["waiting"]), shown["waitingTotal"], shown["CONTACTS_IN_QUEUE"]) == (50, 60, 60)


def test_an_empty_queue_has_no_rates_and_no_oldest_contact() -> None:
    shown = view()
    assert shown["OLDEST_CONTACT_AGE"] is None
    for rate in ("SERVICE_LEVEL", "ABANDONMENT_RATE", "AVG_HANDLE_TIME", "AVG_QUEUE_ANSWER_TIME"):
        assert shown[rate] is None, rate
    assert shown["levels"] == {"SERVICE_LEVEL": "ok", "OLDEST_CONTACT_AGE": "ok", "ABANDONMENT_RATE": "ok"}


def test_trap_service_level_and_abandonment_divide_by_contacts_queued() -> None:
    # Given 5 contacts queued: answered in 10 s, answered in 40 s, abandoned after 5 s, abandoned after 50 s, and
    # one still waiting
    enqueued = [
        contact(1, answered_after=10, disconnected_after=100),
        contact(2, answered_after=40, disconnected_after=100),
        contact(3, disconnected_after=5, abandoned=True),
        contact(4, disconnected_after=50, abandoned=True),
        contact(5, status="QUEUED"),
    ]
    shown = view(enqueued=enqueued)
    # Then service level (20 s) = removed within 20 s (answered at 10 s, abandoned at 5 s) / queued (5) = 40%
    assert shown["SERVICE_LEVEL"] == 40.0
    # and abandonment = 2 / 5 queued = 40% (not 2 / (2 answered + 2 abandoned) = 50%)
    assert shown["ABANDONMENT_RATE"] == 40.0
    assert (shown["CONTACTS_QUEUED"], shown["CONTACTS_HANDLED"], shown["CONTACTS_ABANDONED"]) == (5, 2, 2)
    assert shown["AVG_QUEUE_ANSWER_TIME"] == 25.0


def test_trap_a_callback_is_never_abandoned() -> None:
    # Given a queued callback disconnected from its queue without an agent (the state marks it abandoned)
    enqueued = [contact(1, disconnected_after=30, abandoned=True, method="CALLBACK"), contact(2, answered_after=5)]
    shown = view(enqueued=enqueued)
    # Then Connect does not count it as abandoned ("contacts queued for callback are not counted as abandoned")
    assert shown["CONTACTS_ABANDONED"] == 0
    assert shown["ABANDONMENT_RATE"] == 0.0
    assert shown["CONTACTS_QUEUED"] == 2


def test_service_level_uses_the_queues_own_threshold() -> None:
    settings = WallboardSettings.model_validate({"thresholds": {"default": {}, SALES: {"serviceLevelSeconds": 60}}})
    shown = view(enqueued=[contact(1, answered_after=45, disconnected_after=90)], settings=settings)
    assert (shown["serviceLevelSeconds"], shown["SERVICE_LEVEL"]) == (60, 100.0)


def test_average_handle_time_includes_hold_and_after_contact_work_of_completed_contacts() -> None:
    enqueued = [
        contact(1, answered_after=10, disconnected_after=190, acw=30),  # 180 s connected + 30 s ACW
        contact(2, answered_after=10, disconnected_after=100, acw=0),  # 90 s
        contact(3, answered_after=10, status="CONNECTED_TO_AGENT"),  # still talking: not yet handled to the end
        contact(4, answered_after=10, disconnected_after=50, status="DISCONNECTED"),  # still in ACW
    ]
    assert view(enqueued=enqueued)["AVG_HANDLE_TIME"] == 150.0


def test_only_contacts_enqueued_in_the_interval_count() -> None:
    # "today" in Europe/London: 2026-11-20 00:00 local is 00:00 UTC (GMT in November)
    enqueued = [contact(1, enqueued="2026-11-19T23:59:59.999Z", answered_after=5), contact(2, answered_after=5)]
    shown = view(enqueued=enqueued)
    assert shown["interval"] == {"start": "2026-11-20T00:00:00.000Z", "kind": "today", "label": "today (Europe/London)"}
    assert shown["CONTACTS_QUEUED"] == 1


def test_today_starts_at_local_midnight_in_summer_time_too() -> None:
    settings = WallboardSettings.model_validate({"timeZone": "Europe/London"})
    assert board.interval_start("2026-07-01T12:00:00.000Z", settings) == "2026-06-30T23:00:00.000Z"


def test_a_trailing_interval() -> None:
    settings = WallboardSettings.model_validate({"trailingMinutes": 30})
    assert board.interval(NOW, settings) == {
        "start": "2026-11-20T09:30:00.000Z",
        "kind": "trailing",
        "label": "last 30 min",
    }


@pytest.mark.parametrize(("oldest_wait", "level"), [(59, "ok"), (60, "warn"), (179, "warn"), (180, "alert")])
def test_the_oldest_wait_is_coloured_by_the_thresholds(oldest_wait: int, level: str) -> None:
    since = timestamps.format_timestamp(timestamps.parse(NOW) - timedelta(seconds=oldest_wait))
    assert view(waiting=[waiting(1, since)])["levels"]["OLDEST_CONTACT_AGE"] == level


@pytest.mark.parametrize(("answered", "level"), [(5, "ok"), (4, "ok"), (3, "warn"), (2, "alert")])
def test_service_level_is_coloured_below_its_thresholds(answered: int, level: str) -> None:
    # Given 5 contacts queued, `answered` of them within 20 s: 100%, 80% (at the warning level, not below it), 60%
    # (below warn 80, not below alert 60), 40%
    enqueued = [contact(n, answered_after=5 if n < answered else 60, disconnected_after=90) for n in range(5)]
    shown = view(enqueued=enqueued)
    assert shown["SERVICE_LEVEL"] == answered * 20.0
    assert shown["levels"]["SERVICE_LEVEL"] == level


def test_abandonment_is_coloured_at_or_above_its_thresholds() -> None:
    enqueued = [contact(n, answered_after=5, disconnected_after=60) for n in range(19)]
    enqueued.append(contact(99, disconnected_after=10, abandoned=True))
    assert view(enqueued=enqueued)["levels"]["ABANDONMENT_RATE"] == "warn"  # 5% = warn
    enqueued.append(contact(98, disconnected_after=10, abandoned=True))
    enqueued.append(contact(97, disconnected_after=10, abandoned=True))
    assert view(enqueued=enqueued)["levels"]["ABANDONMENT_RATE"] == "alert"  # 3 / 22 = 13.6%


def test_a_queue_without_a_configured_name_is_named_by_its_id() -> None:
    assert view()["name"] == "Sales"
    assert board.queue_view(SUPPORT, waiting=[], enqueued=[], rows=[], settings=SETTINGS, now=NOW)["name"] == (
        "queue 66666666"
    )


# --- channels and messages -------------------------------------------------------------------------------------
def test_queue_channels_follow_appsync_events_segment_rules() -> None:
    assert board.queue_channel(SALES) == "/board/queues/11111111-2222-3333-4444-555555555555"
    assert board.queue_channel(f"{INSTANCE}/queue/queue ARN*") == "/board/queues/queue-ARN-"


def test_messages_carry_channel_sequence_time_and_what_changed() -> None:
    shown = view()
    message = board.queue_message(7, NOW, shown, ["c-2", "c-1", "c-1"])
    assert (message["channel"], message["seq"], message["kind"], message["asOf"]) == (
        board.queue_channel(SALES),
        7,
        "view",
        NOW,
    )
    assert message["changed"] == ["c-1", "c-2"]
    delta = board.agents_delta(8, NOW, rows(agent(2), agent(1)), ["gone"], {"AGENTS_ONLINE": 2}, ["x"])
    assert [row["agentId"] for row in delta["upserts"]] == ["agent-1", "agent-2"]
    assert (delta["kind"], delta["removes"]) == ("delta", ["gone"])
