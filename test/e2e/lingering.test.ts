import { describe, expect, test } from "vitest";
import { type Inbox, LineClient, WsClient } from "../support/client.ts";
import { spawnRelay } from "../support/process.ts";
import { startRelay } from "../support/server.ts";

/** How many clients try each case at once: a close that sometimes resets would show here. */
const TRIES = 20;

/** One client of the test, on either transport, sending JSON frames and watching for resets. */
interface Peer {
  inbox: Inbox;
  /** Sends frames: one write of lines on TCP, one message each on WebSocket. */
  send(frames: string[]): void;
  /** Whether the server's side of the connection was reset, or closed without a clean end. */
  broken(): string | null;
}

async function openPeer(transport: "tcp" | "ws", port: number): Promise<Peer> {
  if (transport === "tcp") {
    const c = await LineClient.open(port);
    let error: string | null = null;
    c.socket.on("error", (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    return {
      inbox: c,
      send: (frames) => {
        if (c.socket.writable) c.send(...frames);
      },
      broken: () => error,
    };
  }
  const c = await WsClient.open(port);
  let code: number | null = null;
  c.ws.on("close", (closeCode: number) => {
    code = closeCode;
  });
  return {
    inbox: c,
    send: (frames) => {
      if (c.ws.readyState === c.ws.OPEN) c.send(...frames);
    },
    broken: () => (code === 1000 ? null : `close code ${code}`),
  };
}

const ping = (id: string) => JSON.stringify({ type: "ping", id });

/**
 * Sends `first` at once, then goes on sending `perTick` pings every millisecond until the
 * server's `bye` arrives; returns every line read up to and including the bye, and what came
 * after it before the server closed.
 */
async function sendUntilBye(
  peer: Peer,
  first: string[],
  perTick = 50,
): Promise<{ lines: string[]; after: string[] }> {
  peer.send(first);
  let n = 0;
  const more = setInterval(
    () => peer.send(Array.from({ length: perTick }, () => ping(`more${n++}`))),
    1,
  );
  const lines: string[] = [];
  try {
    for (;;) {
      const line = await peer.inbox.line(10_000);
      lines.push(line);
      if ((JSON.parse(line) as { type: string }).type === "bye") break;
    }
  } finally {
    clearInterval(more);
  }
  return { lines, after: await peer.inbox.end(10_000) };
}

/** 200 pings in one write, at the default 20 commands a second: answered, then `bye flood`. */
async function flood(transport: "tcp" | "ws", port: number): Promise<void> {
  const peer = await openPeer(transport, port);
  const ids = Array.from({ length: 200 }, (_, i) => `p${i}`);
  const { lines, after } = await sendUntilBye(peer, ids.map(ping));
  const replies = lines.map((l) => JSON.parse(l) as { type: string; re?: string; code?: string });
  const bye = replies.pop();
  expect(bye).toEqual({ type: "bye", reason: "flood" });
  // Every command before the flood was answered, in order: pongs, then refusals.
  expect(replies.length).toBeGreaterThanOrEqual(40);
  expect(replies.map((r) => r.re)).toEqual(ids.slice(0, replies.length));
  for (const r of replies) expect(r.type === "pong" || r.code === "rate_limited").toBe(true);
  expect(after).toEqual([]);
  expect(peer.broken()).toBeNull();
}

/** `quit` with more frames right behind it: the pong and the bye arrive, the rest is ignored. */
async function quit(transport: "tcp" | "ws", port: number): Promise<void> {
  const peer = await openPeer(transport, port);
  const behind = Array.from({ length: 100 }, (_, i) => ping(`late${i}`));
  const { lines, after } = await sendUntilBye(peer, [
    ping("first"),
    JSON.stringify({ type: "quit", id: "q" }),
    ...behind,
  ]);
  expect(lines.map((l) => JSON.parse(l))).toEqual([
    { type: "pong", re: "first" },
    { type: "bye", re: "q", reason: "quit" },
  ]);
  expect(after).toEqual([]);
  expect(peer.broken()).toBeNull();
}

/** Runs a case TRIES times at once and says how many went right (each failure is thrown). */
async function tries(run: () => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(Array.from({ length: TRIES }, run));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  expect(
    failed.map((f) => String(f.reason).slice(0, 300)),
    `${TRIES - failed.length}/${TRIES} clients read every reply and the bye`,
  ).toEqual([]);
}

/** Where the relay runs: its ports, and a way to stop it with SIGTERM where it has one. */
interface Target {
  tcpPort: number;
  httpPort: number;
  /** Stops it as SIGTERM does; resolves with the exit code. */
  terminate: () => Promise<number | null>;
}

const runtimes: [string, (env?: Record<string, string>) => Promise<Target>][] = [
  [
    "Node, in process",
    async (env) => {
      const relay = await startRelay(env);
      const terminate = () => relay.stop().then(() => 0);
      return { tcpPort: relay.tcpPort as number, httpPort: relay.httpPort, terminate };
    },
  ],
  ...(["node", "deno"] as const).map(
    (runtime): [string, (env?: Record<string, string>) => Promise<Target>] => [
      `${runtime === "node" ? "Node" : "Deno"}, in its own process`,
      async (env) => {
        const relay = await spawnRelay(runtime, env);
        return { ...relay, terminate: () => relay.kill("SIGTERM") };
      },
    ],
  ),
];

const transports = ["tcp", "ws"] as const;
const portOf = (target: Target, transport: "tcp" | "ws") =>
  transport === "tcp" ? target.tcpPort : target.httpPort;

describe.each(runtimes)(
  "a server that closes lingers, so that its bye is read (%s)",
  (_, start) => {
    test.each(transports)(
      "%s: a burst of 200 commands ends in bye flood, every reply read",
      async (transport) => {
        const target = await start();
        await tries(() => flood(transport, portOf(target, transport)));
      },
    );

    test.each(transports)("%s: quit with more data right behind it", async (transport) => {
      const target = await start();
      await tries(() => quit(transport, portOf(target, transport)));
    });

    test.each(transports)(
      "%s: a shutdown while clients send is read to its bye",
      async (transport) => {
        const target = await start({ RELAY_RATE_LIMIT: "0" });
        // Every client is served (its mode fixed: JSON) before the shutdown comes.
        const peers = await Promise.all(
          Array.from({ length: TRIES }, async () => {
            const peer = await openPeer(transport, portOf(target, transport));
            peer.send([ping("hello")]);
            expect(JSON.parse(await peer.inbox.line())).toEqual({ type: "pong", re: "hello" });
            return peer;
          }),
        );
        const reading = peers.map(async (peer) => {
          const { lines, after } = await sendUntilBye(peer, [ping("more-1")], 5);
          const replies = lines.map((l) => JSON.parse(l) as { type: string; re?: string });
          expect(replies.pop()).toEqual({ type: "bye", reason: "shutdown" });
          expect(replies.map((r) => r.re)).toEqual(replies.map((_, i) => `more${i - 1}`));
          expect(after).toEqual([]);
          expect(peer.broken()).toBeNull();
        });
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(await target.terminate()).toBe(0);
        const results = await Promise.allSettled(reading);
        const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
        expect(failed.map((f) => String(f.reason).slice(0, 300))).toEqual([]);
      },
    );
  },
);
