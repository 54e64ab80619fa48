import { createInterface, type Interface } from "node:readline";
import { Writable } from "node:stream";
import type { ServerMessage } from "../../core/mod.ts";
import { decodeText, HELP_LINES } from "../../protocol/mod.ts";
import { complete, prompt, renderMessage, type Style } from "./render.ts";
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

const MAX_BACKOFF_MS = 15_000;

/**
 * A full-duplex terminal chat: incoming lines print above the input line, which keeps
 * what is being typed; the prompt shows where a plain line goes. Resolves with the exit
 * code when the user quits.
 */
export async function runChat(options: ChatOptions): Promise<number> {
  const style: Style = { color: options.color };
  const users = new Set<string>();
  const rooms = new Set<string>();
  const terminal = options.output.isTTY === true && options.input.isTTY === true;
  let name = options.name ?? "";
  let password = options.password;
  let partner: string | null = null;
  let transport: Transport | null = null;
  let loggedIn = false;
  let everLoggedIn = false;
  let stopping = false;
  let attempts = 0;
  let seq = 0;
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
  const done = new Promise<number>((resolve) => {
    finish = (code) => {
      stopping = true;
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

  const onMessage = (msg: ServerMessage) => {
    switch (msg.type) {
      case "welcome":
        name = msg.name;
        loggedIn = true;
        attempts = 0;
        users.clear();
        for (const u of msg.users) users.add(u);
        if (everLoggedIn) {
          print(renderMessage({ ...msg }, style) ?? "");
          for (const r of rooms) send({ type: "join", room: r });
          if (partner) send({ type: "to", name: partner });
          refreshPrompt();
          return;
        }
        everLoggedIn = true;
        refreshPrompt();
        break;
      case "presence":
        if (msg.status === "online") users.add(msg.name);
        else users.delete(msg.name);
        break;
      case "message":
        users.add(msg.from);
        if (msg.to !== "*" && !msg.to.startsWith("#")) {
          partner = msg.from;
          refreshPrompt();
        }
        break;
      case "ok": {
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
      case "who":
        for (const u of msg.users) users.add(u);
        break;
      case "error":
        if (!loggedIn) {
          print(renderMessage(msg, style) ?? "");
          if (msg.code === "auth_failed" && !password) print("  (try again with --ask-password)");
          finish(1);
          return;
        }
        break;
      case "bye":
        if (msg.reason === "kicked" || msg.reason === "replaced") stopping = true;
        break;
    }
    const line = renderMessage(msg, style);
    if (line !== null) print(line);
  };

  const connect = async () => {
    try {
      transport = await openTransport(options.url, { message: onMessage, closed: onClosed });
    } catch {
      return retry();
    }
    send({ type: "login", name, ...(password ? { password } : {}) });
  };
  const onClosed = () => {
    transport = null;
    const was = loggedIn;
    loggedIn = false;
    if (stopping) return finish(0);
    if (!everLoggedIn && !was && attempts === 0) print("! could not log in");
    retry();
  };
  const retry = () => {
    if (stopping) return;
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempts++);
    print(`* not connected to ${options.url}; trying again in ${(delay / 1000).toFixed(1)}s`);
    setTimeout(() => void connect(), delay);
  };

  rl.on("line", (raw) => {
    const line = raw.trimEnd();
    if (line.trim() === "") return refreshPrompt();
    if (line === "/help") {
      for (const l of HELP_LINES.slice(2)) print(l);
      return refreshPrompt();
    }
    const decoded = decodeText(line, true);
    if (!decoded.ok) {
      print(renderMessage({ type: "error", re: null, ...decoded.error }, style) ?? "");
      return refreshPrompt();
    }
    const { command } = decoded;
    if (command.type === "quit") {
      stopping = true;
      if (transport) transport.send(command);
      else finish(0);
      return;
    }
    if (!transport || !loggedIn) {
      print("! not connected; the line was not sent");
      return refreshPrompt();
    }
    if (command.type === "say" && !partner) {
      print("! no_target: choose who to talk to first: /to <name>");
      return refreshPrompt();
    }
    const id = send(command);
    if (command.type === "to") pendingTo.set(id, command.name);
    refreshPrompt();
  });
  // Ctrl-D ends input; Ctrl-C interrupts: both leave cleanly.
  const leave = () => {
    if (stopping) return;
    stopping = true;
    if (transport && loggedIn) {
      transport.send({ type: "quit" });
      setTimeout(() => finish(0), 1000).unref?.();
    } else {
      finish(0);
    }
  };
  rl.on("close", leave);
  rl.on("SIGINT", leave);

  rl.setPrompt(prompt("", null, style));
  await connect();
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
