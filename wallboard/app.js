// The live wallboard: subscribes to the board's channels over the AWS AppSync Events WebSocket protocol (the local
// demo server speaks the same subset), seeds each channel from a snapshot and applies versioned pushes by the rules of
// notes/board-design.md: a queue view replaces an older one; agent deltas apply in sequence after a snapshot, and a
// gap that does not close within 2 s, or a reconnect, fetches the snapshot again.
//
// Every figure carries data-metric (and data-queue for a queue's figures) and data-value, the number exactly as the
// message had it at its asOf instant; the text is the display (durations tick locally at config.clockRate).

const AGENTS = "/board/agents";
const QUEUES = "/board/queues/*";
const GAP_TIMEOUT_MS = 2000;
const MAX_BUFFERED_DELTAS = 500;
const WAITING_ROWS = 5;
const TICK_MS = 500;
const QUEUE_METRICS = [
  "CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE", "SERVICE_LEVEL", "AGENTS_STAFFED", "AGENTS_AVAILABLE",
  "ABANDONMENT_RATE", "CONTACTS_QUEUED", "AVG_HANDLE_TIME", "AVG_QUEUE_ANSWER_TIME", "CONTACTS_HANDLED",
  "CONTACTS_ABANDONED",
];
const PERCENT = new Set(["SERVICE_LEVEL", "ABANDONMENT_RATE"]);
const DURATION = new Set(["OLDEST_CONTACT_AGE", "AVG_HANDLE_TIME", "AVG_QUEUE_ANSWER_TIME"]);
const LEVEL_RANK = { ok: 1, warn: 2, alert: 3 };
const ACTIVITY_LABEL = {
  AVAILABLE: "Available", INCOMING: "Incoming", ON_CONTACT: "On contact", ON_HOLD: "On hold",
  AFTER_CONTACT_WORK: "ACW", MISSED: "Missed", ERROR: "Error", CUSTOM_STATUS: "Custom status",
  OFFLINE: "Offline",
};
const CHANNEL_LABEL = { VOICE: "Voice", CHAT: "Chat", TASK: "Task", EMAIL: "Email" };
// How a contact's state reads beside its channel on the agent list (connected says nothing: it is the usual case).
const CONTACT_STATE_WORD = {
  CONNECTED: "", CONNECTED_ONHOLD: "hold", PAUSED: "paused", CONNECTING: "ringing", INCOMING: "ringing",
  PENDING: "ringing", ENDED: "ACW", MISSED: "missed", REJECTED: "rejected", ERROR: "error",
};
const CONNECTION_LABEL = {
  connecting: "Connecting", live: "Live", reconnecting: "Reconnecting", resyncing: "Resyncing", error: "Error",
};

// --- authorisation: one provider per config.auth.type (issue 16 adds Cognito here) ---------------------------------
const AUTH_PROVIDERS = {
  // No credentials: the local server. AppSync still wants the host of its HTTP endpoint in every header set.
  none: async () => ({}),
};

async function authHeaders(config) {
  const type = config.auth?.type ?? "none";
  const provider = AUTH_PROVIDERS[type];
  if (!provider) throw new Error(`auth type ${JSON.stringify(type)} is not supported by this client`);
  const host = config.eventHost ?? new URL(config.realtimeUrl, location.href).host;
  return { host, ...(await provider(config)) };
}

