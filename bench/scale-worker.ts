// A worker process of the scale bench: holds a share of many idle TCP clients (JSON mode),
// each bound to a loopback source address of its own choosing, logs them in until told to
// halt or until one fails, then makes some of them join rooms and chat, and reports how many
// messages arrived and how late. It ends with its parent (an IPC disconnect) or on `close`.

import { connect, type Socket } from "node:net";
import { relayDialect } from "./dialects.ts";
import { BIN_MS, BINS } from "./histogram.ts";

/** What the parent asks of a scale worker. */
export type ScaleCommand =
  | {
      cmd: "login";
      host: string;
      port: number;
      /** The names to log in, in order. */
      names: string[];
      /**
       * Where clients connect from: the n-th attempt of this worker (retries count) binds to
       * `addresses[n % addresses.length]`, port `firstPort + floor(n / addresses.length)`,
       * up to `lastPort`. Explicit ports: the kernel's own choice (port 0) searches longer
       * and longer as an address fills up (measured on one address, 2,500 binds cost 0.9 s
       * of system time up to 7,500 clients and 9.4 s from 7,500 to 10,000; explicit, 0.2 s).
       */
      addresses: string[];
      firstPort: number;
      lastPort: number;
      /** Logins in flight at once. */
      parallel: number;
      /** A login without `welcome` by then counts as failed. */
      timeoutMs: number;
    }
  /** Stop starting logins; the `login` command then answers once those in flight end. */
  | { cmd: "halt" }
  /** Clients (by index among those logged in, in login order) join a room each. */
  | { cmd: "join"; members: { index: number; room: string }[] }
  /**
   * Every sender sends one message to its room every `intervalMs` (each at its own phase)
   * for `durationMs`; every client of this worker counts what reaches it.
   */
  | {
      cmd: "chat";
      senders: { index: number; room: string }[];
      intervalMs: number;
      durationMs: number;
    }
  /** Closes the `count` clients logged in last. */
  | { cmd: "release"; count: number }
  | { cmd: "close" };

/** Why a client could not log in, as the load generator saw it. */
export interface LoginFailure {
  /** The client's name and source address. */
  name: string;
  address: string;
  /** What happened: an errno (EMFILE, ECONNREFUSED...), a line from the server, or a timeout. */
  reason: string;
}

/** What a scale worker answers. */
export type ScaleReply =
  | { kind: "progress"; ok: number }
  | {
      kind: "logged";
      ok: number;
      ms: number;
      failure: LoginFailure | null;
      /** How long logins took, from connect to welcome: [ms, count] pairs. */
      took: [number, number][];
      /** Clients logged in that the server closed since (all commands count them). */
      dropped: number;
    }
  | { kind: "joined"; ok: number; failure: string | null }
  | {
      kind: "chatted";
      /** Messages sent, per room. */
      sent: Record<string, number>;
      received: number;
      /** Replies refusing a message (`error` lines), by code. */
      refused: Record<string, number>;
      histogram: [number, number][];
      /** The most this process's send timer ran late (ms): the load generator's share. */
      lagMax: number;
      dropped: number;
    }
  | { kind: "released"; ok: number }
  | { kind: "error"; message: string };

/** A logged-in client: its socket and what it is waiting for. */
interface Client {
  socket: Socket;
  /** Called with each line while a join is pending; returns true when the line settled it. */
  pending: ((line: string) => boolean) | null;
}

const clients: Client[] = [];
let halted = false;
/** Connection attempts so far: each takes the next source address and port. */
let attempts = 0;
let closing = false;
let dropped = 0;
let measuring = false;
let received = 0;
const refused: Record<string, number> = {};
const histogram = new Uint32Array(BINS);
const now = () => performance.timeOrigin + performance.now();

function onLine(client: Client, line: string): void {
  if (client.pending?.(line)) {
    client.pending = null;
    return;
  }
  if (!measuring) return;
  const text = relayDialect.text(line);
  if (text !== null) {
    const colon = text.indexOf(":");
    if (text.slice(0, colon) !== String(run)) return;
    received++;
    const sentAt = Number(text.slice(colon + 1));
    const bin = Math.min(BINS - 1, Math.max(0, Math.floor((now() - sentAt) / BIN_MS)));
    histogram[bin] = (histogram[bin] as number) + 1;
  } else if (line.startsWith('{"type":"error"')) {
    const code = /"code":"([^"]+)"/.exec(line)?.[1] ?? "?";
    refused[code] = (refused[code] ?? 0) + 1;
  }
}

/** Opens one client and logs it in; resolves with it, or with why not. */
function login(
  c: Extract<ScaleCommand, { cmd: "login" }>,
  name: string,
  address: string,
  localPort: number,
): Promise<Client | string> {
  return new Promise((resolve) => {
    const socket = connect({ host: c.host, port: c.port, localAddress: address, localPort });
    const client: Client = { socket, pending: null };
    let settled = false;
    const settle = (outcome: Client | string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (typeof outcome === "string") socket.destroy();
      else
        socket.once("close", () => {
          if (!closing) dropped++;
        });
      resolve(outcome);
    };
    const timer = setTimeout(
      () => settle(`no welcome within ${c.timeoutMs / 1000} s`),
      c.timeoutMs,
    );
    socket.setNoDelay(true);
    socket.setEncoding("utf8");
    let partial = "";
    socket.on("data", (data: string) => {
      const lines = (partial + data).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (settled) onLine(client, line);
        else if (line.startsWith('{"type":"welcome"')) settle(client);
        else settle(`the server answered ${JSON.stringify(line.slice(0, 120))}`);
      }
    });
    socket.once("connect", () => socket.write(relayDialect.login(name, null)));
    socket.on("error", (e: NodeJS.ErrnoException) =>
      settle(`${e.code ?? e.message} (${e.syscall ?? "socket"})`),
    );
    socket.once("close", () => settle("closed by the server before welcome"));
  });
}

