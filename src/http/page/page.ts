// The chat page: one document, no build step. It speaks the JSON mode of the protocol over
// /ws. Everything a peer sends is put on the page with textContent, never as HTML.
// (The script below avoids backquotes and dollar-brace so that it can live in this literal.)

const STYLE = `
:root { color-scheme: light dark; --bg: #f6f7f9; --panel: #fff; --ink: #1d2330; --dim: #6b7385;
  --line: #e2e5ea; --accent: #2f6fde; --mine: #e8f0fe; --err: #c62828; --room: #0b7a53; --all: #8e44ad; }
@media (prefers-color-scheme: dark) { :root { --bg: #14161b; --panel: #1c1f26; --ink: #e6e8ee;
  --dim: #8b93a5; --line: #2b303a; --accent: #6ea1ff; --mine: #23304a; --err: #ff6b6b;
  --room: #4cc38a; --all: #c58af9; } }
* { box-sizing: border-box; }
html, body { height: 100%; margin: 0; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg);
  color: var(--ink); display: flex; flex-direction: column; }
header { display: flex; align-items: center; gap: .75rem; padding: .6rem 1rem;
  background: var(--panel); border-bottom: 1px solid var(--line); }
header h1 { font-size: 1.05rem; margin: 0; }
#status { margin-left: auto; font-size: .85rem; color: var(--dim); }
#status.online::before { content: "● "; color: var(--room); }
#status.offline::before { content: "● "; color: var(--err); }
main { flex: 1; display: flex; min-height: 0; }
aside { width: 14rem; background: var(--panel); border-right: 1px solid var(--line);
  overflow-y: auto; padding: .75rem; }
aside h2 { font-size: .75rem; text-transform: uppercase; letter-spacing: .05em; color: var(--dim);
  margin: .75rem 0 .35rem; }
aside ul { list-style: none; margin: 0; padding: 0; }
aside li button { all: unset; display: block; width: 100%; padding: .25rem .4rem; border-radius: 4px;
  cursor: pointer; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
aside li { display: flex; align-items: center; }
aside li button:hover, aside li button.current { background: var(--mine); }
aside li button.leave { width: auto; padding: 0 .45rem; color: var(--dim); }
#join { display: flex; gap: .3rem; margin-top: .5rem; }
#join input { flex: 1; min-width: 0; }
section#chat { flex: 1; display: flex; flex-direction: column; min-width: 0; }
#log { flex: 1; overflow-y: auto; padding: .75rem 1rem; }
.line { margin: .15rem 0; word-wrap: break-word; white-space: pre-wrap; }
.line time { color: var(--dim); font-size: .8rem; margin-right: .4rem; font-variant-numeric: tabular-nums; }
.line .from { font-weight: 600; }
.line .where { color: var(--room); margin-right: .3rem; }
.line.all .where { color: var(--all); }
.line.mine { background: var(--mine); border-radius: 4px; padding: 0 .3rem; }
.line.info { color: var(--dim); font-size: .9rem; }
.line.error { color: var(--err); }
.line.announce { font-weight: 600; color: var(--accent); }
.line.held time::after { content: " held"; color: var(--accent); }
form#say { display: flex; gap: .5rem; padding: .6rem 1rem; border-top: 1px solid var(--line);
  background: var(--panel); align-items: center; }
#target { color: var(--dim); font-size: .85rem; white-space: nowrap; }
#target b { color: var(--ink); }
input, button { font: inherit; color: inherit; }
input { padding: .45rem .6rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); }
button { padding: .45rem .9rem; border: 0; border-radius: 6px; background: var(--accent); color: #fff;
  cursor: pointer; }
#text { flex: 1; min-width: 0; }
#login { margin: auto; background: var(--panel); padding: 1.5rem; border-radius: 10px;
  border: 1px solid var(--line); display: grid; gap: .6rem; width: min(22rem, 92vw); }
#login h2 { margin: 0 0 .3rem; font-size: 1.1rem; }
#login p { margin: 0; color: var(--dim); font-size: .85rem; }
#login .error { color: var(--err); min-height: 1.2em; }
[hidden] { display: none !important; }
@media (max-width: 640px) {
  main { flex-direction: column; }
  aside { width: auto; max-height: 9rem; border-right: 0; border-bottom: 1px solid var(--line); }
  aside ul { display: flex; flex-wrap: wrap; gap: .2rem; }
  aside li button { width: auto; }
  #target { display: none; }
}
`;