function base64Url(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

let idCounter = 0;
function newId() {
  idCounter += 1;
  return `${Date.now().toString(36)}-${idCounter}-${Math.random().toString(36).slice(2, 10)}`;
}

// --- the AppSync Events WebSocket protocol subset ---------------------------------------------------------------
class RealtimeConnection {
  constructor(config, channels, { onData, onSubscribed, onDown }) {
    Object.assign(this, { config, channels, onData, onSubscribed, onDown });
    this.attempt = 0;
    this.socket = null;
  }

  async connect() {
    let headers;
    try {
      headers = await authHeaders(this.config);
    } catch (error) {
      console.error(`wallboard: ${error.message}`);
      this.onDown("error");
      return;
    }
    const socket = new WebSocket(this.config.realtimeUrl, [
      "aws-appsync-event-ws", `header-${base64Url(JSON.stringify(headers))}`,
    ]);
    const session = { socket, headers, pending: new Map(), subscribed: new Map(), keepAlive: null, timeoutMs: 300000 };
    this.socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: "connection_init" }));
    socket.onmessage = (message) => this.receive(session, JSON.parse(message.data));
    socket.onclose = () => {
      clearTimeout(session.keepAlive);
      if (this.socket === socket) this.reconnectLater();
    };
  }

  receive(session, message) {
    switch (message.type) {
      case "connection_ack":
        session.timeoutMs = message.connectionTimeoutMs ?? session.timeoutMs;
        this.armKeepAlive(session);
        for (const channel of this.channels) {
          const id = newId();
          session.pending.set(id, channel);
          session.socket.send(JSON.stringify({ type: "subscribe", id, channel, authorization: session.headers }));
        }
        break;
      case "ka":
        this.armKeepAlive(session);
        break;
      case "subscribe_success":
        if (session.pending.has(message.id)) {
          session.subscribed.set(message.id, session.pending.get(message.id));
          session.pending.delete(message.id);
          if (session.pending.size === 0) {
            this.attempt = 0;
            this.onSubscribed();
          }
        }
        break;
      case "subscribe_error":
        console.error(`wallboard: subscribing to ${session.pending.get(message.id)} refused`, message.errors);
        this.onDown("error");
        break;
      case "data":
        if (session.subscribed.has(message.id)) {
          this.onData(typeof message.event === "string" ? JSON.parse(message.event) : message.event);
        }
        break;
      default:
        console.warn("wallboard: unexpected message from the realtime endpoint", message);
    }
  }

  armKeepAlive(session) {
    clearTimeout(session.keepAlive);
    // No "ka" within connectionTimeoutMs: the connection is dead even if the socket has not noticed yet.
    session.keepAlive = setTimeout(() => session.socket.close(4000, "keep-alive timeout"), session.timeoutMs);
  }

  reconnectLater() {
    this.socket = null;
    this.onDown("reconnecting");
    // Jittered exponential backoff, as the AppSync protocol guide asks of clients.
    const delay = Math.min(30000, 500 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
    this.attempt = Math.min(this.attempt + 1, 10);
    setTimeout(() => this.connect(), delay);
  }
}

// --- the board's state: the client rules of the design -----------------------------------------------------------
const state = {
  connection: "connecting",
  agents: { seq: null, asOf: null, appliedAt: 0, rows: new Map(), counts: {}, buffered: new Map(), gapTimer: null },
  queues: new Map(), // channel -> { seq, asOf, view, receivedAt }
  clock: null, // { asOfMs, at } : the board's clock (the message's asOf) and when we learnt it (performance.now())
  acks: [],
  resyncing: 0, // snapshot requests in flight
};
let config;
let renderScheduled = false;

function parseInstant(text) {
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
}

function boardNow() {
  if (!state.clock) return null;
  return state.clock.asOfMs + (performance.now() - state.clock.at) * (config.clockRate ?? 1);
}

function learnClock(asOf) {
  const asOfMs = parseInstant(asOf);
  if (asOfMs === null) return;
  const now = boardNow();
  // Move the clock forward with every message; move it back only when the local estimate has drifted clearly ahead.
  if (now === null || asOfMs > now || now - asOfMs > 5000 * (config.clockRate ?? 1)) {
    state.clock = { asOfMs, at: performance.now() };
  }
}

function onPush(message) {
  if (message.channel === AGENTS) {
    onAgentDelta(message);
  } else if (message.channel?.startsWith("/board/queues/") && message.kind === "view") {
    const current = state.queues.get(message.channel);
    if (!current || message.seq > current.seq) {
      applyQueueView(message);
      acknowledge(message);
    }
  }
}

function applyQueueView(message) {
  const entry = { seq: message.seq, asOf: message.asOf, view: message.queue, receivedAt: performance.now() };
  state.queues.set(message.channel, entry);
  learnClock(message.asOf);
  scheduleRender();
}

