import { createInterface, type Interface } from "node:readline";
import { Writable } from "node:stream";
import { type ClientCommand, RelayClient, RelayError, type Welcome } from "../../client/mod.ts";
import type { ServerMessage } from "../../core/mod.ts";
import { decodeText, HELP_LINES } from "../../protocol/mod.ts";
import { parseHistory } from "./history.ts";
import { complete, prompt, renderError, renderMessage, type Style } from "./render.ts";
import { chatTransport } from "./transport.ts";

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

/** How often a quiet connection is checked; one that answers nothing for as long is dropped. */
const HEARTBEAT_MS = 20_000;

/** How the client waits between attempts: 0.5 s at first, doubling, at most 15 s (with jitter). */
const RECONNECT = { initialDelayMs: 500, maxDelayMs: 15_000 };

/**
 * A full-duplex terminal chat on `relay/client` (src/client): incoming lines print above the
 * input line, which keeps what is being typed; the prompt shows where a plain line goes.
 * The library logs in, matches replies to commands, and when the connection drops or the
 * server restarts it reconnects with backoff and resumes with the session secret and the
 * newest message id seen, so the server replays exactly what was missed (docs/protocol.md
 * §11). The session lives in this process only and is ended on `/quit`. `/who` prints one
 * page (at most 1000 names) with how many are online in all and, when more follow, the
 * command that prints the next page, `/who * <name>` (docs/protocol.md §12). Resolves with
 * the exit code when the user quits.
 */
