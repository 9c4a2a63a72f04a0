"""The live wallboard's figures, computed from the state items (pure: no boto3, no clock of its own).

Every figure is RECOMPUTED from the current state, never incremented from stream deltas, so a redelivered or reordered
stream batch computes the same figure from the same state. Definitions are Amazon Connect's own; where the state
cannot see what Connect sees, the approximation is said here and in the README ("Wallboard metric definitions").

Sources (Amazon Connect Administrator Guide):
- [RT] Real-time metrics definitions, https://docs.aws.amazon.com/connect/latest/adminguide/real-time-metrics-definitions.html
- [MD] Metric definitions, https://docs.aws.amazon.com/connect/latest/adminguide/metrics-definitions.html
- [HM] Historical metrics definitions,
  https://docs.aws.amazon.com/connect/latest/adminguide/historical-metrics-definitions.html
- [AS] About agent status, https://docs.aws.amazon.com/connect/latest/adminguide/agent-status.html
- [CS] About contact states, https://docs.aws.amazon.com/connect/latest/adminguide/about-contact-states.html

Agent counts (GetCurrentMetricData names), over agents that are logged in (`loggedIn`, from LOGIN/LOGOUT):
- AGENTS_ONLINE: status other than Offline, custom statuses included [RT "Online"].
- AGENTS_STAFFED: online and not in a custom status (NPT) [RT "Staffed"]: an agent on Break making a call is on
  contact but not staffed.
- AGENTS_AVAILABLE: can take an inbound contact now: status Available (ROUTABLE), no contact at all [RT "Available"].
  Connect also counts an agent with a free slot of another channel (one chat of three); the state does not keep
  routing-profile concurrency, so such an agent is counted as not available (the figure can only be lower).
- AGENTS_NON_PRODUCTIVE: in a custom status (any status other than Available, Error, Offline) [RT "NPT", HM
  "Non-Productive Time"], WHETHER OR NOT handling contacts: "it's possible for agents to be counted as On call and NPT
  at the same time" [RT, AS].
- AGENTS_ON_CONTACT: handling at least one contact that is connected, on hold, in after-contact work or outbound ring
  [RT "On contact"]; here CONNECTED, CONNECTED_ONHOLD, PAUSED (a parked task still holds its slot [MD "Active slots"]),
  ENDED (ACW [CS]), and CONNECTING of an OUTBOUND contact. An agent in ACW is on contact.
- AGENTS_AFTER_CONTACT_WORK: counts CONTACTS, not agents: "ACW counts the number of contacts that are in an ACW
  state, not the number of agents" [RT "ACW"]; here contacts in state ENDED [CS].
- AGENTS_ERROR: agents whose activity is Error: a contact in the ERROR state [RT "Error", "Agent Activity": Error wins
  over every other contact state], or the agent status Error.
Per queue, AGENTS_STAFFED and AGENTS_AVAILABLE count the agents above whose routing profile serves the queue
(`routingProfileQueueArns`, the agent events' InboundQueues), as Connect's queue-filtered real-time report does.
Per agent group (`/board/agentgroups/<id>`), the same counts over the agents whose `hierarchyGroupArns` have the group
at any level (a site at Level1 holds every team below it).

Queue figures (over the interval: contacts ENQUEUED since the interval start, in the queue they are (last) in):
- CONTACTS_IN_QUEUE: contacts in the queue now [RT "In queue"] (the byQueue index).
- OLDEST_CONTACT_AGE: how long the longest-waiting contact has been in the queue [RT "Oldest"], whole seconds.
- CONTACTS_QUEUED: contacts placed in the queue [HM "Contacts queued"].
- CONTACTS_HANDLED: contacts in the queue answered by an agent [RT "Handled"].
- CONTACTS_ABANDONED: disconnected while in the queue, never connected to an agent; "contacts queued for callback are
  not counted as abandoned" [RT "Abandoned"]: contacts with initiationMethod CALLBACK never are.
- ABANDONMENT_RATE: CONTACTS_ABANDONED / CONTACTS_QUEUED * 100 [MD "Abandonment rate": (Contacts abandoned /
  Contacts queued) * 100]. The divisor is contacts QUEUED, not contacts answered plus abandoned.
- SERVICE_LEVEL (X = the queue's serviceLevelSeconds): contacts removed from the queue within 0..X seconds of entering
  it (answered, or disconnected from the queue: an abandon or a callback request) / CONTACTS_QUEUED * 100 [HM
  "Service level X seconds"]. Contacts still waiting are in the divisor, not in the numerator.
- AVG_QUEUE_ANSWER_TIME: mean time in the queue before being answered by an agent [RT "Avg queue answer time"].
- AVG_HANDLE_TIME: mean time agents spent on a contact, hold and after-contact work included [HM "Average handle time"]:
  connected-to-agent to disconnect (talk and hold) + afterContactWorkDuration, over contacts COMPLETED (ACW ended).
A rate or average with nothing to divide by is None, as GetCurrentMetricData returns null for a division by zero.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from connect_state.domain import timestamps
from connect_state.models.board_settings import QueueThresholds, WallboardSettings, queue_id

AGENTS_CHANNEL = "/board/agents"
QUEUE_CHANNEL_PREFIX = "/board/queues/"
ALL_QUEUES_CHANNEL = "/board/queues/*"
# The agents of one hierarchy group (at any level); a supervisor scoped to the group subscribes to its channel.
AGENT_GROUP_CHANNEL_PREFIX = "/board/agentgroups/"
ALL_AGENT_GROUPS_CHANNEL = "/board/agentgroups/*"
EVERY_CHANNEL = "*"  # a snapshot of every channel (not an AppSync Events channel: snapshot requests only)
WAITING_SHOWN = 50
CHANGED_SHOWN = 100
AGENT_COUNTS = (
    "AGENTS_ONLINE",
    "AGENTS_STAFFED",
    "AGENTS_AVAILABLE",
    "AGENTS_NON_PRODUCTIVE",
    "AGENTS_ON_CONTACT",
    "AGENTS_AFTER_CONTACT_WORK",
    "AGENTS_ERROR",
)
# What a queue view reads of a contact (queue_view): from the byQueue index, the waiting ones; from byQueueEnqueued,
# the interval's. The index items hold no phone number, and asking for no more keeps the answers small.
WAITING_ATTRIBUTES = ("contactId", "queueArn", "queuedSince", "channel")
ENQUEUED_ATTRIBUTES = (
    "contactId",
    "queueArn",
    "enqueuedAt",
    "channel",
    "initiationMethod",
    "status",
    "abandoned",
    "connectedToAgentTimestamp",
    "disconnectTimestamp",
    "afterContactWorkDuration",
)
# What the contact table's byQueueEnqueued index holds besides its keys (stacks/constructs/state_tables.py): what the
# interval figures read, and the two times a reader of the index may want without going back to the table. The index
# holds these, not whole items, so a Query per queue reads a fraction of the bytes.
QUEUE_ENQUEUED_INDEX_ATTRIBUTES = (
    *(name for name in ENQUEUED_ATTRIBUTES if name not in ("contactId", "queueArn", "enqueuedAt")),
    "enqueueTimestamp",
    "agentInitiatedHoldDuration",
)
# A contact change that leaves all of these as they were (DescribeContact's enrichment, the abandoned claim) moves no
# queue figure.
QUEUE_FIGURE_ATTRIBUTES = tuple(sorted(set(WAITING_ATTRIBUTES) | set(ENQUEUED_ATTRIBUTES)))
ON_CONTACT_STATES = frozenset({"CONNECTED", "CONNECTED_ONHOLD", "PAUSED", "ENDED"})
AFTER_CONTACT_WORK_STATE = "ENDED"
ERROR_STATE = "ERROR"
ERROR_STATUS = "Error"
# The copied order keys of the agent item: every agent state change raises one and lowers none (domain.agent_state).
ROW_VERSIONS = ("orderKey", "loginOrderKey", "afterContactWorkOrderKey")
_CHANNEL_SEGMENT = re.compile(r"[^A-Za-z0-9-]")  # AppSync Events channel segments: [A-Za-z0-9-], up to 50 characters


# --- agents -------------------------------------------------------------------------------------------------------
def agent_row(item: Mapping[str, Any]) -> dict[str, Any]:
    """The compact row the agent list shows, from an agent state item. Absent fields are left out."""
    first, last = item.get("firstName"), item.get("lastName")
    name = " ".join(part for part in (first, last) if part) or item.get("username")
    row = {
        "agentArn": item["agentArn"],
        "agentId": item.get("agentId"),
        "name": name,
        "statusName": item.get("statusName"),
        "statusType": item.get("statusType"),
        "statusStartTimestamp": item.get("statusStartTimestamp"),
        "activity": item.get("activity"),
        "loggedIn": item.get("loggedIn"),
        "contacts": [_row_contact(contact) for contact in item.get("contacts", [])],
        "queueArns": item.get("routingProfileQueueArns"),
        "routingProfileName": item.get("routingProfileName"),
        "hierarchyGroupIds": sorted({hierarchy_group_id(arn) for arn in item.get("hierarchyGroupArns") or ()}) or None,
    }
    return {key: value for key, value in row.items() if value is not None}


def hierarchy_group_id(group_arn: str) -> str:
    """The id of a hierarchy group: the last segment of its ARN (`.../agent-group/<id>`)."""
    return group_arn.rsplit("/", 1)[-1]


def agent_group_channels(row: Mapping[str, Any] | None) -> set[str]:
    """The agent-group channels the row belongs on: one per hierarchy group of the agent (any level)."""
    return {agent_group_channel(group_id) for group_id in (row.get("hierarchyGroupIds") or ())} if row else set()


def _row_contact(contact: Mapping[str, Any]) -> dict[str, Any]:
    # initiationMethod: an OUTBOUND contact ringing (CONNECTING) is "outbound ring", which counts as on contact.
    names = ("contactId", "channel", "state", "stateStartTimestamp", "queueArn", "initiationMethod")
    return {name: contact[name] for name in names if contact.get(name) is not None}


def row_versions(item: Mapping[str, Any]) -> dict[str, str | None]:
    return {name: item.get(name) for name in ROW_VERSIONS}


def is_online(row: Mapping[str, Any]) -> bool:
    return bool(row.get("loggedIn")) and row.get("statusType") not in (None, "OFFLINE")


def is_non_productive(row: Mapping[str, Any]) -> bool:
    return is_online(row) and row.get("statusType") == "CUSTOM" and row.get("statusName") != ERROR_STATUS


def is_staffed(row: Mapping[str, Any]) -> bool:
    return is_online(row) and not is_non_productive(row)


def is_available(row: Mapping[str, Any]) -> bool:
    return is_online(row) and row.get("statusType") == "ROUTABLE" and not row.get("contacts")


def is_on_contact(row: Mapping[str, Any]) -> bool:
    return bool(row.get("loggedIn")) and any(
        contact.get("state") in ON_CONTACT_STATES
        or (contact.get("state") == "CONNECTING" and contact.get("initiationMethod") == "OUTBOUND")
        for contact in row.get("contacts", [])
    )


def contacts_in_after_contact_work(row: Mapping[str, Any]) -> int:
    if not row.get("loggedIn"):
        return 0
    return sum(1 for contact in row.get("contacts", []) if contact.get("state") == AFTER_CONTACT_WORK_STATE)


def is_in_error(row: Mapping[str, Any]) -> bool:
    if not row.get("loggedIn"):
        return False
    in_error = any(contact.get("state") == ERROR_STATE for contact in row.get("contacts", []))
    return in_error or row.get("statusName") == ERROR_STATUS


def agent_counts(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Connect's agent counts (module docstring). An agent may be in several (NPT and on contact, say)."""
    counts = dict.fromkeys(AGENT_COUNTS, 0)
    for row in rows:
        counts["AGENTS_ONLINE"] += is_online(row)
        counts["AGENTS_STAFFED"] += is_staffed(row)
        counts["AGENTS_AVAILABLE"] += is_available(row)
        counts["AGENTS_NON_PRODUCTIVE"] += is_non_productive(row)
        counts["AGENTS_ON_CONTACT"] += is_on_contact(row)
        counts["AGENTS_AFTER_CONTACT_WORK"] += contacts_in_after_contact_work(row)
        counts["AGENTS_ERROR"] += is_in_error(row)
    return counts


