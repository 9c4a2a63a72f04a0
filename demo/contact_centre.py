"""A simulated Amazon Connect contact centre: agents, queues and contacts, and the events Connect would emit for them.

A discrete-event simulation, deterministic for a seed (one `random.Random`, no wall clock, no set iteration). What it
models, and how each part maps to the payloads of ../shared/connect-events (SCHEMA-NOTES.md):

- Agents log in (LOGIN, status Offline), go Available, take a Break or Lunch (CUSTOM), some log out (Offline, then
  LOGOUT). A status asked for while the agent has contacts is queued as `NextAgentStatus` and applied when the last
  contact is cleared, as the CCP does. HEART_BEAT is sent when an agent has had no other event for 120 s, while logged
  in and for up to an hour after logging out (SCHEMA-NOTES §1.2).
- Contacts, each with every contact event Connect sends for it (each event repeats the cumulative fields, §2.3):
  - inbound voice: INITIATED, CONNECTED_TO_SYSTEM (= initiation), QUEUED after the IVR, then either abandoned
    (DISCONNECTED, COMPLETED right after) or offered to an agent (CONNECTING), answered (CONNECTED_TO_AGENT), maybe
    put on hold (CONNECTED_ONHOLD and back), DISCONNECTED (the agent's contact goes ENDED: after-contact work), and
    COMPLETED when the agent clears it (ACW start, end, whole-second duration and hold duration on `agentInfo`);
  - transfers: the agent transfers to another queue or to an available agent's queue; the first contact ends for its
    agent (DISCONNECTED, ACW, COMPLETED) and a new contact starts with initiationMethod TRANSFER and
    initialContactId/previousContactId (no CONNECTED_TO_SYSTEM, as in the real ce16);
  - chats (initiationMethod API), up to the routing profile's CHAT slots handled at once by one agent;
  - outbound calls placed by an idle Available agent (OUTBOUND, no queueInfo; the agent's snapshot shows the default
    outbound queue, as in ae05);
  - IVR-only calls (no queue, no agent).
- Routing is sane: a contact is offered only to an agent who is logged in, Available, has no queued next status,
  whose routing profile takes that queue and channel, and who has a free slot (a voice call only with no other
  contact; chats only without a voice contact, up to the CHAT slots; ACW keeps the slot). Longest-idle agent first.

An agent's snapshot and the contact events agree: same contactId, agent, queue, and the same instants
(`QueueTimestamp` = `enqueueTimestamp`, CONNECTED's `StateStartTimestamp` = `connectedToAgentTimestamp`, ENDED's
= `disconnectTimestamp` = `afterContactWorkStartTimestamp`, and the clearing event's `EventTimestamp` =
`afterContactWorkEndTimestamp`). One agent's events have strictly increasing `EventTimestamp`s.

Not modelled: missed or rejected offers, callbacks, tasks, emails, conference calls, supervisors' monitoring.
"""

from __future__ import annotations

import heapq
import random
import re
import uuid
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from demo.connect_payloads import (
    agent_configuration,
    agent_event,
    agent_snapshot,
    contact_event,
    epoch_ms,
    iso_ms,
)

DEFAULT_START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
DEFAULT_INSTANCE_ARN = "arn:aws:connect:eu-west-2:123456789012:instance/5d1c6a2e-8f3b-4c1e-9a7d-2b6f0e4c8a13"
INSTANCE_ARN_PATTERN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):connect:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"instance/(?P<instance_id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)

HEARTBEAT_MS = 120_000
HEARTBEAT_AFTER_LOGOUT_MS = 3_600_000
STAGES = ("INITIATED", "CONNECTED_TO_SYSTEM", "QUEUED", "CONNECTED_TO_AGENT", "DISCONNECTED", "COMPLETED")

# Contact kinds (how a contact started) for the summary and the tests.
INBOUND_VOICE = "inbound_voice"
CHAT = "chat"
OUTBOUND = "outbound"
IVR_ONLY = "ivr_only"
TRANSFER = "transfer"
KINDS = (INBOUND_VOICE, CHAT, OUTBOUND, IVR_ONLY, TRANSFER)

# The agent's contact states used here, and what a wallboard shows for them (README, agent state table).
ACTIVITY_BY_CONTACT_STATE: Mapping[str, str] = {
    "CONNECTED": "ON_CONTACT",
    "CONNECTED_ONHOLD": "ON_HOLD",
    "CONNECTING": "INCOMING",
    "ENDED": "AFTER_CONTACT_WORK",
}
ACTIVITY_RANK = ("ON_CONTACT", "ON_HOLD", "INCOMING", "AFTER_CONTACT_WORK", "MISSED", "ERROR")
ACTIVITY_BY_STATUS_TYPE: Mapping[str, str] = {"ROUTABLE": "AVAILABLE", "CUSTOM": "CUSTOM_STATUS", "OFFLINE": "OFFLINE"}
# The agent statuses of the simulated instance and their AgentStatus.Type.
STATUS_TYPES: Mapping[str, str] = {"Available": "ROUTABLE", "Break": "CUSTOM", "Lunch": "CUSTOM", "Offline": "OFFLINE"}

