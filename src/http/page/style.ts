/**
 * The chat page's style sheet, served as /app.css: light and dark, a sidebar of
 * conversations beside the timeline on wide screens, one or the other on a phone, and a
 * visible focus everywhere.
 */
export const PAGE_STYLE = `:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --panel: #fff; --ink: #1d2330; --dim: #5f6779; --line: #e2e5ea;
  --accent: #2f6fde; --on-accent: #fff; --mine: #e8f0fe; --hover: #f0f2f5; --err: #c62828;
  --ok: #0b7a53;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14161b; --panel: #1c1f26; --ink: #e6e8ee; --dim: #9aa2b3; --line: #2b303a;
    --accent: #7aa8ff; --on-accent: #0b1020; --mine: #23304a; --hover: #252a33; --err: #ff7b7b;
    --ok: #4cc38a;
  }
}
* { box-sizing: border-box; }
html, body { height: 100%; margin: 0; }
body {
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  background: var(--bg); color: var(--ink); display: flex; flex-direction: column;
}
[hidden] { display: none !important; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
input, button { font: inherit; color: inherit; }
input {
  padding: .45rem .6rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg);
  min-width: 0;
}
input:focus-visible { outline-offset: 0; }
button {
  padding: .45rem .9rem; border: 0; border-radius: 6px; background: var(--accent);
  color: var(--on-accent); cursor: pointer;
}
button:disabled { opacity: .6; cursor: default; }
button.quiet {
  background: transparent; color: var(--dim); border: 1px solid var(--line); padding: .25rem .7rem;
  font-size: .85rem;
}
h2 { margin: 0; }
.visually-hidden {
  position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%);
  white-space: nowrap;
}
.skip { position: absolute; left: -999px; top: .5rem; background: var(--panel); padding: .4rem .8rem; z-index: 2; }
.skip:focus { left: .5rem; }
.noscript { margin: 2rem auto; max-width: 30rem; }

header {
  display: flex; align-items: center; gap: .75rem; padding: .5rem 1rem; background: var(--panel);
  border-bottom: 1px solid var(--line); flex-wrap: wrap;
}
header h1 { font-size: 1.05rem; margin: 0; }
#me { font-weight: 600; }
#status { margin-left: auto; font-size: .85rem; color: var(--dim); }
#status.online::before { content: "● "; color: var(--ok); }
#status.offline::before { content: "● "; color: var(--err); }
#resume { padding: .25rem .7rem; font-size: .85rem; }
.toggle { font-size: .85rem; color: var(--dim); display: flex; align-items: center; gap: .3rem; cursor: pointer; }

#login {
  margin: auto; background: var(--panel); padding: 1.5rem; border-radius: 10px;
  border: 1px solid var(--line); display: grid; gap: .5rem; width: min(24rem, 92vw);
}
#login h2 { font-size: 1.15rem; margin-bottom: .3rem; }
#login label { font-size: .85rem; color: var(--dim); }
#login p { margin: 0; color: var(--dim); font-size: .85rem; }
#login .error { color: var(--err); min-height: 1.2em; }

#app {
  flex: 1; min-height: 0; display: grid;
  grid-template-columns: 16rem minmax(0, 1fr) auto;
}
#sidebar {
  background: var(--panel); border-right: 1px solid var(--line); overflow-y: auto; padding: .5rem;
}
#sidebar h2 {
  font-size: .75rem; text-transform: uppercase; letter-spacing: .05em; color: var(--dim);
  margin: .75rem .5rem .3rem;
}
#sidebar ul, #members ul { list-style: none; margin: 0; padding: 0; }
.conv {
  display: block; width: 100%; text-align: left; background: transparent; color: inherit;
  border-radius: 6px; padding: .35rem .5rem;
}
.conv:hover { background: var(--hover); }
.conv.current { background: var(--mine); }
.conv-top { display: flex; align-items: center; gap: .45rem; }
.conv-name { flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.conv.unread .conv-name { font-weight: 700; }
.conv-last {
  display: block; color: var(--dim); font-size: .8rem; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap;
}
.badge {
  background: var(--accent); color: var(--on-accent); border-radius: 999px; font-size: .75rem;
  font-weight: 700; padding: 0 .45rem; min-width: 1.4rem; text-align: center;
}
.dot {
  flex: none; width: .55rem; height: .55rem; border-radius: 50%; border: 1px solid var(--dim);
}
.dot.online { background: var(--ok); border-color: var(--ok); }
#join { display: flex; gap: .3rem; margin: .5rem .25rem; }
#join input { flex: 1; }

#chat { display: flex; flex-direction: column; min-width: 0; min-height: 0; }
#chat-head {
  display: flex; align-items: center; gap: .6rem; padding: .5rem 1rem; min-height: 3rem;
  border-bottom: 1px solid var(--line); background: var(--panel);
}
#title { font-size: 1rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
#subtitle { color: var(--dim); font-size: .85rem; }
#leave { margin-left: auto; }
#back { display: none; }
#timeline { flex: 1; overflow-y: auto; padding: .5rem 1rem; position: relative; }
.timeline-top { text-align: center; padding: .5rem; color: var(--dim); font-size: .85rem; }
.timeline-top .older { background: transparent; color: var(--accent); border: 1px solid var(--line); }
.empty { color: var(--dim); text-align: center; margin-top: 20vh; }
.day {
  display: flex; align-items: center; gap: .75rem; color: var(--dim); font-size: .8rem;
  margin: .9rem 0 .3rem;
}
.day::before, .day::after { content: ""; flex: 1; border-top: 1px solid var(--line); }
.new-marker {
  color: var(--err); border-top: 1px solid var(--err); font-size: .75rem; text-align: right;
  margin: .4rem 0;
}
.msg { padding: .2rem .5rem; border-radius: 6px; margin-top: .35rem; }
.msg.grouped { margin-top: 0; padding-top: 0; }
.msg:hover { background: var(--hover); }
.msg-head { display: flex; align-items: baseline; gap: .5rem; flex-wrap: wrap; }
.msg .from { font-weight: 600; }
.msg.mine .from { color: var(--accent); }
.msg time { color: var(--dim); font-size: .78rem; font-variant-numeric: tabular-nums; }
.msg .text { white-space: pre-wrap; overflow-wrap: anywhere; }
.mark {
  font-size: .72rem; color: var(--accent); border: 1px solid currentColor; border-radius: 999px;
  padding: 0 .4rem;
}
.msg.pending .text { opacity: .7; }
.msg.failed .mark, .msg.unsure .mark { color: var(--err); }
.note { color: var(--dim); font-size: .88rem; margin: .3rem .5rem; white-space: pre-wrap; overflow-wrap: anywhere; }
.note.error { color: var(--err); }
.note.announce { color: var(--accent); font-weight: 600; }
#notice { padding: .25rem 1rem; border-top: 1px solid var(--line); max-height: 40vh; overflow-y: auto; }
#notice p { margin: .2rem 0; }
#say {
  display: flex; gap: .5rem; padding: .6rem 1rem; border-top: 1px solid var(--line);
  background: var(--panel);
}
#text { flex: 1; }

#members {
  width: 12rem; background: var(--panel); border-left: 1px solid var(--line); overflow-y: auto;
  padding: .5rem;
}
#members h2 { font-size: .75rem; text-transform: uppercase; letter-spacing: .05em; color: var(--dim); margin: .75rem .5rem .3rem; }
.member {
  display: block; width: 100%; text-align: left; background: transparent; color: inherit;
  padding: .2rem .5rem; border-radius: 6px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
}
button.member:hover { background: var(--hover); }
.member.me { color: var(--dim); }
#members-more { display: block; width: 100%; margin-top: .4rem; font-size: .85rem; }
#members-rest { color: var(--dim); font-size: .85rem; margin: .4rem .5rem; }

@media (max-width: 760px) {
  header { padding: .4rem .75rem; gap: .5rem; }
  header h1 { display: none; }
  .wide-only { display: none; }
  #app { grid-template-columns: minmax(0, 1fr); }
  #members { display: none !important; }
  #app.list #chat { display: none; }
  #app:not(.list) #sidebar { display: none; }
  #sidebar { border-right: 0; }
  .conv { padding: .6rem .5rem; }
  #back { display: inline-flex; align-items: center; gap: .3rem; font-size: 1rem; }
  #chat-head { padding: .4rem .75rem; }
  #timeline { padding: .5rem .6rem; }
  #say { padding: .5rem .6rem; }
}
`;