async function loginAll(c: Extract<ScaleCommand, { cmd: "login" }>): Promise<ScaleReply> {
  const start = now();
  const took = new Map<number, number>();
  let next = 0;
  let failure: LoginFailure | null = null;
  const progress = setInterval(() => tell({ kind: "progress", ok: clients.length }), 250);
  const lane = async () => {
    while (!halted && failure === null && next < c.names.length) {
      const i = next++;
      const name = c.names[i] as string;
      let address = "";
      const attempt = () => {
        const n = attempts++;
        const port = c.firstPort + Math.floor(n / c.addresses.length);
        address = c.addresses[n % c.addresses.length] as string;
        if (port > c.lastPort)
          return Promise.resolve(`no source port left (${c.firstPort}-${c.lastPort})`);
        return login(c, name, address, port);
      };
      // One retry, a moment later: a reset in a storm of connections is not yet a limit.
      const began = now();
      let outcome = await attempt();
      if (typeof outcome === "string" && !halted) {
        await new Promise((r) => setTimeout(r, 200));
        outcome = await attempt();
      }
      if (typeof outcome === "string") failure ??= { name, address, reason: outcome };
      else {
        clients.push(outcome);
        const ms = Math.round(now() - began);
        took.set(ms, (took.get(ms) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: c.parallel }, lane));
  clearInterval(progress);
  return {
    kind: "logged",
    ok: clients.length,
    ms: now() - start,
    failure,
    took: [...took],
    dropped,
  };
}

async function joinAll(c: Extract<ScaleCommand, { cmd: "join" }>): Promise<ScaleReply> {
  let ok = 0;
  let failure: string | null = null;
  await Promise.all(
    c.members.map(
      ({ index, room }) =>
        new Promise<void>((resolve) => {
          const client = clients[index] as Client;
          const timer = setTimeout(() => {
            client.pending = null;
            failure ??= `no answer to a join within 10 s`;
            resolve();
          }, 10_000);
          client.pending = (line) => {
            if (line.startsWith('{"type":"ok"') && line.includes('"users"')) ok++;
            else if (line.startsWith('{"type":"error"')) failure ??= line.slice(0, 160);
            else return false; // an event (someone else joined): not the answer yet
            clearTimeout(timer);
            resolve();
            return true;
          };
          client.socket.write(`{"type":"join","room":"${room}"}\n`);
        }),
    ),
  );
  return { kind: "joined", ok, failure };
}

/** The chat run under way: only its messages count (a late one from the warm-up does not). */
let run = 0;

async function chat(c: Extract<ScaleCommand, { cmd: "chat" }>): Promise<ScaleReply> {
  received = 0;
  histogram.fill(0);
  for (const code of Object.keys(refused)) delete refused[code];
  run++;
  measuring = true;
  const start = now();
  const due = c.senders.map(() => start + Math.random() * c.intervalMs);
  const sent: Record<string, number> = {};
  // How late this process's own timers run: what of the latency is the load generator's.
  let lagMax = 0;
  let lastTick = start;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const t = now();
      lagMax = Math.max(lagMax, t - lastTick - 5);
      lastTick = t;
      c.senders.forEach(({ index, room }, k) => {
        if ((due[k] as number) > t || (due[k] as number) >= start + c.durationMs) return;
        const text = `${run}:${t.toFixed(3)}`;
        (clients[index] as Client).socket.write(relayDialect.message(room, text));
        sent[room] = (sent[room] ?? 0) + 1;
        due[k] = (due[k] as number) + c.intervalMs;
      });
      if (t >= start + c.durationMs) {
        clearInterval(tick);
        resolve();
      }
    }, 5);
  });
  // Drain: until nothing more arrives for a second (at most 5 s).
  const drainEnd = now() + 5000;
  let last = -1;
  while (received !== last && now() < drainEnd) {
    last = received;
    await new Promise((r) => setTimeout(r, 1000));
  }
  measuring = false;
  const bins: [number, number][] = [];
  histogram.forEach((n, i) => {
    if (n > 0) bins.push([i, n]);
  });
  return {
    kind: "chatted",
    sent,
    received,
    refused: { ...refused },
    histogram: bins,
    lagMax,
    dropped,
  };
}

/** Answers the parent, while there is one (a write to a gone parent would throw EPIPE). */
function tell(reply: ScaleReply): void {
  if (process.connected) process.send?.(reply);
}

// The parent gone (killed, or crashed), nothing here is of use: end with it.
process.on("disconnect", () => process.exit(0));
process.on("message", async (c: ScaleCommand) => {
  try {
    if (c.cmd === "login") {
      halted = false;
      tell(await loginAll(c));
    } else if (c.cmd === "halt") halted = true;
    else if (c.cmd === "join") tell(await joinAll(c));
    else if (c.cmd === "chat") tell(await chat(c));
    else if (c.cmd === "release") {
      for (const client of clients.splice(Math.max(0, clients.length - c.count))) {
        client.socket.removeAllListeners("close");
        client.socket.destroy();
      }
      tell({ kind: "released", ok: clients.length });
    } else {
      closing = true;
      for (const client of clients) client.socket.destroy();
      process.exit(0);
    }
  } catch (e) {
    tell({ kind: "error", message: String(e) });
  }
});
