// The live wallboard: subscribes to the board's channels over the AWS AppSync Events WebSocket protocol (the local
// demo server speaks the same subset), seeds each channel from a snapshot and applies versioned pushes by the rules of
// notes/board-design.md: a queue view replaces an older one; agent deltas apply in sequence after a snapshot, and a
// gap that does not close within 2 s, or a reconnect, fetches the snapshot again.
//
// Every figure carries data-metric (and data-queue for a queue's figures) and data-value, the number exactly as the
// message had it at its asOf instant; the text is the display (durations tick locally at config.clockRate).
//
// Scope (issue 16): the page first asks for the snapshot of `*`, whose answer lists the channels this user may
// subscribe to (`channels`); it subscribes to exactly those, shows one agents section per agents channel (all agents,
// or each agent hierarchy group) and the queues those channels cover. A refused subscription is shown, not retried.

const AGENTS = "/board/agents";
const AGENT_GROUPS = "/board/agentgroups/";
const QUEUE_PREFIX = "/board/queues/";
const EVERYTHING = "*"; // the snapshot request for every channel the caller may see
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

// --- authorisation: one provider per config.auth.type --------------------------------------------------------
// A provider: start() signs in if it must (before anything is requested), headers() gives the credentials of a
// request, and refresh() renews them after a 401 (false when it cannot).
const NO_AUTH = {
  // No credentials: the local server. AppSync still wants the host of its HTTP endpoint in every header set.
  start: async () => {},
  headers: async () => ({}),
  refresh: async () => false,
};

// Amazon Cognito's hosted UI: authorization code + PKCE (S256) for a public app client (no secret). Tokens live in
// sessionStorage (this tab only, gone when it closes) and are renewed with the refresh token before they expire.
// Framed (the Connect agent workspace), the hosted UI cannot be shown in the frame (it refuses to be framed), so the
// sign-in runs in a popup that hands the code back to this frame by postMessage.
const TOKENS_KEY = "wallboard.cognito.tokens";
const PENDING_KEY = "wallboard.cognito.pending";
const SIGN_IN_MESSAGE = "wallboard-sign-in";
const POPUP_STATE = "popup.";
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

const framed = (() => {
  try {
    return window.top !== window.self;
  } catch {
    return true; // a cross-origin parent: framed
  }
})();

class CognitoAuth {
  constructor() {
    this.tokens = null;
    this.refreshing = null;
    this.refreshTimer = null;
  }

  settings(auth) {
    const domain = String(auth.domain ?? "").replace(/\/+$/, "");
    if (!domain || !auth.clientId) throw new Error("config.auth needs the Cognito domain and clientId");
    const redirectUri = auth.redirectUri ?? `${location.origin}${location.pathname}`;
    return { domain, clientId: auth.clientId, redirectUri, logoutUri: auth.logoutUri ?? redirectUri,
      scope: auth.scope ?? "openid" };
  }

