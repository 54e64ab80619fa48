/** The chat page's style sheet: light and dark, wide and phone-sized screens. */
export const PAGE_STYLE = `
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
#logout { padding: .25rem .7rem; font-size: .85rem; background: transparent; color: var(--dim);
  border: 1px solid var(--line); }
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
.line.replay time::after { content: " missed"; color: var(--accent); }
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