export async function runChat(options: ChatOptions): Promise<number> {
  const style: Style = { color: options.color };
  const users = new Set<string>();
  const rooms = new Set<string>();
  const terminal = options.output.isTTY === true && options.input.isTTY === true;
  let name = options.name ?? "";
  let password = options.password;
  let partner: string | null = null;
  let client: RelayClient | null = null;
  let everLoggedIn = false;
  let stopping = false;
  let firstAttempts = 0;
  let firstRetry: ReturnType<typeof setTimeout> | undefined;

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
      clearTimeout(firstRetry);
      rl.close();
      // Stops reconnecting (and says quit if still logged in): nothing keeps the process up.
      void client?.close();
      resolve(code);
    };
  });

  const print = (line: string | null) => {
    if (line === null) return;
    if (terminal) {
      options.output.write("\r\u001b[2K");
      options.output.write(`${line}\n`);
      rl.prompt(true);
    } else {
      options.output.write(`${line}\n`);
    }
  };
  const show = (msg: ServerMessage) => print(renderMessage(msg, style, name));
  const showError = (error: unknown) => {
    const code = error instanceof RelayError ? error.code : "error";
    print(renderError(code, error instanceof Error ? error.message : String(error), style));
  };
  const refreshPrompt = () => {
    rl.setPrompt(prompt(client?.connected ? name : "", partner, style));
    if (terminal) rl.prompt(true);
  };

  /** Sends a command; prints its reply (or error) when it comes, and calls `then` on success. */
  const request = (command: ClientCommand, then?: () => void) => {
    if (!client) return;
    if (!client.connected) print("* not connected; it is sent once the connection is back");
    client.request(command).then(
      (reply) => {
        then?.();
        show(reply as ServerMessage);
        refreshPrompt();
      },
      (error: unknown) => {
        showError(error);
        refreshPrompt();
      },
    );
  };

  const onWelcome = (welcome: Welcome) => {
    name = welcome.name;
    users.clear();
    for (const u of welcome.users) users.add(u);
    // A v2 server keeps memberships across logins and says which; rooms it no longer
    // knows of (a server without a durable store restarted) are joined again.
    const kept = new Set(welcome.rooms ?? []);
    const again = everLoggedIn ? [...rooms].filter((r) => !kept.has(r)) : [];
    rooms.clear();
    for (const r of kept) rooms.add(r);
    show(welcome);
    for (const room of again) request({ type: "join", room }, () => rooms.add(room));
    everLoggedIn = true;
    refreshPrompt();
  };

  const makeClient = (): RelayClient => {
    const made = new RelayClient({
      transport: chatTransport(options.url),
      name,
      ...(password ? { password } : {}),
      heartbeatMs: HEARTBEAT_MS,
      reconnect: RECONNECT,
    });
    made.on("open", onWelcome);
    made.on("message", (m) => {
      if (m.from !== name) users.add(m.from);
      if (m.to !== "*" && !m.to.startsWith("#") && m.from !== name) partner = m.from;
      show(m);
      refreshPrompt();
    });
    made.on("presence", (p) => {
      if (p.status === "online") users.add(p.name);
      else users.delete(p.name);
      show(p);
    });
    made.on("joined", show);
    made.on("left", show);
    made.on("announce", show);
    made.on("bye", (bye) => {
      if (!stopping) show(bye);
    });
    made.on("reconnecting", ({ attempt, delayMs }) => {
      print(
        `* not connected to ${options.url}; trying again in ${(delayMs / 1000).toFixed(1)}s (attempt ${attempt})`,
      );
      refreshPrompt();
    });
    made.on("close", (info) => {
      refreshPrompt();
      if (info.reconnect || stopping) return;
      // The server ended the session (kicked, replaced), or reconnecting gave up.
      if (info.error && !(info.error instanceof RelayError && info.error.code === "closed")) {
        showError(info.error);
        return finish(1);
      }
      finish(0);
    });
    return made;
  };

  // Until the first login, a relay that is not up yet is waited for; a refused login ends.
  const start = async () => {
    if (stopping) return;
    client = makeClient();
    try {
      await client.connect();
    } catch (error) {
      if (stopping) return;
      if (error instanceof RelayError && error.code === "connect_failed") {
        const delay = Math.min(
          RECONNECT.maxDelayMs,
          RECONNECT.initialDelayMs * 2 ** firstAttempts++,
        );
        print(`* not connected to ${options.url}; trying again in ${(delay / 1000).toFixed(1)}s`);
        firstRetry = setTimeout(() => void start(), delay);
        return;
      }
      showError(error);
      if (error instanceof RelayError && error.code === "auth_failed" && !password) {
        print("  (try again with --ask-password)");
      }
      finish(1);
    }
  };

  const quit = async (reason?: string) => {
    if (stopping) return;
    stopping = true;
    // The secret lives only in this process: end it on the server too.
    await client?.close({ forget: true, ...(reason ? { reason } : {}) });
    print(renderMessage({ type: "bye", re: null, reason: "quit" }, style));
    finish(0);
  };

  rl.on("line", (raw) => {
    const line = raw.trimEnd();
    if (line.trim() === "") return refreshPrompt();
    if (line === "/help") {
      for (const l of HELP_LINES.slice(2)) print(l);
      return refreshPrompt();
    }
    const history = parseHistory(line, partner);
    if (history !== null && "error" in history) {
      show({ type: "error", re: null, code: "bad_command", message: history.error });
      return refreshPrompt();
    }
    if (history !== null) return request(history);
    const decoded = decodeText(line, true);
    if (!decoded.ok) {
      show({ type: "error", re: null, ...decoded.error });
      return refreshPrompt();
    }
    const { command } = decoded;
    switch (command.type) {
      case "quit":
        return void quit(command.reason);
      case "login":
        show({
          type: "error",
          re: null,
          code: "already_logged_in",
          message: `you are ${name} here; /quit, then start again as another name`,
        });
        return refreshPrompt();
      case "help":
        return refreshPrompt();
      case "say":
        if (!partner) {
          show({
            type: "error",
            re: null,
            code: "no_target",
            message: "choose who to talk to first: /to <name>",
          });
          return refreshPrompt();
        }
        // The prompt shows the partner: send there, whatever the server last heard of it.
        return request({ type: "msg", to: partner, text: command.text });
      case "to": {
        const target = command.name;
        return request(command, () => {
          partner = target;
        });
      }
      case "join":
        return request(command, () => rooms.add(command.room));
      case "leave":
        return request(command, () => {
          rooms.delete(command.room);
          if (partner?.toLowerCase() === command.room.toLowerCase()) partner = null;
        });
      case "who":
        return client?.request(command).then(
          (reply) => {
            for (const u of reply.users) users.add(u);
            show(reply);
            refreshPrompt();
          },
          (error: unknown) => showError(error),
        );
      default:
        return request(command);
    }
  });
  // Ctrl-D ends input; Ctrl-C interrupts: both leave cleanly.
  const leave = () => {
    if (stopping) return;
    if (client?.connected) void quit();
    else finish(0);
  };
  rl.on("close", leave);
  rl.on("SIGINT", leave);

  rl.setPrompt(prompt("", null, style));
  await start();
  return done;
}

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