  async start(auth) {
    const cognito = this.settings(auth);
    const params = new URLSearchParams(location.search);
    if (params.has("code") || params.has("error")) {
      const state = params.get("state") ?? "";
      if (state.startsWith(POPUP_STATE) && window.opener && window.opener !== window) {
        // This is the sign-in popup, back from the hosted UI: the frame that opened it has the PKCE verifier.
        window.opener.postMessage({ type: SIGN_IN_MESSAGE, code: params.get("code"), state,
          error: params.get("error") }, location.origin);
        window.close();
        return new Promise(() => {}); // nothing more for this window to do
      }
      history.replaceState(null, "", `${location.pathname}${location.hash}`); // the code is single-use: drop it
      const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? "null");
      sessionStorage.removeItem(PENDING_KEY);
      if (params.has("error")) throw new Error(`sign-in failed: ${params.get("error")}`);
      if (!pending || pending.state !== state) throw new Error("the sign-in answer does not match this page's request");
      await this.exchange(cognito, { grant_type: "authorization_code", code: params.get("code"),
        redirect_uri: cognito.redirectUri, code_verifier: pending.verifier });
    } else {
      this.tokens = JSON.parse(sessionStorage.getItem(TOKENS_KEY) ?? "null");
      if (this.tokens) {
        this.scheduleRefresh(cognito);
      } else {
        await this.signIn(cognito);
      }
    }
    this.showSignOut(cognito);
  }

  async headers(auth) {
    const cognito = this.settings(auth);
    if (!this.tokens) await this.signIn(cognito);
    // Due for renewal (the timer may be late: browsers slow timers down in background tabs).
    if (Date.now() >= (this.tokens.refreshAt ?? 0)) await this.refresh(auth);
    // The access token: it carries cognito:groups, and both AppSync (Cognito user pool auth) and the snapshot API's
    // JWT authorizer (audience checked against client_id) accept it.
    return { Authorization: this.tokens.accessToken };
  }

  refresh(auth) {
    const cognito = this.settings(auth);
    this.refreshing ??= (async () => {
      try {
        if (!this.tokens?.refreshToken) throw new Error("no refresh token");
        await this.exchange(cognito, { grant_type: "refresh_token", refresh_token: this.tokens.refreshToken });
      } catch (error) {
        console.warn(`wallboard: the session could not be renewed (${error.message}); signing in again`);
        this.forget();
        await this.signIn(cognito);
      } finally {
        this.refreshing = null;
      }
      return true;
    })();
    return this.refreshing;
  }

  async exchange(cognito, form) {
    const response = await fetch(`${cognito.domain}/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: cognito.clientId, ...form }),
    });
    if (!response.ok) throw new Error(`the token endpoint answered HTTP ${response.status}`);
    const answer = await response.json();
    const lifetime = Number(answer.expires_in ?? 3600) * 1000;
    this.tokens = {
      accessToken: answer.access_token,
      idToken: answer.id_token,
      refreshToken: answer.refresh_token ?? this.tokens?.refreshToken, // a refresh answer brings no new one
      expiresAt: Date.now() + lifetime,
      // Renew REFRESH_MARGIN_MS before expiry (half-way through a shorter life): never with an expired token.
      refreshAt: Date.now() + lifetime - Math.min(REFRESH_MARGIN_MS, lifetime / 2),
    };
    sessionStorage.setItem(TOKENS_KEY, JSON.stringify(this.tokens));
    this.scheduleRefresh(cognito);
  }

  scheduleRefresh(cognito) {
    clearTimeout(this.refreshTimer);
    const delay = Math.max(0, (this.tokens.refreshAt ?? 0) - Date.now());
    this.refreshTimer = setTimeout(() => this.refresh({ ...cognito, type: "cognito" }), delay);
  }

  forget() {
    clearTimeout(this.refreshTimer);
    this.tokens = null;
    sessionStorage.removeItem(TOKENS_KEY);
  }

  async authorizeRequest(cognito, state) {
    const verifier = randomUrlSafe(48);
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    const url = new URL(`${cognito.domain}/oauth2/authorize`);
    url.search = new URLSearchParams({
      response_type: "code", client_id: cognito.clientId, redirect_uri: cognito.redirectUri, scope: cognito.scope,
      state, code_challenge: base64UrlBytes(new Uint8Array(digest)), code_challenge_method: "S256",
    }).toString();
    return { url: url.toString(), verifier };
  }

  // Resolves once signed in (the popup way), or never (the page navigates to the hosted UI).
  async signIn(cognito) {
    if (!framed) {
      const state = randomUrlSafe(24);
      const { url, verifier } = await this.authorizeRequest(cognito, state);
      sessionStorage.setItem(PENDING_KEY, JSON.stringify({ state, verifier }));
      location.assign(url);
      return new Promise(() => {});
    }
    const state = `${POPUP_STATE}${randomUrlSafe(24)}`;
    const { url, verifier } = await this.authorizeRequest(cognito, state);
    const prompt = document.querySelector(".sign-in");
    return new Promise((resolve) => {
      let popup = null;
      const onMessage = async (event) => {
        if (event.origin !== location.origin || event.source !== popup || event.data?.type !== SIGN_IN_MESSAGE) return;
        window.removeEventListener("message", onMessage);
        prompt.hidden = true;
        try {
          if (event.data.error) throw new Error(`sign-in failed: ${event.data.error}`);
          if (event.data.state !== state) throw new Error("the sign-in answer does not match this page's request");
          await this.exchange(cognito, { grant_type: "authorization_code", code: event.data.code,
            redirect_uri: cognito.redirectUri, code_verifier: verifier });
          resolve();
        } catch (error) {
          showNotice("sign-in", error.message);
          resolve(this.signIn(cognito));
        }
      };
      // A popup needs the user's click (browsers block others), hence the button.
      prompt.querySelector("button").onclick = () => {
        popup = window.open(url, "wallboard-sign-in", "popup,width=480,height=680");
        if (!popup) showNotice("sign-in", "the sign-in window was blocked: allow popups for this page");
      };
      window.addEventListener("message", onMessage);
      prompt.hidden = false;
    });
  }

  showSignOut(cognito) {
    const link = document.querySelector('[data-metric="signOut"]');
    const url = new URL(`${cognito.domain}/logout`);
    url.search = new URLSearchParams({ client_id: cognito.clientId, logout_uri: cognito.logoutUri }).toString();
    link.href = url.toString();
    link.hidden = false;
    link.onclick = (event) => {
      this.forget();
      if (framed) { // the hosted UI cannot be framed: sign out in a window of its own, then ask to sign in again
        event.preventDefault();
        window.open(link.href, "wallboard-sign-out", "popup,width=480,height=680");
        location.reload();
      }
    };
  }
}

const AUTH_PROVIDERS = {
  none: NO_AUTH,
  cognito: new CognitoAuth(),
};

function authProvider(config) {
  const type = config.auth?.type ?? "none";
  const provider = AUTH_PROVIDERS[type];
  if (!provider) throw new Error(`auth type ${JSON.stringify(type)} is not supported by this client`);
  return provider;
}

// The header set of the AppSync Events protocol: the credentials plus the host of the API's HTTP endpoint.
async function authHeaders(config) {
  const http = config.httpHost ?? config.eventHost;
  const host = http ? (http.includes("://") ? new URL(http).host : http) : new URL(config.realtimeUrl, location.href).host;
  return { host, ...(await authProvider(config).headers(config.auth ?? {})) };
}

function base64UrlBytes(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function base64Url(text) {
  return base64UrlBytes(new TextEncoder().encode(text));
}

function randomUrlSafe(size) {
  return base64UrlBytes(crypto.getRandomValues(new Uint8Array(size)));
}

let idCounter = 0;
function newId() {
  idCounter += 1;
  return `${Date.now().toString(36)}-${idCounter}-${Math.random().toString(36).slice(2, 10)}`;
}

// --- the AppSync Events WebSocket protocol subset ---------------------------------------------------------------
class RealtimeConnection {
  // `channels()` is read at every (re)connection: the channels this user may subscribe to, as the snapshot listed.
  constructor(config, channels, { onData, onSubscribed, onDown, onRefused }) {
    Object.assign(this, { config, channels, onData, onSubscribed, onDown, onRefused });
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

  // Start again on a new connection (the channels changed, or the credentials did).
  restart() {
    this.socket?.close(1000, "restart");
  }

  receive(session, message) {
    switch (message.type) {
      case "connection_ack":
        session.timeoutMs = message.connectionTimeoutMs ?? session.timeoutMs;
        this.armKeepAlive(session);
        for (const channel of this.channels()) {
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
          this.settled(session);
        }
        break;
      case "subscribe_error":
        // Refused (outside this user's scope): shown on the board, not retried, and the other channels carry on.
        if (session.pending.has(message.id)) {
          const channel = session.pending.get(message.id);
          session.pending.delete(message.id);
          console.warn(`wallboard: subscribing to ${channel} refused`, message.errors);
          this.onRefused(channel, message.errors ?? []);
          this.settled(session);
        }
        break;
      case "data":
        if (session.subscribed.has(message.id)) {
          this.onData(typeof message.event === "string" ? JSON.parse(message.event) : message.event);
        }
        break;
      case "connection_error":
      case "error":
        // The connection itself was refused (credentials expired?): a new one gets fresh headers.
        console.warn("wallboard: the realtime endpoint reports an error", message.errors ?? message);
        if (message.type === "connection_error") session.socket.close(4001, "connection error");
        break;
      default:
        console.warn("wallboard: unexpected message from the realtime endpoint", message);
    }
  }

  settled(session) {
    if (session.pending.size > 0) return;
    if (session.subscribed.size === 0) {
      this.onDown("error");
      return;
    }
    this.attempt = 0;
    this.onSubscribed();
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
  channels: null, // the subscription channels the snapshot answer listed (null until the first answer)
  agents: new Map(), // agents channel -> { seq, asOf, appliedAt, rows, counts, buffered, gapTimer, name }
  queues: new Map(), // channel -> { seq, asOf, view, receivedAt }
  clock: null, // { asOfMs, at } : the board's clock (the message's asOf) and when we learnt it (performance.now())
  acks: [],
  resyncing: 0, // snapshot requests in flight
  subscribed: false, // every channel answered on the current connection: "Live" is possible
};
let config;
let connection = null;
let renderScheduled = false;

function isAgentsChannel(channel) {
  return channel === AGENTS || (channel?.startsWith(AGENT_GROUPS) && !channel.endsWith("/*"));
}

// `/board/queues/*` covers one trailing segment; any other channel covers itself (AppSync Events' rule).
function covers(pattern, channel) {
  if (pattern.endsWith("/*")) {
    const prefix = pattern.slice(0, -1);
    return channel.startsWith(prefix) && channel.length > prefix.length && !channel.slice(prefix.length).includes("/");
  }
  return pattern === channel;
}

function inScope(channel) {
  return Boolean(channel) && (state.channels ?? []).some((pattern) => covers(pattern, channel));
}

function newAgentsState() {
  return { seq: null, asOf: null, appliedAt: 0, rows: new Map(), counts: {}, buffered: new Map(), gapTimer: null,
    name: null };
}

// The channels this user may subscribe to changed (first answer, or a scope change at a token refresh): the
// sections follow, and a live connection subscribes again.
function setScope(channels) {
  const next = [...new Set(channels)].sort();
  const changed = state.channels === null || next.join("\n") !== state.channels.join("\n");
  if (!changed) return;
  const first = state.channels === null;
  state.channels = next;
  for (const channel of next) if (isAgentsChannel(channel) && !state.agents.has(channel)) {
    state.agents.set(channel, newAgentsState());
  }
  for (const [channel, agents] of state.agents) if (!next.includes(channel)) {
    clearTimeout(agents.gapTimer);
    state.agents.delete(channel);
  }
  for (const channel of state.queues.keys()) if (!inScope(channel)) state.queues.delete(channel);
  buildAgentSections();
  if (next.length === 0) showNotice("scope", "no channels allowed: ask your administrator for a wallboard group");
  if (!first) connection?.restart();
  scheduleRender();
}

function onPush(message) {
  if (!inScope(message.channel)) return; // not ours (the service should not send it anyway)
  if (isAgentsChannel(message.channel)) {
    onAgentDelta(message);
  } else if (message.channel.startsWith(QUEUE_PREFIX) && message.kind === "view") {
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
  const agents = state.agents.get(message.channel);
  if (!agents) return;
  if (agents.seq !== null && message.seq <= agents.seq) return; // already in the snapshot or applied
  if (agents.buffered.size >= MAX_BUFFERED_DELTAS) {
    agents.buffered.clear();
    resync([message.channel]);
    return;
  }
  agents.buffered.set(message.seq, message);
  drainAgentDeltas(message.channel, agents);
}

function drainAgentDeltas(channel, agents) {
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
    agents.name ??= groupName(delta);
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
      if (agents.buffered.size > 0) resync([channel]);
    }, GAP_TIMEOUT_MS);
  }
}

// An agent group's name when the message or its rows give one (else the section shows the group id).
function groupName(message) {
  const id = message.channel?.startsWith(AGENT_GROUPS) ? message.channel.slice(AGENT_GROUPS.length) : null;
  if (id === null) return null;
  const named = message.groupName ?? message.group?.name;
  if (named) return named;
  for (const row of [...(message.agents ?? []), ...(message.upserts ?? [])]) {
    const groups = row.hierarchyGroups ?? [];
    for (const group of Array.isArray(groups) ? groups : Object.values(groups)) {
      const groupId = group?.id ?? String(group?.arn ?? group?.ARN ?? "").split("/").pop();
      const name = group?.name ?? group?.Name;
      if (groupId === id && name) return name;
    }
  }
  return null;
}

function applySnapshot(snapshot, requestedAt) {
  if (!inScope(snapshot.channel)) return;
  if (isAgentsChannel(snapshot.channel)) {
    const agents = state.agents.get(snapshot.channel);
    if (!agents) return;
    // Older than what pushes already brought since the request: keep those (the sequence moves forward only).
    if (agents.seq !== null && snapshot.seq < agents.seq && agents.appliedAt >= requestedAt) return;
    agents.rows = new Map((snapshot.agents ?? []).map((row) => [row.agentArn, row]));
    agents.counts = snapshot.counts ?? {};
    agents.seq = snapshot.seq;
    agents.asOf = snapshot.asOf;
    agents.appliedAt = performance.now();
    agents.name = groupName(snapshot) ?? agents.name;
    learnClock(snapshot.asOf);
    drainAgentDeltas(snapshot.channel, agents);
  } else if (snapshot.channel?.startsWith(QUEUE_PREFIX)) {
    const current = state.queues.get(snapshot.channel);
    // The snapshot's seq was read before its view was computed: at an equal seq the snapshot is as new or newer.
    if (!current || snapshot.seq >= current.seq || current.receivedAt < requestedAt) applyQueueView(snapshot);
  }
  scheduleRender();
}

class HttpError extends Error {
  constructor(channel, status) {
    super(`snapshot of ${channel}: HTTP ${status}`);
    this.status = status;
  }
}

// The snapshot document of one request: {snapshots: [...], channels: [...]}. A 401 renews the credentials once.
async function fetchSnapshots(channel, renewed = false) {
  const url = new URL(config.snapshotUrl, location.href);
  url.searchParams.set("channel", channel);
  const { host: _host, ...headers } = await authHeaders(config); // fetch sets Host itself
  const response = await fetch(url, { headers, cache: "no-store" });
  if (response.status === 401 && !renewed && (await authProvider(config).refresh(config.auth ?? {}))) {
    return fetchSnapshots(channel, true);
  }
  if (!response.ok) throw new HttpError(channel, response.status);
  return response.json();
}

// Read the snapshots of `requests` (`*`, or one agents channel after a gap) and apply them; retries until it can.
async function resync(requests, attempt = 0) {
  state.resyncing += 1;
  if (state.subscribed) setConnection("resyncing"); // before the first subscription the board is "Connecting"
  const requestedAt = performance.now();
  try {
    const documents = await Promise.all(requests.map((request) => fetchSnapshots(request)));
    documents.forEach((document, index) => {
      if (requests[index] === EVERYTHING && Array.isArray(document.channels)) setScope(document.channels);
      const snapshots = document.snapshots ?? [];
      for (const snapshot of snapshots) applySnapshot(snapshot, requestedAt);
      if (requests[index] === EVERYTHING) {
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
      if (state.subscribed && state.connection === "resyncing" && state.resyncing === 0) setConnection("live");
    });
  } catch (error) {
    state.resyncing -= 1;
    if (error.status === 403) {
      // Outside this user's scope: say so once; asking again would be refused again.
      for (const request of requests) showNotice(request, `not allowed: ${request}`);
      if (state.resyncing === 0) setConnection("error");
      return;
    }
    console.warn(`wallboard: ${error.message}; retrying`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(10000, 500 * 2 ** attempt)));
    await resync(requests, attempt + 1);
  }
}

// A small banner, one per subject: "not allowed: /board/queues/<id>", a failed sign-in.
function showNotice(subject, text) {
  const notices = document.querySelector(".notices");
  let notice = [...notices.children].find((element) => element.dataset.subject === subject);
  if (!notice) {
    notice = document.createElement("p");
    notice.className = "notice";
    notice.dataset.subject = subject;
    notices.append(notice);
  }
  setText(notice, text);
}

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
  buildAgentSections(); // a group named since the last render may take another place in the order
  for (const [channel, agents] of state.agents) {
    const sections = document.querySelectorAll(`[data-channel="${CSS.escape(channel)}"]`);
    for (const section of sections) {
      if (section.classList.contains("agent-counts")) renderAgentCounts(section, channel, agents);
      else renderAgentList(section, channel, agents);
    }
  }
  renderQueues();
  tick();
}

// All agents first, then the agent groups by name (their id until a message names them).
function agentChannelsInOrder() {
  const label = (channel) => state.agents.get(channel)?.name ?? channel.slice(AGENT_GROUPS.length);
  return [...state.agents.keys()].sort((a, b) => (a === AGENTS ? -1 : b === AGENTS ? 1 : 0)
    || label(a).localeCompare(label(b)) || a.localeCompare(b));
}

// One counts row and one agent list per agents channel, in a stable order; a single all-agents section is untitled.
function buildAgentSections() {
  const channels = agentChannelsInOrder();
  const titled = channels.length > 1 || channels.some((channel) => channel !== AGENTS);
  setData(document.querySelector(".board"), "agentSections", channels.length > 1 ? "many" : channels.length);
  for (const [selector, template] of [[".agent-count-rows", "agent-counts"], [".agent-lists", "agent-list"]]) {
    const container = document.querySelector(selector);
    for (const section of [...container.children]) if (!channels.includes(section.dataset.channel)) section.remove();
    channels.forEach((channel, index) => {
      let section = [...container.children].find((element) => element.dataset.channel === channel);
      if (!section) {
        section = document.getElementById(template).content.firstElementChild.cloneNode(true);
        section.dataset.channel = channel;
        if (channel !== AGENTS) section.dataset.group = channel.slice(AGENT_GROUPS.length);
      }
      setData(section, "titled", titled ? "true" : "");
      if (container.children[index] !== section) container.insertBefore(section, container.children[index] ?? null);
    });
  }
}

function sectionTitle(channel, agents) {
  return channel === AGENTS ? "All agents" : agents.name ?? channel.slice(AGENT_GROUPS.length);
}

function renderAgentCounts(section, channel, agents) {
  setData(section, "seq", agents.seq);
  setData(section, "asOf", agents.asOf);
  setText(section.querySelector(".group-name"), section.dataset.titled ? sectionTitle(channel, agents) : "");
  for (const element of section.querySelectorAll(".value[data-metric]")) {
    const value = agents.counts[element.dataset.metric];
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

function renderAgentList(section, channel, agents) {
  const list = section.querySelector(".agent-list");
  const rows = [...agents.rows.values()].filter(agentVisible).sort(agentOrder);
  setText(section.querySelector(".group-name"), section.dataset.titled ? sectionTitle(channel, agents) : "");
  const shown = section.querySelector('[data-metric="agentsShown"]');
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
  setText(section.querySelector('[data-metric="agentsHidden"]'), hidden ? `${hidden} more not shown` : "");
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
  await authProvider(config).start(config.auth ?? {});
  setInterval(tick, TICK_MS);
  // Which channels may this user see? The answer to `*` lists them, with their snapshots (shown at once).
  await resync([EVERYTHING]);
  if (!state.channels?.length) {
    setConnection("error");
    return;
  }
  connection = new RealtimeConnection(config, () => state.channels, {
    onData: onPush,
    // Subscribed (first time or after a reconnect): what was published meanwhile is only in a snapshot.
    onSubscribed: () => {
      state.subscribed = true;
      resync([EVERYTHING]);
    },
    onDown: (why) => {
      state.subscribed = false;
      setConnection(why);
    },
    onRefused: (channel) => showNotice(channel, `not allowed: ${channel}`),
  });
  await connection.connect();
}

main().catch((error) => {
  console.error("wallboard: cannot start", error);
  setConnection("error");
});
