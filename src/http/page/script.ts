// The chat page's script. It speaks the JSON mode of the protocol over /ws. Everything a peer
// sends is put on the page with textContent, never as HTML. What survives a reload lives in
// localStorage (docs/protocol.md §11): the session secret (never the password), the newest message
// id seen, and the last lines shown, written together so that they always agree: a line that
// was not stored is replayed on the next login, and a stored one is not.
// (The script avoids backquotes and dollar-brace so that it can live in this literal.)

/** The chat page's script, run once the page's elements exist. */
export const PAGE_SCRIPT = `
"use strict";
const $ = (id) => document.getElementById(id);
const KEEP = 500;
const STATE_KEY = "relay.state";
const LINES_KEY = "relay.lines";
const HEARTBEAT_MS = 25000;
const state = { ws: null, name: "", password: "", session: "", since: "", partner: null,
  users: new Set(), rooms: new Set(), tries: 0, retry: null, stay: false, seq: 0, welcomed: false,
  everWelcomed: false, fromForm: false, usedSession: false, beat: null, beatTimer: null,
  lines: [], saveTimer: null, loginId: null, loggedOut: false };
const sentById = new Map();

function read(key) {
  try { const v = localStorage.getItem(key); return v ? JSON.parse(v) : null; } catch (e) { return null; }
}

function write(key, value) {
  // Storage full or turned off: the page still works, it only forgets more on a reload.
  try { if (value === null) localStorage.removeItem(key); else localStorage.setItem(key, JSON.stringify(value)); } catch (e) {}
}

function persist() {
  clearTimeout(state.saveTimer);
  state.saveTimer = null;
  if (!state.name || state.loggedOut) return;
  write(STATE_KEY, { name: state.name, session: state.session || undefined, since: state.since || undefined,
    partner: state.partner || undefined });
  write(LINES_KEY, state.lines);
}

// Many messages in a burst make one write, a moment later; leaving the page writes at once.
function persistSoon() { if (!state.saveTimer) state.saveTimer = setTimeout(persist, 100); }

function forgetAll() {
  clearTimeout(state.saveTimer);
  state.saveTimer = null;
  write(STATE_KEY, null);
  write(LINES_KEY, null);
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function clock(ts, withDate) {
  const d = new Date(ts);
  if (withDate || d.toDateString() !== new Date().toDateString()) return d.toLocaleString();
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// Puts a line at the end of the log; a record (what the line was made of) is kept for a reload.
function show(line, record) {
  const log = $("log");
  const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.append(line);
  if (atEnd) log.scrollTop = log.scrollHeight;
  if (!record) return;
  state.lines.push(record);
  if (state.lines.length > KEEP) state.lines.splice(0, state.lines.length - KEEP);
  persistSoon();
}

function info(text, kind, keep) {
  show(el("div", "line " + (kind || "info"), text), keep === false ? null : { text, kind: kind || "info" });
}

function messageLine(m, mine, dated) {
  const kind = m.to === "*" ? "all" : m.to.startsWith("#") ? "room" : "private";
  // A resume marks what was held as replayed too: "missed" says it for both.
  const marks = (mine ? " mine" : "") + (m.replay ? (mine ? "" : " replay") : m.queued ? " held" : "");
  const line = el("div", "line " + kind + marks);
  const time = el("time", "", clock(m.ts, dated || m.queued || m.replay));
  time.dateTime = m.ts;
  line.append(time);
  if (kind === "room") line.append(el("span", "where", m.to));
  if (kind === "all") line.append(el("span", "where", "everyone"));
  if (kind === "private" && mine) line.append(el("span", "where", "to " + m.to));
  line.append(el("span", "from", m.from), document.createTextNode(": " + m.text));
  return line;
}

function showMessage(m, mine, dated) {
  const record = { m: { id: m.id, from: m.from, to: m.to, text: m.text, ts: m.ts }, mine: !!mine };
  if (m.queued) record.m.queued = true;
  if (m.replay) record.m.replay = true;
  if (dated) record.dated = true;
  show(messageLine(m, mine, dated), record);
}

// Draws what a reload brought back, without keeping it a second time.
function restore(records) {
  for (const r of records) {
    if (r && r.m) show(messageLine(r.m, r.mine, r.dated), null);
    else if (r && typeof r.text === "string") show(el("div", "line " + (r.kind || "info"), r.text), null);
  }
  state.lines = records.slice();
  $("log").scrollTop = $("log").scrollHeight;
}

function seen(id) {
  if (typeof id === "string" && (!state.since || id > state.since)) { state.since = id; persistSoon(); }
}

function send(command) {
  const ready = state.ws && state.ws.readyState === 1 && (state.welcomed || command.type === "login");
  if (!ready) { info("not connected; retrying shortly", "error", false); return null; }
  const id = String(++state.seq);
  state.ws.send(JSON.stringify(Object.assign({ id }, command)));
  return id;
}

function setPartner(target) {
  state.partner = target;
  $("target").replaceChildren(target ? document.createTextNode("to ") : "", target ? el("b", "", target) : "");
  $("text").placeholder = target ? "Message " + target : "Pick someone or a room, or type /help";
  renderLists();
  persistSoon();
}

function renderLists() {
  const users = $("users");
  users.replaceChildren();
  for (const u of [...state.users].sort((a, b) => a.localeCompare(b))) {
    const b = el("button", state.partner === u ? "current" : "", u === state.name ? u + " (you)" : u);
    b.title = "Talk to " + u;
    b.onclick = () => choose(u);
    const li = el("li");
    li.append(b);
    users.append(li);
  }
  const rooms = $("rooms");
  rooms.replaceChildren();
  for (const r of [...state.rooms].sort()) {
    const b = el("button", state.partner === r ? "current" : "", r);
    b.onclick = () => choose(r);
    const leave = el("button", "leave", "×");
    leave.title = "Leave " + r;
    leave.onclick = (e) => { e.stopPropagation(); send({ type: "leave", room: r }); };
    const li = el("li");
    li.append(b, leave);
    rooms.append(li);
  }
  const all = el("button", state.partner === "*" ? "current" : "", "everyone (*)");
  all.onclick = () => choose("*");
  const li = el("li");
  li.append(all);
  rooms.append(li);
}

function choose(target) {
  if (send({ type: "to", name: target })) setPartner(target);
  $("text").focus();
}

function showApp() {
  $("login").hidden = true; $("app").hidden = false; $("logout").hidden = false;
  $("me").textContent = state.name;
}

// Back to the login form: nobody is logged in on this page any more.
function askLogin(message) {
  state.stay = true;
  clearTimeout(state.retry);
  const ws = state.ws;
  state.ws = null;
  stopBeat();
  if (ws) ws.close();
  $("app").hidden = true; $("logout").hidden = true; $("login").hidden = false;
  $("me").textContent = "";
  $("name").value = state.name;
  $("login-error").textContent = message || "";
  setStatus("offline", "not logged in");
  $(state.name ? "password" : "name").focus();
}

function onWelcome(m) {
  const back = state.everWelcomed || state.lines.length > 0;
  state.name = m.name; state.tries = 0; state.welcomed = true; state.everWelcomed = true;
  if (m.session) state.session = m.session;
  state.users = new Set(m.users.concat([m.name]));
  showApp();
  setStatus("online", "online as " + m.name);
  let text = (back ? "welcome back, " : "welcome, ") + m.name;
  if (m.replayed) text += " — " + m.replayed + " message(s) you missed follow";
  else if (m.queued) text += " — " + m.queued + " message(s) waited for you";
  if (m.gap) text += " (older ones: /history name)";
  info(text);
  // A server that keeps memberships says which rooms it put us back in; rooms it forgot
  // (it restarted without a durable store) are joined again.
  const kept = Array.isArray(m.rooms) ? m.rooms : [];
  const again = [...state.rooms].filter((r) => !kept.includes(r));
  state.rooms = new Set(kept);
  for (const room of again) send({ type: "join", room });
  setPartner(state.partner);
  persist();
  startBeat();
  $("text").focus();
}

function onLoginError(m) {
  if (m.code === "auth_failed" && state.usedSession) {
    state.session = "";
    persist();
    // Logged in from the form on this page: the same name and password work again.
    if (state.fromForm) return login();
    return askLogin("Your session has ended; please log in again.");
  }
  if (state.everWelcomed && m.code !== "auth_failed") {
    // Coming back while the server still holds our old connection, or is busy: try later.
    info(m.code + ": " + m.message, "error", false);
    return drop(state.ws);
  }
  askLogin(m.message);
}

function onEvent(m) {
  switch (m.type) {
    case "welcome": onWelcome(m); break;
    case "message": {
      seen(m.id);
      const mine = m.from === state.name;
      showMessage(m, mine, false);
      if (!mine && m.to !== "*" && !m.to.startsWith("#")) setPartner(m.from);
      break;
    }
    case "history":
      for (const h of m.messages) showMessage(h, h.from === state.name, true);
      info("end of history with " + m.with);
      break;
    case "presence":
      if (m.status === "online") state.users.add(m.name); else state.users.delete(m.name);
      info(m.name + " is " + m.status);
      renderLists();
      break;
    case "joined": info(m.name + " joined " + m.room); break;
    case "left": info(m.name + " left " + m.room); break;
    case "announce": info("📣 " + m.text, "announce"); break;
    case "who": info((m.room || "online") + ": " + m.users.join(", ")); break;
    case "rooms":
      info(m.rooms.length ? "rooms: " + m.rooms.map((r) => r.room + " (" + r.members + ")").join(", ") : "no rooms yet");
      break;
    case "pong":
      if (m.re !== null && m.re === state.beat) { state.beat = null; break; }
      info("pong", "info", false);
      break;
    case "ok": {
      const sent = sentById.get(m.re);
      sentById.delete(m.re);
      seen(m.id);
      if (m.users && m.room) { state.rooms.add(m.room); info("you joined " + m.room + ": " + m.users.join(", ")); renderLists(); }
      else if (m.room) { state.rooms.delete(m.room); if (state.partner === m.room) setPartner(null); info("you left " + m.room); renderLists(); }
      if (sent) showMessage(Object.assign(sent, { id: m.id, ts: new Date().toISOString() }), true, false);
      if (m.queued) info((m.to || "they") + " is offline; the message is held for them");
      break;
    }
    case "error":
      sentById.delete(m.re);
      if (!state.welcomed && m.re === state.loginId) onLoginError(m);
      else info(m.code + ": " + m.message, "error");
      break;
    case "bye":
      info("disconnected: " + m.reason, "error");
      if (m.reason === "kicked" || m.reason === "replaced" || m.reason === "quit") state.stay = true;
      break;
  }
}

function setStatus(kind, text) { const s = $("status"); s.className = kind; s.textContent = text; }

function login() {
  const command = { type: "login", name: state.name };
  state.usedSession = !!state.session;
  if (state.session) command.session = state.session;
  else if (state.password) command.password = state.password;
  if (state.since) command.since = state.since;
  state.loginId = send(command);
}

function connect() {
  clearTimeout(state.retry);
  state.stay = false; state.welcomed = false;
  setStatus("", "connecting…");
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  state.ws = ws;
  ws.onopen = () => { if (state.ws === ws) login(); };
  ws.onmessage = (e) => {
    if (state.ws !== ws) return;
    let m;
    try { m = JSON.parse(e.data); } catch (err) { return info("unreadable frame from the server", "error", false); }
    onEvent(m);
  };
  ws.onclose = () => lost(ws);
}

// The connection is gone (closed, or silent too long): unless we stay out, try again later.
function lost(ws) {
  if (state.ws !== ws) return;
  state.ws = null;
  stopBeat();
  for (const sent of sentById.values()) info("not confirmed, it may not have been sent: " + sent.text, "error", false);
  sentById.clear();
  if (state.stay) { setStatus("offline", "disconnected"); return; }
  const delay = Math.min(30000, 500 * 2 ** state.tries++) * (0.75 + Math.random() / 2);
  setStatus("offline", "reconnecting in " + Math.round(delay / 1000) + "s");
  state.retry = setTimeout(connect, delay);
}

function drop(ws) {
  if (!ws) return;
  ws.onclose = null;
  try { ws.close(); } catch (e) {}
  lost(ws);
}

// A connection whose ping goes unanswered for a whole period is dead, even if nothing said so.
function startBeat() {
  stopBeat();
  state.beatTimer = setInterval(() => {
    if (!state.ws || !state.welcomed) return;
    if (state.beat) return drop(state.ws);
    state.beat = send({ type: "ping" });
  }, HEARTBEAT_MS);
}

function stopBeat() { clearInterval(state.beatTimer); state.beatTimer = null; state.beat = null; }

function logout() {
  const ws = state.ws;
  if (ws && ws.readyState === 1) {
    ws.send(JSON.stringify({ type: "quit", forget: true, id: String(++state.seq) }));
    setTimeout(() => ws.close(), 1000);
  }
  state.ws = null;
  state.loggedOut = true;
  state.session = ""; state.since = ""; state.password = ""; state.lines = [];
  state.rooms = new Set(); state.users = new Set(); state.everWelcomed = false; state.fromForm = false;
  $("log").replaceChildren();
  setPartner(null);
  forgetAll();
  askLogin("");
  setStatus("offline", "logged out");
}

function command(line) {
  const [word, ...rest] = line.slice(1).split(/\\s+/);
  const arg = rest.join(" ");
  const room = (r) => (r.startsWith("#") ? r : "#" + r);
  switch (word) {
    case "join": return arg ? send({ type: "join", room: room(arg) }) : info("usage: /join #room", "error", false);
    case "leave": return send({ type: "leave", room: room(arg || state.partner || "") });
    case "to": return arg ? choose(arg) : info("usage: /to name", "error", false);
    case "who": return send(arg ? { type: "who", room: room(arg) } : { type: "who" });
    case "rooms": return send({ type: "rooms" });
    case "ping": return send({ type: "ping" });
    case "all": return say("*", arg);
    case "msg": { const [to, ...text] = rest; return say(to, text.join(" ")); }
    case "history": {
      const target = rest[0] || state.partner;
      const limit = rest[1] === undefined ? undefined : Number(rest[1]);
      if (!target || (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 200))) return info("usage: /history name [1-200]", "error", false);
      return send(limit === undefined ? { type: "history", with: target } : { type: "history", with: target, limit });
    }
    case "quit": return logout();
    case "help":
      return info("/join #room · /leave #room · /to name · /msg name text · /all text · /who [#room] · /rooms · /history name [n] · /ping · /quit (log out) — click a name or room to talk there; a private message makes its sender your partner", "info", false);
    default: return info("unknown command /" + word + "; try /help", "error", false);
  }
}

function say(to, text) {
  if (!to || !text) return info("usage: /msg name text", "error", false);
  const id = send({ type: "msg", to, text });
  if (id) sentById.set(id, { type: "message", from: state.name, to, text });
}

$("login").onsubmit = (e) => {
  e.preventDefault();
  const name = $("name").value.trim();
  if (!name) return;
  if (name.toLowerCase() !== state.name.toLowerCase()) {
    // Someone else on this browser: what was kept belongs to the previous name.
    state.since = ""; state.partner = null; state.lines = []; state.rooms = new Set();
    $("log").replaceChildren();
    forgetAll();
  }
  state.name = name;
  state.password = $("password").value;
  state.session = "";
  state.fromForm = true;
  state.loggedOut = false;
  $("login-error").textContent = "";
  connect();
};
$("say").onsubmit = (e) => {
  e.preventDefault();
  const text = $("text").value;
  if (!text.trim()) return;
  $("text").value = "";
  if (text.startsWith("/") && !text.startsWith("//")) return command(text);
  const body = text.startsWith("//") ? text.slice(1) : text;
  if (!state.partner) return info("pick someone or a room first (click a name, or /to name)", "error", false);
  say(state.partner, body);
};
$("join").onsubmit = (e) => {
  e.preventDefault();
  const r = $("room").value.trim();
  if (r) send({ type: "join", room: r.startsWith("#") ? r : "#" + r });
  $("room").value = "";
};
$("logout").onclick = logout;
addEventListener("pagehide", persist);
document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") persist(); });
addEventListener("online", () => {
  // Back on the network: no need to sit out the rest of the backoff.
  if (!state.ws && !state.stay && (state.session || state.fromForm)) { state.tries = 0; connect(); }
});

// On load: a kept session logs in by itself and brings back what was shown, then what was missed.
(function start() {
  const saved = read(STATE_KEY);
  if (saved && typeof saved.name === "string" && saved.name) {
    state.name = saved.name;
    state.since = typeof saved.since === "string" ? saved.since : "";
    state.partner = typeof saved.partner === "string" ? saved.partner : null;
    const lines = read(LINES_KEY);
    restore(Array.isArray(lines) ? lines.slice(-KEEP) : []);
    $("name").value = saved.name;
  }
  if (saved && typeof saved.session === "string" && saved.session) {
    state.session = saved.session;
    showApp();
    setPartner(state.partner);
    connect();
  } else {
    $("name").focus();
  }
})();
`;