function onAgentDelta(message) {
  const agents = state.agents;
  if (agents.seq !== null && message.seq <= agents.seq) return; // already in the snapshot or applied
  if (agents.buffered.size >= MAX_BUFFERED_DELTAS) {
    agents.buffered.clear();
    resync([AGENTS]);
    return;
  }
  agents.buffered.set(message.seq, message);
  drainAgentDeltas();
}

function drainAgentDeltas() {
  const agents = state.agents;
  if (agents.seq === null) return; // waiting for the first snapshot
  for (const seq of [...agents.buffered.keys()]) if (seq <= agents.seq) agents.buffered.delete(seq);
  while (agents.buffered.has(agents.seq + 1)) {
    const delta = agents.buffered.get(agents.seq + 1);
    agents.buffered.delete(delta.seq);
    for (const row of delta.upserts ?? []) agents.rows.set(row.agentArn, row);
    for (const arn of delta.removes ?? []) agents.rows.delete(arn);
    if (delta.counts) agents.counts = delta.counts;
    agents.seq = delta.seq;
    agents.asOf = delta.asOf;
    agents.appliedAt = performance.now();
    learnClock(delta.asOf);
    acknowledge(delta);
    scheduleRender();
  }
  if (agents.buffered.size === 0) {
    clearTimeout(agents.gapTimer);
    agents.gapTimer = null;
  } else if (agents.gapTimer === null) {
    // A delta is missing: give it GAP_TIMEOUT_MS to arrive out of order, then start again from a snapshot.
    agents.gapTimer = setTimeout(() => {
      agents.gapTimer = null;
      if (agents.buffered.size > 0) resync([AGENTS]);
    }, GAP_TIMEOUT_MS);
  }
}

function applySnapshot(snapshot, requestedAt) {
  if (snapshot.channel === AGENTS) {
    const agents = state.agents;
    // Older than what pushes already brought since the request: keep those (the sequence moves forward only).
    if (agents.seq !== null && snapshot.seq < agents.seq && agents.appliedAt >= requestedAt) return;
    agents.rows = new Map((snapshot.agents ?? []).map((row) => [row.agentArn, row]));
    agents.counts = snapshot.counts ?? {};
    agents.seq = snapshot.seq;
    agents.asOf = snapshot.asOf;
    agents.appliedAt = performance.now();
    learnClock(snapshot.asOf);
    drainAgentDeltas();
  } else {
    const current = state.queues.get(snapshot.channel);
    // The snapshot's seq was read before its view was computed: at an equal seq the snapshot is as new or newer.
    if (!current || snapshot.seq >= current.seq || current.receivedAt < requestedAt) applyQueueView(snapshot);
  }
  scheduleRender();
}

async function fetchSnapshots(channel) {
  const url = new URL(config.snapshotUrl, location.href);
  url.searchParams.set("channel", channel);
  const { host: _host, ...headers } = await authHeaders(config); // fetch sets Host itself
  const response = await fetch(url, { headers, cache: "no-store" });
  if (!response.ok) throw new Error(`snapshot of ${channel}: HTTP ${response.status}`);
  return (await response.json()).snapshots ?? [];
}

async function resync(channels, attempt = 0) {
  state.resyncing += 1;
  setConnection("resyncing");
  const requestedAt = performance.now();
  try {
    const results = await Promise.all(channels.map(fetchSnapshots));
    results.forEach((snapshots, index) => {
      for (const snapshot of snapshots) applySnapshot(snapshot, requestedAt);
      if (channels[index] === QUEUES) {
        // A queue the full snapshot no longer has, and no push has touched since the request, is gone.
        const present = new Set(snapshots.map((s) => s.channel));
        for (const [channel, entry] of state.queues) {
          if (!present.has(channel) && entry.receivedAt < requestedAt) state.queues.delete(channel);
        }
      }
    });
    state.resyncing -= 1;
    // "Live" once the snapshot is on the screen: the render was scheduled first, in the same frame.
    requestAnimationFrame(() => {
      if (state.connection === "resyncing" && state.resyncing === 0) setConnection("live");
    });
  } catch (error) {
    state.resyncing -= 1;
    console.warn(`wallboard: ${error.message}; retrying`);
    setTimeout(() => resync(channels, attempt + 1), Math.min(10000, 500 * 2 ** attempt));
  }
}