const SCRIPT = `
"use strict";
const $ = (id) => document.getElementById(id);
const state = { ws: null, name: "", password: "", partner: null, users: new Set(), rooms: new Set(),
  tries: 0, retry: null, stay: false, seq: 0, welcomed: false };

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function clock(ts, withDate) {
  const d = new Date(ts);
  return withDate ? d.toLocaleString() : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function show(line) {
  const log = $("log");
  const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.append(line);
  if (atEnd) log.scrollTop = log.scrollHeight;
}

function info(text, kind) { show(el("div", "line " + (kind || "info"), text)); }

function showMessage(m, mine) {
  const kind = m.to === "*" ? "all" : m.to.startsWith("#") ? "room" : "private";
  const line = el("div", "line " + kind + (mine ? " mine" : "") + (m.queued ? " held" : ""));
  const time = el("time", "", clock(m.ts, m.queued));
  time.dateTime = m.ts;
  line.append(time);
  if (kind === "room") line.append(el("span", "where", m.to));
  if (kind === "all") line.append(el("span", "where", "everyone"));
  if (kind === "private" && mine) line.append(el("span", "where", "to " + m.to));
  line.append(el("span", "from", m.from), document.createTextNode(": " + m.text));
  show(line);
}

function send(command) {
  if (!state.ws || state.ws.readyState !== 1) { info("not connected; retrying shortly", "error"); return null; }
  const id = String(++state.seq);
  state.ws.send(JSON.stringify(Object.assign({ id }, command)));
  return id;
}

const sentById = new Map();

function setPartner(target) {
  state.partner = target;
  $("target").replaceChildren(target ? document.createTextNode("to ") : "", target ? el("b", "", target) : "");
  $("text").placeholder = target ? "Message " + target : "Pick someone or a room, or type /help";
  renderLists();
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

function onEvent(m) {
  switch (m.type) {
    case "welcome":
      state.name = m.name; state.tries = 0; state.welcomed = true;
      state.users = new Set(m.users.concat([m.name]));
      $("login").hidden = true; $("app").hidden = false;
      $("me").textContent = m.name;
      setStatus("online", "online as " + m.name);
      info("welcome, " + m.name + (m.queued ? " — " + m.queued + " message(s) waited for you" : ""));
      for (const room of state.rooms) send({ type: "join", room });
      if (state.partner) send({ type: "to", name: state.partner });
      renderLists();
      $("text").focus();
      break;
    case "message":
      showMessage(m, false);
      if (m.to !== "*" && !m.to.startsWith("#")) setPartner(m.from);
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
    case "pong": info("pong"); break;
    case "ok": {
      const sent = sentById.get(m.re);
      sentById.delete(m.re);
      if (m.users && m.room) { state.rooms.add(m.room); info("you joined " + m.room + ": " + m.users.join(", ")); renderLists(); }
      else if (m.room) { state.rooms.delete(m.room); if (state.partner === m.room) setPartner(null); info("you left " + m.room); renderLists(); }
      if (sent) showMessage(Object.assign(sent, { id: m.id, ts: new Date().toISOString() }), true);
      if (m.queued) info((m.to || "they") + " is offline; the message is held for them");
      break;
    }
    case "error":
      sentById.delete(m.re);
      if (!state.welcomed) { $("login-error").textContent = m.message; setStatus("offline", "not logged in"); state.stay = true; state.ws.close(); }
      else info(m.code + ": " + m.message, "error");
      break;
    case "bye":
      info("disconnected: " + m.reason, "error");
      if (m.reason === "kicked" || m.reason === "replaced" || m.reason === "quit") state.stay = true;
      break;
  }
}

function setStatus(kind, text) { const s = $("status"); s.className = kind; s.textContent = text; }

function connect() {
  clearTimeout(state.retry);
  state.stay = false; state.welcomed = false;
  setStatus("", "connecting…");
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  state.ws = ws;
  ws.onopen = () => {
    const login = { type: "login", name: state.name };
    if (state.password) login.password = state.password;
    send(login);
  };
  ws.onmessage = (e) => { try { onEvent(JSON.parse(e.data)); } catch (err) { info("unreadable frame from the server", "error"); } };
  ws.onclose = () => {
    if (state.ws !== ws) return;
    state.ws = null;
    if (state.stay) { if (!state.welcomed) { $("login").hidden = false; } setStatus("offline", "disconnected"); return; }
    const delay = Math.min(30000, 500 * 2 ** state.tries++) * (0.75 + Math.random() / 2);
    setStatus("offline", "reconnecting in " + Math.round(delay / 1000) + "s");
    state.retry = setTimeout(connect, delay);
  };
}

function command(line) {
  const [word, ...rest] = line.slice(1).split(/\\s+/);
  const arg = rest.join(" ");
  const room = (r) => (r.startsWith("#") ? r : "#" + r);
  switch (word) {
    case "join": return arg ? send({ type: "join", room: room(arg) }) : info("usage: /join #room", "error");
    case "leave": return send({ type: "leave", room: room(arg || state.partner || "") });
    case "to": return arg ? choose(arg) : info("usage: /to name", "error");
    case "who": return send(arg ? { type: "who", room: room(arg) } : { type: "who" });
    case "rooms": return send({ type: "rooms" });
    case "ping": return send({ type: "ping" });
    case "all": return say("*", arg);
    case "msg": { const [to, ...text] = rest; return say(to, text.join(" ")); }
    case "quit": state.stay = true; return send({ type: "quit" });
    case "help":
      return info("/join #room · /leave #room · /to name · /msg name text · /all text · /who [#room] · /rooms · /ping · /quit — click a name or room to talk there; a private message makes its sender your partner");
    default: return info("unknown command /" + word + "; try /help", "error");
  }
}

function say(to, text) {
  if (!to || !text) return info("usage: /msg name text", "error");
  const id = send({ type: "msg", to, text });
  if (id) sentById.set(id, { type: "message", from: state.name, to, text });
}

$("login").onsubmit = (e) => {
  e.preventDefault();
  state.name = $("name").value.trim();
  state.password = $("password").value;
  $("login-error").textContent = "";
  if (state.name) connect();
};
$("say").onsubmit = (e) => {
  e.preventDefault();
  const text = $("text").value;
  if (!text.trim()) return;
  $("text").value = "";
  if (text.startsWith("/") && !text.startsWith("//")) return command(text);
  const body = text.startsWith("//") ? text.slice(1) : text;
  if (!state.partner) return info("pick someone or a room first (click a name, or /to name)", "error");
  say(state.partner, body);
};
$("join").onsubmit = (e) => {
  e.preventDefault();
  const r = $("room").value.trim();
  if (r) send({ type: "join", room: r.startsWith("#") ? r : "#" + r });
  $("room").value = "";
};
$("name").focus();
`;

/** The chat page served at `/`. */
export const CHAT_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>relay</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>relay</h1><span id="me"></span><span id="status">not connected</span></header>
<form id="login" autocomplete="on">
  <h2>Join the chat</h2>
  <input id="name" name="username" placeholder="Your name" maxlength="32" required autocomplete="username">
  <input id="password" name="password" type="password" placeholder="Password (optional)" autocomplete="current-password">
  <p>A password protects your name: from then on, only you can use it.</p>
  <button type="submit">Log in</button>
  <div id="login-error" class="error" role="alert"></div>
</form>
<main id="app" hidden>
  <aside>
    <h2>Online</h2><ul id="users"></ul>
    <h2>Rooms</h2><ul id="rooms"></ul>
    <form id="join"><input id="room" placeholder="#room" aria-label="Room to join"><button>Join</button></form>
  </aside>
  <section id="chat">
    <div id="log" aria-live="polite"></div>
    <form id="say"><span id="target"></span><input id="text" autocomplete="off" aria-label="Message" placeholder="Pick someone or a room, or type /help"><button>Send</button></form>
  </section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