def queue_agent_counts(rows: Iterable[Mapping[str, Any]], queue_arn: str) -> dict[str, int]:
    """AGENTS_STAFFED and AGENTS_AVAILABLE of the agents whose routing profile serves the queue."""
    serving = [row for row in rows if queue_arn in (row.get("queueArns") or ())]
    return {
        "AGENTS_STAFFED": sum(is_staffed(row) for row in serving),
        "AGENTS_AVAILABLE": sum(is_available(row) for row in serving),
    }


def queues_served(row: Mapping[str, Any] | None) -> set[str]:
    return set(row.get("queueArns") or ()) if row else set()


def queue_figures_changed(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> bool:
    """Can a contact item going from `old` to `new` (None: no item; plain or DynamoDB-typed, alike on both sides) move
    a queue figure? Not when every attribute a queue view reads is as it was."""
    return old is None or new is None or any(old.get(name) != new.get(name) for name in QUEUE_FIGURE_ATTRIBUTES)


def queues_whose_agent_figures_change(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> set[str]:
    """The queues whose AGENTS_STAFFED or AGENTS_AVAILABLE an agent's row going from `old` to `new` (None: no row)
    can move: the agent's (staffed, available) in each queue it serves, before and after. Nothing else in a queue's
    view depends on the agents, so any other change of the row (a contact ringing, connected, in ACW) leaves it."""

    def counted(row: Mapping[str, Any] | None) -> dict[str, tuple[bool, bool]]:
        if row is None:
            return {}
        return dict.fromkeys(queues_served(row), (is_staffed(row), is_available(row)))

    before, after = counted(old), counted(new)
    nowhere = (False, False)
    return {queue for queue in before.keys() | after.keys() if before.get(queue, nowhere) != after.get(queue, nowhere)}


# --- queues -------------------------------------------------------------------------------------------------------
def interval_start(now: str, settings: WallboardSettings) -> str:
    """`trailingMinutes` before now, or else local midnight of today in the configured zone (Connect's real-time
    reports default to today)."""
    moment = timestamps.parse(now)
    if settings.trailing_minutes is not None:
        return timestamps.format_timestamp(moment - timedelta(minutes=settings.trailing_minutes))
    local = moment.astimezone(ZoneInfo(settings.time_zone))
    midnight = datetime(local.year, local.month, local.day, tzinfo=local.tzinfo)
    return timestamps.format_timestamp(midnight)


def interval(now: str, settings: WallboardSettings) -> dict[str, str]:
    start = interval_start(now, settings)
    if settings.trailing_minutes is not None:
        return {"start": start, "kind": "trailing", "label": f"last {settings.trailing_minutes} min"}
    return {"start": start, "kind": "today", "label": f"today ({settings.time_zone})"}


def _seconds(start: str, end: str) -> float:
    return float(timestamps.seconds_between(start, end))


def _whole_seconds(start: str, end: str) -> int:
    return max(0, math.floor(_seconds(start, end)))


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def is_abandoned(contact: Mapping[str, Any]) -> bool:
    """Connect's abandoned: the state's `abandoned`, except that a contact queued for callback never is."""
    return bool(contact.get("abandoned")) and contact.get("initiationMethod") != "CALLBACK"


def _left_queue_within(contact: Mapping[str, Any], seconds: int) -> bool:
    """Removed from the queue within `seconds` of entering it: answered, or disconnected from the queue."""
    entered = contact["enqueuedAt"]
    left = contact.get("connectedToAgentTimestamp") or contact.get("disconnectTimestamp")
    return left is not None and _seconds(entered, left) <= seconds


def _handle_seconds(contact: Mapping[str, Any]) -> float | None:
    connected, disconnected = contact.get("connectedToAgentTimestamp"), contact.get("disconnectTimestamp")
    if contact.get("status") != "COMPLETED" or connected is None or disconnected is None:
        return None
    return max(0.0, _seconds(connected, disconnected)) + float(contact.get("afterContactWorkDuration") or 0)


def levels(view: Mapping[str, Any], thresholds: QueueThresholds) -> dict[str, str]:
    """ok / warn / alert per coloured tile; a figure with no value (nothing queued yet) is ok."""

    def above(value: float | None, warn: float, alert: float) -> str:
        if value is None or value < warn:
            return "ok"
        return "alert" if value >= alert else "warn"

    service_level = view["SERVICE_LEVEL"]
    if service_level is None or service_level >= thresholds.service_level_warn_percent:
        service = "ok"
    else:
        service = "alert" if service_level < thresholds.service_level_alert_percent else "warn"
    return {
        "SERVICE_LEVEL": service,
        "OLDEST_CONTACT_AGE": above(
            view["OLDEST_CONTACT_AGE"], thresholds.wait_warn_seconds, thresholds.wait_alert_seconds
        ),
        "ABANDONMENT_RATE": above(
            view["ABANDONMENT_RATE"], thresholds.abandon_warn_percent, thresholds.abandon_alert_percent
        ),
    }


def queue_view(
    queue_arn: str,
    *,
    waiting: Sequence[Mapping[str, Any]],
    enqueued: Sequence[Mapping[str, Any]],
    rows: Iterable[Mapping[str, Any]],
    settings: WallboardSettings,
    now: str,
) -> dict[str, Any]:
    """One queue's tiles. `waiting`: the queue's contacts in the byQueue index (waiting now); `enqueued`: its contacts
    with `enqueuedAt` at or after the interval start (byQueueEnqueued); `rows`: every agent row. Never a phone number:
    only ids, channels and times are read."""
    thresholds = settings.thresholds_for(queue_arn)
    window = interval(now, settings)
    in_interval = [c for c in enqueued if c.get("queueArn") == queue_arn and c.get("enqueuedAt", "") >= window["start"]]
    still_waiting = sorted(
        (c for c in waiting if c.get("queueArn") == queue_arn and c.get("queuedSince")),
        key=lambda c: (c["queuedSince"], c["contactId"]),
    )
    answered = [c for c in in_interval if c.get("connectedToAgentTimestamp")]
    abandoned = [c for c in in_interval if is_abandoned(c)]
    handle_times = [seconds for c in in_interval if (seconds := _handle_seconds(c)) is not None]
    queued = len(in_interval)
    view: dict[str, Any] = {
        "queueArn": queue_arn,
        "queueId": queue_id(queue_arn),
        "name": settings.name_for(queue_arn),
        "CONTACTS_IN_QUEUE": len(still_waiting),
        "OLDEST_CONTACT_AGE": _whole_seconds(still_waiting[0]["queuedSince"], now) if still_waiting else None,
        **queue_agent_counts(rows, queue_arn),
        "SERVICE_LEVEL": _percent(
            sum(_left_queue_within(c, thresholds.service_level_seconds) for c in in_interval), queued
        ),
        "ABANDONMENT_RATE": _percent(len(abandoned), queued),
        "AVG_HANDLE_TIME": _mean(handle_times),
        "AVG_QUEUE_ANSWER_TIME": _mean(
            [max(0.0, _seconds(c["enqueuedAt"], c["connectedToAgentTimestamp"])) for c in answered]
        ),
        "CONTACTS_QUEUED": queued,
        "CONTACTS_HANDLED": len(answered),
        "CONTACTS_ABANDONED": len(abandoned),
        "serviceLevelSeconds": thresholds.service_level_seconds,
        "interval": window,
        "waiting": [
            {
                "contactId": c["contactId"],
                "channel": c.get("channel"),
                "queuedSince": c["queuedSince"],
                "waitSeconds": _whole_seconds(c["queuedSince"], now),
            }
            for c in still_waiting[:WAITING_SHOWN]
        ],
        "waitingTotal": len(still_waiting),
    }
    view["levels"] = levels(view, thresholds)
    return view


# --- channels and messages ----------------------------------------------------------------------------------------
def queue_channel(queue_arn: str) -> str:
    """`/board/queues/<queue id>`; a character AppSync Events does not allow in a segment becomes `-`."""
    return QUEUE_CHANNEL_PREFIX + _CHANNEL_SEGMENT.sub("-", queue_id(queue_arn))[:50]


def agent_group_channel(group_id: str) -> str:
    """`/board/agentgroups/<hierarchy group id>`, made a valid segment as a queue id is."""
    return AGENT_GROUP_CHANNEL_PREFIX + _CHANNEL_SEGMENT.sub("-", group_id)[:50]


def queue_message(seq: int, as_of: str, view: Mapping[str, Any], changed: Iterable[str]) -> dict[str, Any]:
    return {
        "channel": queue_channel(view["queueArn"]),
        "seq": seq,
        "kind": "view",
        "asOf": as_of,
        "queue": dict(view),
        "changed": sorted(set(changed))[:CHANGED_SHOWN],
    }


def agents_delta(
    seq: int,
    as_of: str,
    upserts: Iterable[Mapping[str, Any]],
    removes: Iterable[str],
    counts: Mapping[str, int],
    changed: Iterable[str],
    channel: str = AGENTS_CHANNEL,
) -> dict[str, Any]:
    """A delta of an agents channel: every agent (`/board/agents`) or one group's (`/board/agentgroups/<id>`)."""
    return {
        "channel": channel,
        "seq": seq,
        "kind": "delta",
        "asOf": as_of,
        "upserts": sorted((shown_row(row) for row in upserts), key=lambda row: row["agentArn"]),
        "removes": sorted(removes),
        "counts": dict(counts),
        "changed": sorted(set(changed))[:CHANGED_SHOWN],
    }


def agents_snapshot(
    seq: int, as_of: str, rows: Iterable[Mapping[str, Any]], channel: str = AGENTS_CHANNEL
) -> dict[str, Any]:
    ordered = sorted((shown_row(row) for row in rows), key=lambda row: row["agentArn"])
    return {
        "channel": channel,
        "seq": seq,
        "kind": "snapshot",
        "asOf": as_of,
        "agents": ordered,
        "counts": agent_counts(ordered),
    }


def shown_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """An agent row as a board receives it: the queues by id, not by ARN. The read model keeps the ARNs (a queue's
    staffed and available counts match on them); on the wire they were most of an agents delta, the message that
    costs the most at scale (README "Wallboard at scale")."""
    shown = {name: value for name, value in row.items() if name != "queueArns"}
    if row.get("queueArns"):
        shown["queueIds"] = [queue_id(arn) for arn in row["queueArns"]]
    return shown


def queue_snapshot(seq: int, as_of: str, view: Mapping[str, Any]) -> dict[str, Any]:
    return {"channel": queue_channel(view["queueArn"]), "seq": seq, "kind": "view", "asOf": as_of, "queue": dict(view)}
