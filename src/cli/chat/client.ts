import { createInterface, type Interface } from "node:readline";
import { Writable } from "node:stream";
import type { ServerMessage } from "../../core/mod.ts";
import { type Decoded, decodeText, HELP_LINES } from "../../protocol/mod.ts";
import { parseHistory } from "./history.ts";
import { complete, prompt, renderMessage, type Style } from "./render.ts";
import { backoff, Resume } from "./resume.ts";
import { openTransport, type Transport } from "./transport.ts";

/** What `relay chat` was asked to do. */
export interface ChatOptions {
  url: string;
  name?: string;
  password?: string;
  /** Ask for the password without echoing it. */
  askPassword?: boolean;
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean };
  color: boolean;
}

/** How often a quiet connection is checked, and how long a `ping` may go unanswered. */
const HEARTBEAT_MS = 20_000;

/**
 * A full-duplex terminal chat: incoming lines print above the input line, which keeps
 * what is being typed; the prompt shows where a plain line goes. When the connection
 * drops or the server restarts, it reconnects with backoff and logs in again with the
 * session secret of the last `welcome` and the newest message id it has shown, so the
 * server replays exactly what was missed (docs/protocol.md §11). Resolves with the exit code
 * when the user quits.
 */
export async function runChat(options: ChatOptions): Promise<number> {
  const style: Style = { color: options.color };
  const users = new Set<string>();
  const rooms = new Set<string>();
  const terminal = options.output.isTTY === true && options.input.isTTY === true;
  const resume = new Resume();
  let name = options.name ?? "";
  let password = options.password;
  let partner: string | null = null;
  let transport: Transport | null = null;
  let loggedIn = false;
  let everLoggedIn = false;
  let loginWithSession = false;
  let stopping = false;
  let attempts = 0;
  let seq = 0;
  let heartbeat: string | null = null;
  let heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  const pendingTo = new Map<string, string>();

  const rl: Interface = createInterface({
    input: options.input,
    output: options.output,
    terminal,
    completer: (line: string) => complete(line, { users, rooms }),
  });
  if (!name) name = (await ask(rl, "name: ")).trim();
  if (password === undefined && options.askPassword) {
    password = await askHidden(options, `password for ${name}: `);
  }

  let finish: (code: number) => void = () => {};
  let finished = false;
  const done = new Promise<number>((resolve) => {
    finish = (code) => {
      if (finished) return;
      finished = true;
      stopping = true;
      clearInterval(heartbeatTimer);
      clearTimeout(retryTimer);
      rl.close();
      resolve(code);
    };
  });

  const print = (line: string) => {
    if (terminal) {
      options.output.write("\r\u001b[2K");
      options.output.write(`${line}\n`);
      rl.prompt(true);
    } else {
      options.output.write(`${line}\n`);
    }
  };
  const refreshPrompt = () => {
    rl.setPrompt(prompt(loggedIn ? name : "", partner, style));
    if (terminal) rl.prompt(true);
  };
  const send = (command: object): string => {
    const id = String(++seq);
    transport?.send({ ...command, id });
    return id;
  };
  const sendLogin = () => {
    const login = resume.login(name, password);
    loginWithSession = login.session !== undefined;
    send(login);
  };
  /** Drops the connection at once (it went quiet, or the login cannot go on there). */
  const drop = () => transport?.close();

  const onWelcome = (msg: Extract<ServerMessage, { type: "welcome" }>) => {
    name = msg.name;
    loggedIn = true;
    attempts = 0;
    resume.welcomed(msg.session);
    users.clear();
    for (const u of msg.users) users.add(u);
    // A v2 server keeps memberships across logins and says which; rooms it no longer
    // knows of (a server without a durable store restarted) are joined again.
    const kept = new Set(msg.rooms ?? []);
    const again = everLoggedIn ? [...rooms].filter((r) => !kept.has(r)) : [];
    rooms.clear();
    for (const r of kept) rooms.add(r);
    print(renderMessage(msg, style, name) ?? "");
    for (const r of again) send({ type: "join", room: r });
    everLoggedIn = true;
    refreshPrompt();
  };

  const onLoginError = (msg: Extract<ServerMessage, { type: "error" }>) => {
    if (msg.code === "auth_failed" && loginWithSession) {
      // The session ended (expired, forgotten, or a server that lost its store): log in
      // as at first, on the same connection.
      resume.forgetSession();
      print(`* the session ended; logging in again as ${name}`);
      sendLogin();
      return;
    }
    print(renderMessage(msg, style) ?? "");
    if (everLoggedIn && msg.code !== "auth_failed") {
      // Coming back (the old connection may still hold the name): try again later.
      drop();
      return;
    }
    if (msg.code === "auth_failed" && !password) print("  (try again with --ask-password)");
    finish(1);
  };

  const onMessage = (msg: ServerMessage) => {
    switch (msg.type) {
      case "welcome":
        return onWelcome(msg);
      case "presence":
        if (msg.status === "online") users.add(msg.name);
        else users.delete(msg.name);
        break;
      case "message":
        resume.saw(msg.id);
        if (msg.from !== name) users.add(msg.from);
        if (msg.to !== "*" && !msg.to.startsWith("#") && msg.from !== name) {
          partner = msg.from;
          refreshPrompt();
        }
        break;
      case "ok": {
        resume.saw(msg.id);
        const target = msg.re === null ? undefined : pendingTo.get(msg.re);
        if (target !== undefined) {
          pendingTo.delete(msg.re as string);
          partner = target;
          refreshPrompt();
        }
        if (msg.users && msg.room) rooms.add(msg.room);
        else if (msg.room) rooms.delete(msg.room);
        break;
      }
      case "pong":
        if (msg.re !== null && msg.re === heartbeat) {
          heartbeat = null;
          return;
        }
        break;
      case "who":
        for (const u of msg.users) users.add(u);
        break;
      case "error":
        if (!loggedIn) return onLoginError(msg);
        break;
      case "bye":
        if (msg.reason === "kicked" || msg.reason === "replaced") stopping = true;
        break;
    }
    const line = renderMessage(msg, style, name);
    if (line !== null) print(line);
  };

  const connect = async () => {
    retryTimer = undefined;
    if (stopping || transport) return;
    // Events of a connection that is no longer the current one are not ours to handle.
    let opened: Transport | null = null;
    try {
      opened = await openTransport(options.url, {
        message: (msg) => {
          if (transport === opened) onMessage(msg);
        },
        closed: () => {
          if (transport === opened) onClosed();
        },
      });
    } catch {
      return retry();
    }
    if (stopping) return opened.close();
    transport = opened;
    heartbeat = null;
    clearInterval(heartbeatTimer);
    heartbeatTimer = setInterval(beat, HEARTBEAT_MS);
    heartbeatTimer.unref?.();
    sendLogin();
  };
  // A connection that answers no ping for a whole period is dead even if no socket said so.
  const beat = () => {
    if (!transport || !loggedIn) return;
    if (heartbeat !== null) return drop();
    heartbeat = send({ type: "ping" });
  };
  const onClosed = () => {
    transport = null;
    clearInterval(heartbeatTimer);
    const was = loggedIn;
    loggedIn = false;
    pendingTo.clear();
    if (stopping) return finish(0);
    if (!everLoggedIn && !was && attempts === 0) print("! could not log in");
    refreshPrompt();
    retry();
  };
  const retry = () => {
    if (stopping || retryTimer !== undefined) return;
    const delay = backoff(attempts++);
    print(`* not connected to ${options.url}; trying again in ${(delay / 1000).toFixed(1)}s`);
    retryTimer = setTimeout(() => void connect(), delay);
  };
  const quit = (reason?: string) => {
    stopping = true;
    // The secret lives only in this process: end it on the server too.
    transport?.send({ type: "quit", ...(reason ? { reason } : {}), forget: true });
    resume.forgetSession();
    // The server answers bye and closes; one that is gone without a word does not.
    setTimeout(() => finish(0), 2000).unref?.();
  };

  rl.on("line", (raw) => {
    const line = raw.trimEnd();
    if (line.trim() === "") return refreshPrompt();
    if (line === "/help") {
      for (const l of HELP_LINES.slice(2)) print(l);
      if (!HELP_LINES.some((l) => l.includes("/history"))) print(HISTORY_HELP);
      return refreshPrompt();
    }
    const history = parseHistory(line, partner);
    if (history !== null && "error" in history) {
      print(
        renderMessage(
          { type: "error", re: null, code: "bad_command", message: history.error },
          style,
        ) ?? "",
      );
      return refreshPrompt();
    }
    const decoded: Decoded = history
      ? { ok: true, command: history, re: null }
      : decodeText(line, true);
    if (!decoded.ok) {
      print(renderMessage({ type: "error", re: null, ...decoded.error }, style) ?? "");
      return refreshPrompt();
    }
    const { command } = decoded;
    if (command.type === "quit") {
      if (!transport) return finish(0);
      return quit(command.reason);
    }
    if (!transport || !loggedIn) {
      print("! not connected; the line was not sent");
      return refreshPrompt();
    }
    if (command.type === "say") {
      if (!partner) {
        print("! no_target: choose who to talk to first: /to <name>");
        return refreshPrompt();
      }
      // The prompt shows the partner: send there, whatever the server last heard of it.
      send({ type: "msg", to: partner, text: command.text });
      return refreshPrompt();
    }
    const id = send(command);
    if (command.type === "to") pendingTo.set(id, command.name);
    refreshPrompt();
  });
  // Ctrl-D ends input; Ctrl-C interrupts: both leave cleanly.
  const leave = () => {
    if (stopping) return;
    if (transport && loggedIn) {
      quit();
    } else {
      stopping = true;
      finish(0);
    }
  };
  rl.on("close", leave);
  rl.on("SIGINT", leave);

  rl.setPrompt(prompt("", null, style));
  await connect();
  return done;
}

const HISTORY_HELP = "*   /history <name|#room|*> [n] the last n messages (50) of a conversation";

function ask(rl: Interface, question: string): Promise<string> {
  return new Promise((resolve) => rl.question(question, resolve));
}

/** Reads one line without echoing it (for passwords). */
function askHidden(options: ChatOptions, question: string): Promise<string> {
  options.output.write(question);
  const muted = new Writable({ write: (_chunk, _enc, next) => next() });
  const rl = createInterface({
    input: options.input,
    output: muted,
    terminal: options.input.isTTY === true,
  });
  return new Promise((resolve) => {
    rl.question("", (answer) => {
      rl.close();
      options.output.write("\n");
      resolve(answer);
    });
  });
}