_FIRST_NAMES = (
    "Amara", "Bilal", "Chloe", "Dev", "Elena", "Farah", "Gareth", "Hana", "Idris", "Jun", "Kemi", "Lars", "Maya",
    "Niall", "Olu", "Priya", "Quinn", "Rosa", "Sami", "Tess", "Umar", "Vera", "Wes", "Xin", "Yara", "Zoltan",
)  # fmt: skip
_LAST_NAMES = (
    "Abbott", "Bramley", "Castell", "Dunmore", "Ellery", "Fenwick", "Garside", "Holloway", "Ingram", "Jessop",
    "Kettle", "Lindqvist", "Marlow", "Northcott", "Oduya", "Penhale", "Quarrie", "Rowntree", "Stanway", "Tremayne",
)  # fmt: skip
_US_AREA_CODES = ("202", "312", "415", "617")


# --- configuration and catalogue --------------------------------------------------------------------------------
@dataclass(frozen=True)
class SimulationConfig:
    agents: int = 50
    minutes: float = 60.0
    seed: int = 7
    start: datetime = DEFAULT_START
    instance_arn: str = DEFAULT_INSTANCE_ARN
    load: float = 1.0  # multiplies every arrival rate

    def __post_init__(self) -> None:
        if self.agents < 1:
            raise ValueError(f"agents must be at least 1, got {self.agents}")
        if self.minutes <= 0:
            raise ValueError(f"minutes must be positive, got {self.minutes}")
        if self.load < 0:
            raise ValueError(f"load must not be negative, got {self.load}")
        if not INSTANCE_ARN_PATTERN.match(self.instance_arn):
            raise ValueError(
                "instance ARN: expected arn:aws:connect:<region>:<12-digit account>:instance/<uuid>, "
                f"got {self.instance_arn!r}"
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "agents": self.agents,
            "minutes": self.minutes,
            "seed": self.seed,
            "start": iso_ms(epoch_ms(self.start)),
            "instanceArn": self.instance_arn,
            "load": self.load,
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> SimulationConfig:
        return cls(
            agents=int(document["agents"]),
            minutes=float(document["minutes"]),
            seed=int(document["seed"]),
            start=datetime.fromisoformat(str(document["start"]).replace("Z", "+00:00")),
            instance_arn=str(document["instanceArn"]),
            load=float(document.get("load", 1.0)),
        )


@dataclass(frozen=True)
class Queue:
    name: str | None  # None for an agent's own queue, as Connect sends it
    arn: str
    channels: tuple[str, ...]
    queue_type: str = "STANDARD"  # AGENT for an agent's own queue

    @property
    def id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Status:
    name: str
    type: str  # ROUTABLE / CUSTOM / OFFLINE
    arn: str


@dataclass(frozen=True)
class RoutingProfile:
    name: str
    arn: str
    inbound: tuple[tuple[Queue, tuple[str, ...]], ...]  # each queue with the channels this profile takes from it
    slots: Mapping[str, int]  # MaximumSlots per channel

    def takes(self, queue: Queue, channel: str) -> bool:
        return any(q.arn == queue.arn and channel in channels for q, channels in self.inbound)


@dataclass(frozen=True)
class Instance:
    arn: str
    partition: str
    region: str
    account: str
    instance_id: str
    statuses: Mapping[str, Status]
    queues: Mapping[str, Queue]
    outbound_queue: Queue
    profiles: tuple[RoutingProfile, ...]
    system_numbers: Mapping[str, str]  # queue name (or "Outbound") -> the fictional number customers call

    @classmethod
    def build(cls, instance_arn: str) -> Instance:
        match = INSTANCE_ARN_PATTERN.match(instance_arn)
        if match is None:
            raise ValueError(f"not an Amazon Connect instance ARN: {instance_arn!r}")

        def stable_id(kind: str, name: str) -> str:
            return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{instance_arn}/{kind}/{name}"))

        statuses = {
            name: Status(name, status_type, f"{instance_arn}/agent-state/{stable_id('agent-state', name)}")
            for name, status_type in STATUS_TYPES.items()
        }
        queue_channels = {
            "Sales": ("VOICE", "CHAT"),
            "Support": ("VOICE", "CHAT"),
            "Billing": ("VOICE",),
            "Outbound": ("VOICE",),
        }
        queues = {
            name: Queue(name, f"{instance_arn}/queue/{stable_id('queue', name)}", channels)
            for name, channels in queue_channels.items()
        }

        Inbound = tuple[tuple[str, tuple[str, ...]], ...]

        def profile(name: str, inbound: Inbound, slots: dict[str, int]) -> RoutingProfile:
            arn = f"{instance_arn}/routing-profile/{stable_id('routing-profile', name)}"
            return RoutingProfile(name, arn, tuple((queues[q], channels) for q, channels in inbound), slots)

        profiles = (
            profile("Voice Sales and Billing", (("Sales", ("VOICE",)), ("Billing", ("VOICE",))), {"VOICE": 1}),
            profile(
                "Omnichannel Support",
                (("Support", ("VOICE", "CHAT")), ("Sales", ("CHAT",))),
                {"VOICE": 1, "CHAT": 2},
            ),
            profile("Chat Support", (("Support", ("CHAT",)), ("Sales", ("CHAT",))), {"CHAT": 3}),
        )
        # +1 (area) 555-01xx is reserved for fiction.
        system_numbers = {
            name: f"+1{_US_AREA_CODES[i % len(_US_AREA_CODES)]}55501{10 + i:02d}" for i, name in enumerate(queues)
        }
        return cls(
            arn=instance_arn,
            partition=match["partition"],
            region=match["region"],
            account=match["account"],
            instance_id=match["instance_id"],
            statuses=statuses,
            queues=queues,
            outbound_queue=queues["Outbound"],
            profiles=profiles,
            system_numbers=system_numbers,
        )

    def agent_queue(self, agent_id: str) -> Queue:
        return Queue(None, f"{self.arn}/queue/agent/{agent_id}", ("VOICE", "CHAT"), "AGENT")

    def contact_arn(self, contact_id: str) -> str:
        return f"{self.arn}/contact/{contact_id}"


# --- the simulated world ------------------------------------------------------------------------------------------
@dataclass(eq=False)
class AgentContact:
    """A contact as the agent's snapshot shows it."""

    contact: Contact
    state: str  # CONNECTING / CONNECTED / CONNECTED_ONHOLD / ENDED
    state_start_ms: int


@dataclass(frozen=True)
class AfterContactWork:
    contact_id: str
    start_ms: int
    end_ms: int


@dataclass(eq=False)
class Agent:
    index: int
    agent_id: str
    arn: str
    first_name: str
    last_name: str
    username: str
    profile: RoutingProfile
    own_queue: Queue
    logged_in: bool = False
    status: str = "Offline"
    status_start_ms: int = 0
    next_status: str | None = None
    next_status_ms: int = 0
    next_status_duration_ms: int = 0
    logout_pending: bool = False
    contacts: dict[str, AgentContact] = field(default_factory=dict)
    last_event_ms: int = -1
    events_emitted: int = 0
    previous_snapshot: dict[str, Any] | None = None
    idle_since_ms: int = 0
    last_acw: AfterContactWork | None = None
    logged_out_ms: int | None = None
    contacts_handled: int = 0
    static_configuration: dict[str, Any] = field(default_factory=dict)

    @property
    def voice_contacts(self) -> int:
        return sum(1 for c in self.contacts.values() if c.contact.channel == "VOICE")

    @property
    def chat_contacts(self) -> int:
        return sum(1 for c in self.contacts.values() if c.contact.channel == "CHAT")

    def routable(self) -> bool:
        return self.logged_in and self.status == "Available" and self.next_status is None

    def has_slot(self, channel: str) -> bool:
        slots = self.profile.slots.get(channel, 0)
        if channel == "VOICE":
            return slots > 0 and not self.contacts
        return self.voice_contacts == 0 and self.chat_contacts < slots


@dataclass(eq=False)
class Contact:
    """One contact and everything known about it: the source of its events, its DescribeContact answer and its
    expected state."""

    contact_id: str
    kind: str
    channel: str
    initiation_method: str
    initiation_ms: int
    customer_number: str | None = None
    system_number: str | None = None
    initial_contact_id: str | None = None
    previous_contact_id: str | None = None
    connected_to_system_ms: int | None = None
    queue: Queue | None = None
    enqueue_ms: int | None = None
    agent: Agent | None = None  # assigned when offered (inbound) or dialling (outbound)
    connected_to_agent_ms: int | None = None
    disconnect_ms: int | None = None
    acw_start_ms: int | None = None
    acw_end_ms: int | None = None
    hold_total_ms: int = 0
    holds: int = 0
    disconnect_reason: str | None = None
    stages: list[str] = field(default_factory=list)  # event types emitted, in order
    last_update_ms: int = 0
    phase: str = "NEW"  # NEW / IVR / QUEUED / OFFERED / CONNECTED / ON_HOLD / ACW / DONE
    transferred_to: str | None = None
    # the plan drawn when the contact starts
    talk_ms: int = 0
    hold_plan: tuple[int, int] | None = None  # (after how long connected, how long)
    transfer_plan: str | None = None  # None / "queue" / "agent"
    acw_ms: int = 0

    @property
    def completed(self) -> bool:
        return "COMPLETED" in self.stages

    @property
    def abandoned(self) -> bool:
        """The contract's definition: queued, disconnected, never connected to an agent."""
        return self.enqueue_ms is not None and self.disconnect_ms is not None and self.connected_to_agent_ms is None

    @property
    def furthest_stage(self) -> str | None:
        return max(self.stages, key=STAGES.index, default=None)

    @property
    def acw_duration_seconds(self) -> int | None:
        """Whole seconds, End - Start rounded half up (DescribeContact and COMPLETED carry whole seconds)."""
        if self.acw_start_ms is None or self.acw_end_ms is None:
            return None
        return (self.acw_end_ms - self.acw_start_ms + 500) // 1000

    @property
    def hold_seconds(self) -> int:
        return (self.hold_total_ms + 500) // 1000

    @property
    def recorded(self) -> bool:
        """Voice contacts that reached an agent are recorded (one recording, from connection to disconnect)."""
        return self.channel == "VOICE" and self.connected_to_agent_ms is not None and self.disconnect_ms is not None


@dataclass(frozen=True)
class AgentRecord:
    """One agent event as Connect writes it to Kinesis (partition key: the agent ARN)."""

    agent_arn: str
    sequence_number: str
    emitted_ms: int
    event: dict[str, Any]


@dataclass(frozen=True)
class ContactEventRecord:
    """One contact event as EventBridge delivers it."""

    contact_id: str
    event_type: str
    emitted_ms: int
    event: dict[str, Any]


@dataclass
class Simulation:
    config: SimulationConfig
    instance: Instance
    start_ms: int
    end_ms: int
    agents: list[Agent]
    contacts: dict[str, Contact]
    agent_records: list[AgentRecord]  # in the order Connect wrote them (sequence numbers increase)
    contact_records: list[ContactEventRecord]  # in the order they happened

    def contacts_by_kind(self) -> dict[str, int]:
        counts = dict.fromkeys(KINDS, 0)
        for contact in self.contacts.values():
            counts[contact.kind] += 1
        return counts

    def agent(self, arn: str) -> Agent:
        for agent in self.agents:
            if agent.arn == arn:
                return agent
        raise KeyError(arn)


# --- the engine ---------------------------------------------------------------------------------------------------
_Action = Callable[..., None]
_KINESIS_SEQUENCE_BASE = 49_650_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000


def shard_of(partition_key: str, shards: int) -> int:
    """A stable stand-in for Kinesis' MD5 hash-key ranges: one agent always lands on one shard."""
    return zlib.crc32(partition_key.encode()) % shards


class _Engine:
    def __init__(self, config: SimulationConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.instance = Instance.build(config.instance_arn)
        self.start_ms = epoch_ms(config.start)
        self.end_ms = self.start_ms + round(config.minutes * 60_000)
        self.now = self.start_ms
        self._heap: list[tuple[int, int, _Action, tuple[Any, ...]]] = []
        self._serial = 0
        self.agents: list[Agent] = []
        self.contacts: dict[str, Contact] = {}
        self.waiting: list[Contact] = []  # queued contacts, in enqueue order
        self.agent_records: list[AgentRecord] = []
        self.contact_records: list[ContactEventRecord] = []
        self._sequence = 0

    # scheduling -------------------------------------------------------------------------------------------------
    def at(self, moment: int, action: _Action, *args: Any) -> None:
        self._serial += 1
        heapq.heappush(self._heap, (moment, self._serial, action, args))

    def run(self) -> Simulation:
        self._create_agents()
        agents = self.config.agents
        load = self.config.load
        # Arrivals per minute, scaled to the team (tuned for ~80% occupancy with some queueing at the start).
        for kind, per_agent_per_minute in (
            (INBOUND_VOICE, 0.15),
            (CHAT, 0.09),
            (IVR_ONLY, 0.03),
            (OUTBOUND, 0.012),
        ):
            rate = per_agent_per_minute * agents * load / 60_000  # per ms
            if rate > 0:
                self.at(self.start_ms + self._exponential(rate), self._arrival, kind, rate)
        while self._heap:
            moment, _, action, args = heapq.heappop(self._heap)
            if moment >= self.end_ms:
                break
            self.now = moment
            action(*args)
        return Simulation(
            config=self.config,
            instance=self.instance,
            start_ms=self.start_ms,
            end_ms=self.end_ms,
            agents=self.agents,
            contacts=self.contacts,
            agent_records=self.agent_records,
            contact_records=self.contact_records,
        )

    # random helpers ---------------------------------------------------------------------------------------------
    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _exponential(self, rate_per_ms: float) -> int:
        return max(1, round(self.rng.expovariate(rate_per_ms)))

    def _seconds(self, low: float, high: float) -> int:
        return round(self.rng.uniform(low, high) * 1000)

    def _customer_number(self) -> str:
        if self.rng.random() < 0.8:
            return f"+447700900{self.rng.randrange(1000):03d}"  # Ofcom's drama range
        return f"+1{self.rng.choice(_US_AREA_CODES)}55501{self.rng.randrange(100):02d}"

    # agents -----------------------------------------------------------------------------------------------------
    def _create_agents(self) -> None:
        duration = self.end_ms - self.start_ms
        profiles = self.instance.profiles
        for index in range(self.config.agents):
            agent_id = self._uuid()
            first = _FIRST_NAMES[index % len(_FIRST_NAMES)]
            last = _LAST_NAMES[(index * 7 + index // len(_FIRST_NAMES)) % len(_LAST_NAMES)]
            # Half voice, three tenths omnichannel, a fifth chat.
            share = (index * 10 // max(self.config.agents, 1)) % 10
            profile = profiles[0] if share < 5 else profiles[1] if share < 8 else profiles[2]
            agent = Agent(
                index=index,
                agent_id=agent_id,
                arn=f"{self.instance.arn}/agent/{agent_id}",
                first_name=first,
                last_name=last,
                username=f"{first.lower()}.{last.lower()}{index + 1:03d}",
                profile=profile,
                own_queue=self.instance.agent_queue(agent_id),
            )
            agent.static_configuration = agent_configuration(agent, self.instance)
            self.agents.append(agent)
            # The shift: most log in during the first minutes, some later; breaks, lunch, a few leave early.
            if self.rng.random() < 0.75:
                login = self._seconds(0, min(240, duration / 1000 * 0.3))
            else:
                login = round(self.rng.uniform(0.05, 0.4) * duration)
            self.at(self.start_ms + login, self._login, agent)
            if self.rng.random() < 0.6:
                moment = round(self.rng.uniform(0.15, 0.85) * duration)
                self.at(self.start_ms + moment, self._request_status, agent, "Break", self._seconds(300, 900))
            if self.rng.random() < 0.25 and duration >= 40 * 60_000:
                moment = round(self.rng.uniform(0.3, 0.7) * duration)
                self.at(self.start_ms + moment, self._request_status, agent, "Lunch", 30 * 60_000)
            if self.rng.random() < 0.12:
                moment = round(self.rng.uniform(0.5, 0.95) * duration)
                self.at(self.start_ms + max(moment, login + 60_000), self._request_logout, agent)

    def _agent_time(self, agent: Agent) -> int:
        """One agent's events have strictly increasing timestamps (so their order never rests on the sequence)."""
        return max(self.now, agent.last_event_ms + 1)

    def _emit_agent(self, agent: Agent, event_type: str, moment: int) -> None:
        snapshot = agent_snapshot(agent, self.instance)
        event = agent_event(
            account=self.instance.account,
            agent_arn=agent.arn,
            instance_arn=self.instance.arn,
            event_id=self._uuid(),
            event_type=event_type,
            timestamp=iso_ms(moment),
            current=snapshot,
            previous=agent.previous_snapshot,
        )
        agent.previous_snapshot = snapshot
        agent.last_event_ms = moment
        agent.events_emitted += 1
        self._sequence += 1
        self.agent_records.append(
            AgentRecord(
                agent_arn=agent.arn,
                sequence_number=str(_KINESIS_SEQUENCE_BASE + self._sequence * 1_000),
                emitted_ms=moment,
                event=event,
            )
        )
        self.at(moment + HEARTBEAT_MS, self._heartbeat, agent, agent.events_emitted)

    def _heartbeat(self, agent: Agent, emitted: int) -> None:
        if agent.events_emitted != emitted:
            return  # another event was sent since: the heartbeat is due 120 s after that one
        if not agent.logged_in and (
            agent.logged_out_ms is None or self.now - agent.logged_out_ms > HEARTBEAT_AFTER_LOGOUT_MS
        ):
            return
        self._emit_agent(agent, "HEART_BEAT", self._agent_time(agent))

    def _login(self, agent: Agent) -> None:
        moment = self._agent_time(agent)
        agent.logged_in = True
        agent.status, agent.status_start_ms = "Offline", moment
        self._emit_agent(agent, "LOGIN", moment)
        self.at(moment + self._seconds(5, 40), self._go_available, agent)

    def _go_available(self, agent: Agent) -> None:
        if not agent.logged_in or agent.status != "Offline" or agent.logout_pending:
            return
        moment = self._agent_time(agent)
        agent.status, agent.status_start_ms = "Available", moment
        agent.idle_since_ms = moment
        self._emit_agent(agent, "STATE_CHANGE", moment)
        self._route()

    def _request_status(self, agent: Agent, name: str, duration_ms: int) -> None:
        if not agent.routable():
            return  # not logged in yet, already away, or leaving: skip this break
        moment = self._agent_time(agent)
        if agent.contacts:
            # The CCP queues the status until the agent's contacts are cleared; routing stops meanwhile.
            agent.next_status, agent.next_status_ms, agent.next_status_duration_ms = name, moment, duration_ms
            self._emit_agent(agent, "STATE_CHANGE", moment)
            return
        self._set_status(agent, name, moment, duration_ms)

    def _set_status(self, agent: Agent, name: str, moment: int, duration_ms: int) -> None:
        agent.status, agent.status_start_ms = name, moment
        agent.next_status = None
        self._emit_agent(agent, "STATE_CHANGE", moment)
        if name in ("Break", "Lunch"):
            self.at(moment + duration_ms, self._back_from, agent, name)
        elif name == "Offline" and agent.logout_pending:
            self.at(moment + self._seconds(1, 4), self._logout, agent)

    def _back_from(self, agent: Agent, name: str) -> None:
        if not agent.logged_in or agent.status != name or agent.logout_pending:
            return
        moment = self._agent_time(agent)
        agent.status, agent.status_start_ms = "Available", moment
        agent.idle_since_ms = moment
        self._emit_agent(agent, "STATE_CHANGE", moment)
        self._route()

    def _request_logout(self, agent: Agent) -> None:
        if not agent.logged_in or agent.logout_pending:
            return
        agent.logout_pending = True
        moment = self._agent_time(agent)
        if agent.contacts:
            agent.next_status, agent.next_status_ms, agent.next_status_duration_ms = "Offline", moment, 0
            self._emit_agent(agent, "STATE_CHANGE", moment)
            return
        if agent.status == "Offline":
            self.at(moment + self._seconds(1, 4), self._logout, agent)
            return
        self._set_status(agent, "Offline", moment, 0)

    def _logout(self, agent: Agent) -> None:
        if not agent.logged_in:
            return
        moment = self._agent_time(agent)
        agent.logged_in = False
        agent.logged_out_ms = moment
        self._emit_agent(agent, "LOGOUT", moment)

    # contact events ----------------------------------------------------------------------------------------------
    def _emit_contact(self, contact: Contact, event_type: str, moment: int) -> None:
        event = contact_event(contact, self.instance, event_type, moment, self._uuid())
        contact.stages.append(event_type)
        contact.last_update_ms = moment
        self.contact_records.append(ContactEventRecord(contact.contact_id, event_type, moment, event))

    def _new_contact(self, kind: str, channel: str, method: str, moment: int) -> Contact:
        contact = Contact(
            contact_id=self._uuid(),
            kind=kind,
            channel=channel,
            initiation_method=method,
            initiation_ms=moment,
        )
        self.contacts[contact.contact_id] = contact
        return contact

    def _plan(self, contact: Contact) -> None:
        """Draw how the conversation will go once an agent has it."""
        if contact.channel == "VOICE":
            contact.talk_ms = round(min(max(self.rng.lognormvariate(4.9, 0.55), 20.0), 1200.0) * 1000)
            if self.rng.random() < 0.25:
                contact.hold_plan = (
                    round(contact.talk_ms * self.rng.uniform(0.2, 0.6)),
                    self._seconds(8, 90),
                )
            contact.acw_ms = self._seconds(4, 60)
            transfer_chance = 0.08 if contact.kind in (INBOUND_VOICE, TRANSFER) else 0.0
        else:
            contact.talk_ms = self._seconds(90, 540)
            contact.acw_ms = self._seconds(3, 30)
            transfer_chance = 0.04
        if contact.kind != TRANSFER and self.rng.random() < transfer_chance:
            contact.transfer_plan = "agent" if self.rng.random() < 0.4 else "queue"

    def _arrival(self, kind: str, rate: float) -> None:
        self.at(self.now + self._exponential(rate), self._arrival, kind, rate)
        moment = self.now
        if kind == OUTBOUND:
            self._outbound(moment)
            return
        channel, method = ("CHAT", "API") if kind == CHAT else ("VOICE", "INBOUND")
        contact = self._new_contact(kind, channel, method, moment)
        self._emit_contact(contact, "INITIATED", moment)
        if kind == CHAT:
            queue = self.instance.queues[self.rng.choice(("Sales", "Support", "Support"))]
            self._plan(contact)
            contact.phase = "IVR"
            self.at(moment + self._seconds(1, 3), self._chat_connected_to_system, contact, queue)
            return
        queue_name = self.rng.choice(("Sales", "Sales", "Support", "Support", "Billing"))
        contact.customer_number = self._customer_number()
        contact.system_number = self.instance.system_numbers[queue_name]
        contact.connected_to_system_ms = moment  # for INBOUND it equals initiationTimestamp (SCHEMA-NOTES §2.2)
        self._emit_contact(contact, "CONNECTED_TO_SYSTEM", moment)
        contact.phase = "IVR"
        if kind == IVR_ONLY:
            self.at(moment + self._seconds(20, 150), self._ivr_end, contact)
            return
        self._plan(contact)
        self.at(moment + self._seconds(5, 35), self._enqueue, contact, self.instance.queues[queue_name])

    def _chat_connected_to_system(self, contact: Contact, queue: Queue) -> None:
        contact.connected_to_system_ms = self.now
        self._emit_contact(contact, "CONNECTED_TO_SYSTEM", self.now)
        self.at(self.now + self._seconds(1, 4), self._enqueue, contact, queue)

    def _ivr_end(self, contact: Contact) -> None:
        contact.disconnect_ms = self.now
        contact.disconnect_reason = "CONTACT_FLOW_DISCONNECT" if self.rng.random() < 0.7 else "CUSTOMER_DISCONNECT"
        contact.phase = "DONE"
        self._emit_contact(contact, "DISCONNECTED", self.now)
        # "published immediately after the DISCONNECT event with the same data" (no agent, no ACW)
        self._emit_contact(contact, "COMPLETED", self.now)

    def _enqueue(self, contact: Contact, queue: Queue) -> None:
        contact.queue = queue
        contact.enqueue_ms = self.now
        contact.phase = "QUEUED"
        self._emit_contact(contact, "QUEUED", self.now)
        self.waiting.append(contact)
        patience = self.rng.expovariate(1 / (110_000 if contact.channel == "VOICE" else 200_000))
        self.at(self.now + max(8_000, round(patience)), self._abandon, contact)
        self._route()

    def _abandon(self, contact: Contact) -> None:
        if contact.phase != "QUEUED":
            return
        self.waiting.remove(contact)
        contact.disconnect_ms = self.now
        contact.disconnect_reason = "CUSTOMER_DISCONNECT"
        contact.phase = "DONE"
        self._emit_contact(contact, "DISCONNECTED", self.now)
        self._emit_contact(contact, "COMPLETED", self.now)

    def _route(self) -> None:
        """Offer waiting contacts, oldest first, each to the longest-idle agent who may take it."""
        if not self.waiting:
            return
        free = [a for a in self.agents if a.routable() and (a.has_slot("VOICE") or a.has_slot("CHAT"))]
        if not free:
            return
        for contact in list(self.waiting):
            queue = contact.queue
            assert queue is not None
            candidates = [a for a in free if a.has_slot(contact.channel) and self._takes(a, queue, contact.channel)]
            if not candidates:
                continue
            agent = min(candidates, key=lambda a: (a.idle_since_ms, a.index))
            self.waiting.remove(contact)
            self._offer(contact, agent)
            free = [a for a in free if a.routable() and (a.has_slot("VOICE") or a.has_slot("CHAT"))]
            if not free:
                return

    @staticmethod
    def _takes(agent: Agent, queue: Queue, channel: str) -> bool:
        """An agent's own queue goes to that agent only; a standard queue to the profiles that take it."""
        if queue.queue_type == "AGENT":
            return agent.own_queue.arn == queue.arn
        return agent.profile.takes(queue, channel)

    def _offer(self, contact: Contact, agent: Agent) -> None:
        moment = self._agent_time(agent)
        contact.agent = agent
        contact.phase = "OFFERED"
        agent.contacts[contact.contact_id] = AgentContact(contact, "CONNECTING", moment)
        self._emit_agent(agent, "STATE_CHANGE", moment)
        ring = self._seconds(2, 9) if contact.channel == "VOICE" else self._seconds(1, 4)
        self.at(moment + ring, self._connect, contact)

    def _connect(self, contact: Contact) -> None:
        agent = contact.agent
        assert agent is not None
        moment = self._agent_time(agent)
        contact.connected_to_agent_ms = moment
        contact.phase = "CONNECTED"
        agent.contacts[contact.contact_id] = AgentContact(contact, "CONNECTED", moment)
        self._emit_agent(agent, "STATE_CHANGE", moment)
        if contact.initiation_method == "OUTBOUND":
            contact.connected_to_system_ms = moment
            self._emit_contact(contact, "CONNECTED_TO_SYSTEM", moment)
        self._emit_contact(contact, "CONNECTED_TO_AGENT", moment)
        if contact.hold_plan is not None:
            after, _ = contact.hold_plan
            self.at(moment + after, self._hold, contact)
        else:
            self.at(moment + contact.talk_ms, self._end_conversation, contact)

    def _hold(self, contact: Contact) -> None:
        agent = contact.agent
        assert agent is not None
        assert contact.hold_plan is not None
        moment = self._agent_time(agent)
        contact.phase = "ON_HOLD"
        contact.holds += 1
        agent.contacts[contact.contact_id] = AgentContact(contact, "CONNECTED_ONHOLD", moment)
        self._emit_agent(agent, "STATE_CHANGE", moment)
        self.at(moment + contact.hold_plan[1], self._resume, contact, moment)

    def _resume(self, contact: Contact, held_since: int) -> None:
        agent = contact.agent
        assert agent is not None
        assert contact.hold_plan is not None
        moment = self._agent_time(agent)
        contact.hold_total_ms += moment - held_since
        contact.phase = "CONNECTED"
        agent.contacts[contact.contact_id] = AgentContact(contact, "CONNECTED", moment)
        self._emit_agent(agent, "STATE_CHANGE", moment)
        rest = max(5_000, contact.talk_ms - contact.hold_plan[0])
        self.at(moment + rest, self._end_conversation, contact)

    def _end_conversation(self, contact: Contact) -> None:
        agent = contact.agent
        assert agent is not None
        moment = self._agent_time(agent)
        if contact.transfer_plan is not None:
            contact.disconnect_reason = "AGENT_DISCONNECT"  # the agent left the call to the transfer
        else:
            contact.disconnect_reason = "CUSTOMER_DISCONNECT" if self.rng.random() < 0.7 else "AGENT_DISCONNECT"
        contact.disconnect_ms = moment
        contact.acw_start_ms = moment
        contact.phase = "ACW"
        agent.contacts[contact.contact_id] = AgentContact(contact, "ENDED", moment)
        self._emit_agent(agent, "STATE_CHANGE", moment)
        self._emit_contact(contact, "DISCONNECTED", moment)
        if contact.transfer_plan is not None:
            self._transfer(contact, agent, moment)
        self.at(moment + contact.acw_ms, self._clear, contact)

    def _transfer(self, contact: Contact, agent: Agent, moment: int) -> None:
        target: Queue | None = None
        if contact.transfer_plan == "agent":
            others = [a for a in self.agents if a is not agent and a.routable() and a.has_slot(contact.channel)]
            if others:
                target = self.rng.choice(others).own_queue
        if target is None:
            options = [
                q
                for q in self.instance.queues.values()
                if q is not self.instance.outbound_queue
                and contact.channel in q.channels
                and (contact.queue is None or q.arn != contact.queue.arn)
            ]
            target = self.rng.choice(options)
        second = self._new_contact(TRANSFER, contact.channel, "TRANSFER", moment)
        second.initial_contact_id = contact.initial_contact_id or contact.contact_id
        second.previous_contact_id = contact.contact_id
        second.customer_number = contact.customer_number
        second.system_number = contact.system_number
        contact.transferred_to = second.contact_id
        self._plan(second)
        second.phase = "IVR"
        self._emit_contact(second, "INITIATED", moment)
        self.at(moment + self._seconds(1, 5), self._enqueue, second, target)

    def _clear(self, contact: Contact) -> None:
        agent = contact.agent
        assert agent is not None
        moment = self._agent_time(agent)
        del agent.contacts[contact.contact_id]
        contact.acw_end_ms = moment
        contact.phase = "DONE"
        agent.last_acw = AfterContactWork(contact.contact_id, contact.acw_start_ms or moment, moment)
        agent.contacts_handled += 1
        self._emit_agent(agent, "STATE_CHANGE", moment)
        self._emit_contact(contact, "COMPLETED", moment)
        if agent.contacts:
            self._route()
            return
        agent.idle_since_ms = moment
        if agent.next_status is not None:
            self._set_status(agent, agent.next_status, self._agent_time(agent), agent.next_status_duration_ms)
        self._route()

    def _outbound(self, moment: int) -> None:
        idle = [a for a in self.agents if a.routable() and a.has_slot("VOICE")]
        if not idle:
            return
        agent = self.rng.choice(idle)
        moment = self._agent_time(agent)
        contact = self._new_contact(OUTBOUND, "VOICE", "OUTBOUND", moment)
        contact.customer_number = self._customer_number()
        contact.system_number = self.instance.system_numbers["Outbound"]
        contact.agent = agent
        contact.phase = "OFFERED"
        self._plan(contact)
        agent.contacts[contact.contact_id] = AgentContact(contact, "CONNECTING", moment)
        self._emit_agent(agent, "STATE_CHANGE", moment)
        self._emit_contact(contact, "INITIATED", moment)
        self.at(moment + self._seconds(4, 15), self._connect, contact)


def simulate(config: SimulationConfig) -> Simulation:
    """Run the contact centre for `config.minutes` from `config.start`; deterministic for `config.seed`."""
    return _Engine(config).run()


def agent_activity(agent: Agent) -> str:
    """What the contract says a wallboard shows for this agent now (README, agent state table)."""
    ranks = [ACTIVITY_RANK.index(ACTIVITY_BY_CONTACT_STATE[c.state]) for c in agent.contacts.values()]
    if ranks:
        return ACTIVITY_RANK[min(ranks)]
    if not agent.logged_in:
        return "OFFLINE"
    return ACTIVITY_BY_STATUS_TYPE[STATUS_TYPES[agent.status]]