function setConnection(value) {
  state.connection = value;
  const indicator = document.querySelector('[data-metric="connection"]');
  indicator.dataset.state = value;
  indicator.textContent = CONNECTION_LABEL[value] ?? value;
}

// --- render acknowledgements (demo only: push latency is measured to the paint) ----------------------------------
function acknowledge(message) {
  if (config.ackUrl) state.acks.push({ channel: message.channel, seq: message.seq });
}

function sendAcks(acks) {
  const renderedAt = Date.now();
  for (const ack of acks) {
    fetch(config.ackUrl, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...ack, renderedAt }),
    }).catch(() => {}); // a lost acknowledgement only loses a latency sample
  }
}

// --- rendering -----------------------------------------------------------------------------------------------
function scheduleRender() {
  if (renderScheduled) return;
  renderScheduled = true;
  requestAnimationFrame(() => {
    renderScheduled = false;
    render();
    const acks = state.acks.splice(0);
    // A task queued from inside the frame callback runs after that frame is painted.
    if (acks.length) setTimeout(() => sendAcks(acks), 0);
  });
}

function formatCount(value) {
  return value === null || value === undefined ? "–" : String(value);
}

function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const whole = Math.max(0, Math.floor(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

function formatMetric(metric, value) {
  if (value === null || value === undefined) return "–";
  if (PERCENT.has(metric)) return `${Math.round(value)}%`;
  if (DURATION.has(metric)) return formatDuration(value);
  return formatCount(value);
}

function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

function setFigure(element, text) {
  setText(element, text);
  // A figure wider than its tile is drawn smaller, never wider: the tile keeps its size.
  const long = text.length > 5;
  if (element.classList.contains("long") !== long) element.classList.toggle("long", long);
}

function setData(element, key, value) {
  const text = value === null || value === undefined ? "" : String(value);
  if (element.dataset[key] !== text) element.dataset[key] = text;
}

function render() {
  renderAgentCounts();
  renderQueues();
  renderAgentList();
  tick();
}

function renderAgentCounts() {
  const section = document.querySelector(".agent-counts");
  setData(section, "seq", state.agents.seq);
  setData(section, "asOf", state.agents.asOf);
  for (const element of section.querySelectorAll("[data-metric]")) {
    const value = state.agents.counts[element.dataset.metric];
    setData(element, "value", value);
    setFigure(element, formatCount(value));
    // Agents in error need a supervisor whatever the thresholds say.
    if (element.dataset.metric === "AGENTS_ERROR") {
      setData(element.closest(".tile"), "level", value > 0 ? "alert" : "none");
    }
  }
}

function queueOrder(a, b) {
  const nameA = a.view.name ?? a.view.queueId;
  const nameB = b.view.name ?? b.view.queueId;
  return nameA.localeCompare(nameB) || a.view.queueId.localeCompare(b.view.queueId);
}

function renderQueues() {
  const container = document.querySelector(".queues");
  const entries = [...state.queues.entries()].map(([channel, entry]) => ({ channel, ...entry })).sort(queueOrder);
  const wanted = new Set(entries.map((e) => e.channel));
  for (const card of [...container.children]) if (!wanted.has(card.dataset.channel)) card.remove();
  entries.forEach((entry, index) => {
    let card = container.querySelector(`[data-channel="${CSS.escape(entry.channel)}"]`);
    if (!card) card = newQueueCard(entry);
    if (container.children[index] !== card) container.insertBefore(card, container.children[index] ?? null);
    fillQueueCard(card, entry);
  });
  const first = entries[0]?.view.interval?.label;
  setText(document.querySelector('.bar [data-metric="interval"]'), first ?? "");
}

function newQueueCard(entry) {
  const card = document.getElementById("queue-card").content.firstElementChild.cloneNode(true);
  card.dataset.channel = entry.channel;
  card.dataset.queue = entry.view.queueId;
  for (const element of card.querySelectorAll("[data-metric]")) element.dataset.queue = entry.view.queueId;
  const waiting = card.querySelector(".waiting");
  for (let i = 0; i < WAITING_ROWS; i += 1) {
    const row = document.createElement("li");
    row.innerHTML = '<span class="rank"></span><span class="channel" data-metric="waitingChannel"></span>'
      + '<span class="wait" data-metric="waitSeconds"></span>';
    for (const element of row.querySelectorAll("[data-metric]")) element.dataset.queue = entry.view.queueId;
    waiting.append(row);
  }
  return card;
}

function fillQueueCard(card, entry) {
  const view = entry.view;
  const levels = view.levels ?? {};
  setData(card, "seq", entry.seq);
  setData(card, "asOf", entry.asOf);
  let worst = "ok";
  for (const metric of QUEUE_METRICS) {
    const element = card.querySelector(`.value[data-metric="${metric}"]`);
    setData(element, "value", view[metric]);
    setFigure(element, formatMetric(metric, view[metric]));
    const level = levels[metric] ?? "none";
    setData(element.closest(".tile"), "level", level);
    setData(element, "level", level);
    if ((LEVEL_RANK[level] ?? 0) > LEVEL_RANK[worst]) worst = level;
  }
  setData(card, "level", worst);
  setText(card.querySelector('[data-metric="name"]'), view.name ?? view.queueId);
  setText(card.querySelector('header [data-metric="interval"]'), view.interval?.label ?? "");
  // "SL 20 s": service level within 20 seconds, as contact centres write it.
  setText(card.querySelector('[data-metric="serviceLevelLabel"]'),
    view.serviceLevelSeconds ? `SL ≤ ${view.serviceLevelSeconds} s` : "Service level");

  const waiting = view.waiting ?? [];
  const rows = card.querySelectorAll(".waiting li");
  rows.forEach((row, index) => {
    const contact = waiting[index];
    setData(row, "contact", contact?.contactId);
    setData(row, "waitSeconds", contact?.waitSeconds);
    setText(row.querySelector(".rank"), contact ? String(index + 1) : "");
    const channel = row.querySelector(".channel");
    setData(channel, "value", contact?.channel);
    setText(channel, contact ? CHANNEL_LABEL[contact.channel] ?? contact.channel ?? "" : "");
    setData(row.querySelector(".wait"), "value", contact?.waitSeconds);
  });
  const total = view.waitingTotal ?? waiting.length;
  const more = card.querySelector('[data-metric="waitingTotal"]');
  setData(more, "value", total);
  setText(more, total > WAITING_ROWS ? `+ ${total - WAITING_ROWS} more waiting` : total === 0 ? "Nobody waiting" : "");
}

// Logged in and not in an Offline status: Connect's AGENTS_ONLINE (domain/board.py is_online), so the list's
// count matches the Online tile.
function agentVisible(row) {
  return Boolean(row.loggedIn) && row.statusType !== undefined && row.statusType !== "OFFLINE";
}

function agentOrder(a, b) {
  return (a.name ?? "").localeCompare(b.name ?? "") || a.agentArn.localeCompare(b.agentArn);
}

function renderAgentList() {
  const list = document.querySelector(".agent-list");
  const rows = [...state.agents.rows.values()].filter(agentVisible).sort(agentOrder);
  const shown = document.querySelector('[data-metric="agentsShown"]');
  setData(shown, "value", rows.length);
  setText(shown, `${rows.length} logged in`);
  const existing = new Map([...list.children].map((li) => [li.dataset.agent, li]));
  const wanted = new Set(rows.map((r) => r.agentArn));
  for (const [arn, li] of existing) if (!wanted.has(arn)) li.remove();
  rows.forEach((row, index) => {
    let li = existing.get(row.agentArn);
    if (!li) {
      li = document.createElement("li");
      li.className = "agent";
      li.dataset.agent = row.agentArn;
      li.innerHTML = '<span class="agent-name" data-metric="name"></span>'
        + '<span class="agent-state"><span class="activity" data-metric="activity"></span>'
        + '<span class="agent-status" data-metric="statusName"></span></span>'
        + '<span class="contacts" data-metric="contacts"></span>'
        + '<span class="in-state" data-metric="timeInState"></span>';
    }
    if (list.children[index] !== li) list.insertBefore(li, list.children[index] ?? null);
    fillAgentRow(li, row);
  });
  // More agents than the screen holds: say how many are off screen rather than shrink everyone.
  const right = list.getBoundingClientRect().right;
  const hidden = [...list.children].filter((li) => li.getBoundingClientRect().left >= right).length;
  setText(document.querySelector('[data-metric="agentsHidden"]'), hidden ? `${hidden} more not shown` : "");
}

function fillAgentRow(li, row) {
  setData(li, "activity", row.activity);
  setText(li.querySelector(".agent-name"), row.name ?? row.agentId ?? row.agentArn);
  const activity = li.querySelector(".activity");
  setData(activity, "value", row.activity);
  // A custom status is the activity itself (Lunch, Training); otherwise the status shows beside the activity
  // unless it says nothing more (Available while on contact), so "ACW while in Lunch" reads as both.
  const custom = row.activity === "CUSTOM_STATUS";
  setText(activity, custom ? row.statusName ?? "Custom status" : ACTIVITY_LABEL[row.activity] ?? row.activity ?? "");
  const status = li.querySelector(".agent-status");
  setData(status, "value", row.statusName);
  setText(status, custom || row.statusType === "ROUTABLE" ? "" : row.statusName ?? "");
  const cell = li.querySelector(".contacts");
  const contacts = row.contacts ?? [];
  setData(cell, "value", contacts.length);
  while (cell.children.length > contacts.length) cell.lastElementChild.remove();
  while (cell.children.length < contacts.length) {
    const chip = document.createElement("span");
    chip.className = "contact";
    chip.innerHTML = '<span class="contact-label"></span> <span class="contact-time"></span>';
    cell.append(chip);
  }
  contacts.forEach((contact, index) => {
    const chip = cell.children[index];
    setData(chip, "contact", contact.contactId);
    setData(chip, "state", contact.state);
    setData(chip, "since", contact.stateStartTimestamp);
    const word = CONTACT_STATE_WORD[contact.state] ?? (contact.state ?? "").toLowerCase();
    const channel = CHANNEL_LABEL[contact.channel] ?? contact.channel;
    setText(chip.querySelector(".contact-label"), word ? `${channel} ${word}` : channel);
  });
  setData(li.querySelector(".in-state"), "since", row.statusStartTimestamp);
}

// Durations that run between messages: the board's clock advances at clockRate from the last asOf it heard.
function tick() {
  const now = boardNow();
  const clock = now === null ? "" : new Date(now).toLocaleTimeString([], { hour12: false });
  setText(document.querySelector('.bar [data-metric="clock"]'), clock);
  for (const cell of document.querySelectorAll(".agent-list .in-state, .agent-list .contact")) {
    const since = parseInstant(cell.dataset.since);
    const target = cell.querySelector(".contact-time") ?? cell;
    setText(target, now === null || since === null ? "" : formatDuration((now - since) / 1000));
  }
  for (const card of document.querySelectorAll(".queue")) {
    const asOf = parseInstant(card.dataset.asOf);
    const elapsed = now === null || asOf === null ? 0 : Math.max(0, (now - asOf) / 1000);
    const oldest = card.querySelector('.value[data-metric="OLDEST_CONTACT_AGE"]');
    if (oldest.dataset.value !== "") setFigure(oldest, formatDuration(Number(oldest.dataset.value) + elapsed));
    for (const wait of card.querySelectorAll(".waiting .wait")) {
      const waited = wait.dataset.value;
      setText(wait, waited === "" || waited === undefined ? "" : formatDuration(Number(waited) + elapsed));
    }
  }
}

// --- start ---------------------------------------------------------------------------------------------------
async function main() {
  config = await (await fetch("config.json", { cache: "no-store" })).json();
  const connection = new RealtimeConnection(config, [AGENTS, QUEUES], {
    onData: onPush,
    // Subscribed (first time or after a reconnect): what was published while we were away is only in a snapshot.
    onSubscribed: () => resync([AGENTS, QUEUES]),
    onDown: (why) => setConnection(why),
  });
  setInterval(tick, TICK_MS);
  await connection.connect();
}

main().catch((error) => {
  console.error("wallboard: cannot start", error);
  setConnection("error");
});
