/**
 * Chaos test of a cluster (PROTOCOL.md §5–§7, §11): three relay nodes (two on Node, one on
 * Deno) on one redis-server, nine users talking privately and in two rooms while nodes are
 * SIGKILLed and started again, Redis cuts the nodes' pub/sub connections, and redis-server
 * itself restarts (keeping its data: append-only file, fsync always). Users whose connection
 * goes log in again elsewhere with their session and `since`. At the end every message that
 * got its `ok` must have reached each of its recipients exactly once, in the order sent.
 *
 * CHAOS_SECONDS (default 90) sets how long the faults go on; CHAOS_SEED replays a run's
 * choices (not its timing); CHAOS_FAULTS (default `kill,cut,redis`; `none` for none) picks
 * the kinds of fault, to tell which one breaks something.
 */
import { afterAll, expect, test } from "vitest";
import {
  type Analysis,
  analyze,
  ChaosClient,
  checkHistory,
  DurableRedis,
  killAllRelays,
  type Lost,
  type RelayNode,
  Rng,
  type Sent,
  sleep,
  startRelay,
  type Target,
} from "../support/chaos.ts";

const SECONDS = Number(process.env.CHAOS_SECONDS ?? 90);
const SEED = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const LEASE_SECONDS = 2;
type FaultKind = "kill" | "cut" | "redis";
const FAULTS = (process.env.CHAOS_FAULTS ?? "kill,cut,redis")
  .split(",")
  .filter((k): k is FaultKind => k === "kill" || k === "cut" || k === "redis");

const NAMES = ["ann", "bob", "cat", "dan", "eve", "fay", "gus", "hal", "ivy"];
/** Rooms and their members: joined before the chaos, never left. */
const ROOMS = new Map<string, Set<string>>([
  ["#lobby", new Set(NAMES)],
  ["#side", new Set(NAMES.filter((_, i) => i % 2 === 0))],
]);

const rng = new Rng(SEED);
const redis = new DurableRedis();
const t0 = Date.now();
/** Seconds since the test began. */
const clock = () => (Date.now() - t0) / 1000;
const timeline: string[] = [];
const note = (line: string) => timeline.push(`${clock().toFixed(1).padStart(6)}s ${line}`);

/** A place in the cluster: one runtime, restarted as a new process (new ports) after each kill. */
interface Slot {
  name: string;
  runtime: "node" | "deno";
  generation: number;
  node: RelayNode | undefined;
  starting: Promise<void> | undefined;
}
const slots: Slot[] = [
  { name: "A", runtime: "node", generation: 0, node: undefined, starting: undefined },
  { name: "B", runtime: "node", generation: 0, node: undefined, starting: undefined },
  { name: "C", runtime: "deno", generation: 0, node: undefined, starting: undefined },
];
const faults = { kills: 0, pubsubCuts: 0, redisRestarts: 0, crashes: 0 };
const clients: ChaosClient[] = [];
/** Every relay started, for their stderr in the report. */
const started: RelayNode[] = [];
let stopSending = false;
let closing = false;

afterAll(async () => {
  closing = true;
  for (const c of clients) c.close();
  // Kill what runs (a start that waits for its listening line fails at once), let the
  // starts in progress see `closing`, then kill again whatever they started meanwhile.
  await killAllRelays();
  await Promise.all(slots.map((s) => s.starting?.catch(() => {})));
  await killAllRelays();
  await redis.destroy();
}, 60_000);

/** Starts a slot's relay, again and again until it runs (a start fails while Redis is down). */
async function startSlot(slot: Slot): Promise<void> {
  for (let attempt = 1; !closing; attempt++) {
    try {
      const node = await startRelay(
        slot.runtime,
        `${slot.name}${++slot.generation}/${slot.runtime}`,
        {
          RELAY_STORE: redis.url,
          RELAY_BUS: redis.url,
          RELAY_LEASE: String(LEASE_SECONDS),
          RELAY_RATE_LIMIT: "0",
        },
      );
      if (closing) {
        await node.kill();
        return;
      }
      slot.node = node;
      started.push(node);
      note(`${node.label} listening`);
      node.exited.then((code) => {
        if (slot.node !== node) return; // killed by the fault injector
        slot.node = undefined;
        faults.crashes++;
        note(`${node.label} EXITED BY ITSELF (code ${code}); stderr: ${node.stderr.join(" | ")}`);
        if (!closing) launch(slot);
      });
      return;
    } catch (e) {
      note(`${slot.name} did not start (attempt ${attempt}): ${String(e).slice(0, 300)}`);
      if (attempt >= 30) throw e;
      await sleep(500);
    }
  }
}

/** Starts a slot's relay in the background (after `delayMs`); `slot.starting` tracks it. */
function launch(slot: Slot, delayMs = 0): Promise<void> {
  const starting = (async () => {
    await sleep(delayMs);
    await startSlot(slot);
  })();
  slot.starting = starting;
  starting.then(
    () => {
      if (slot.starting === starting) slot.starting = undefined;
    },
    () => {},
  );
  return starting;
}

function liveNodes(): RelayNode[] {
  return slots.flatMap((s) => (s.node?.alive() ? [s.node] : []));
}

/** A random live node, as a load balancer would pick one. */
function pickLive(): Target | undefined {
  const nodes = liveNodes();
  if (nodes.length === 0) return undefined;
  const node = rng.pick(nodes);
  return { port: node.tcpPort, label: node.label };
}

/** Waits (at most `ms`) until this many relays listen on the cluster's bus channel. */
async function subscribers(n: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  let count: unknown;
  while (Date.now() < deadline) {
    try {
      const reply = await redis.command("PUBSUB", "NUMSUB", "relay:bus");
      count = Array.isArray(reply) ? reply[1] : reply;
      if (count === n) return;
    } catch {}
    await sleep(50);
  }
  note(`the bus has ${String(count)} subscribers, not ${n}; going on`);
}

/** Injects faults, one every 2–5 s, in shuffled rounds of one of each kind, until `until`. */
async function injectFaults(until: number): Promise<void> {
  let bag: FaultKind[] = [];
  while (!closing) {
    await sleep(rng.int(2000, 5000));
    if (Date.now() >= until - 2000 || closing) break;
    if (FAULTS.length === 0) continue;
    if (bag.length === 0) bag = rng.shuffle(FAULTS);
    const kind = bag.pop() as FaultKind;
    if (kind === "kill") {
      // One node down at a time: the previous one is back first.
      await Promise.all(slots.map((s) => s.starting));
      const candidates = slots.filter((s) => s.node?.alive());
      if (candidates.length < 3) continue;
      const slot = rng.pick(candidates);
      const node = slot.node as RelayNode;
      slot.node = undefined;
      await node.kill("SIGKILL");
      faults.kills++;
      const downMs = rng.int(500, 3000);
      note(`SIGKILL ${node.label}; back in ${downMs} ms`);
      launch(slot, downMs);
    } else if (kind === "cut") {
      try {
        const cut = await redis.command("CLIENT", "KILL", "TYPE", "pubsub");
        faults.pubsubCuts++;
        note(`CLIENT KILL TYPE pubsub: ${String(cut)} connections cut`);
      } catch (e) {
        note(`CLIENT KILL failed: ${String(e)}`);
      }
    } else {
      const canary = `${SEED}-${faults.redisRestarts}`;
      await redis.command("SET", "chaos:canary", canary);
      await redis.stop();
      const downMs = rng.int(200, 1500);
      note(`redis-server stopped (SIGTERM); back in ${downMs} ms`);
      await sleep(downMs);
      await redis.start();
      faults.redisRestarts++;
      const back = await redis.command("GET", "chaos:canary");
      note(`redis-server started again on port ${redis.port}`);
      // The harness's own promise: a restart keeps the data.
      expect(back, "redis-server lost data across its restart").toBe(canary);
    }
  }
}

/** A client's life during the chaos: one message at a time, to a room or a user, any node. */
async function talk(c: ChaosClient): Promise<void> {
  const others = NAMES.filter((n) => n !== c.name);
  const keepGoing = () => !stopSending && !closing;
  while (keepGoing()) {
    if (!(await c.connect(pickLive, keepGoing))) break;
    const to = c.rng.next() < 0.5 ? c.rng.pick(c.rooms) : c.rng.pick(others);
    await c.send(to);
    await sleep(c.rng.int(50, 250));
  }
}

/** The message a client sent with this text. */
function sentOf(text: string): Sent | undefined {
  for (const c of clients) {
    const s = c.sent.find((x) => x.text === text);
    if (s) return s;
  }
  return undefined;
}

/** What the sender of a message was told, and by which node. */
function okSummary(text: string): string {
  const s = sentOf(text);
  if (!s) return "never sent";
  const reply = s.status === "ok" ? `ok${s.queued ? " queued" : ""}` : s.status;
  return `${reply} from ${s.node} (sent ${s.at.toFixed(1)}s, reply ${s.repliedAt?.toFixed(1)}s)`;
}

/** A client's connections from a little before `at` (seconds), for the reports. */
function connsAround(name: string, at: number): string {
  const client = clients.find((c) => c.name === name);
  return (client?.conns ?? [])
    .filter((c) => (c.closedAt ?? Number.POSITIVE_INFINITY) >= at - 1)
    .slice(0, 3)
    .map(
      (c) =>
        `conn${c.conn}@${c.node} ${c.at.toFixed(1)}-${c.closedAt?.toFixed(1) ?? "end"}s` +
        ` since=${c.since ?? "-"} replayed=${String(c.replayed)}`,
    )
    .join("; ");
}

/**
 * Whether a message missed its recipient only because ids from different nodes sort by
 * their clocks: it was accepted on another node than the newest message the recipient had
 * when its connection dropped, less than a second before that one, and the resume's
 * `since` was past it.
 */
function isSkewed(l: Lost): boolean {
  const id = l.message.id;
  if (id === undefined) return false;
  const r = clients.find((c) => c.name === l.recipient) as ChaosClient;
  const resume = r.conns.find((c) => c.since !== undefined && c.since > id);
  if (!resume?.since) return false;
  const gapMs = Number.parseInt(resume.since.slice(0, 9), 36) - Number.parseInt(id.slice(0, 9), 36);
  return resume.since.slice(13) !== id.slice(13) && gapMs >= 0 && gapMs < 1000;
}

/** Why a message never reached a recipient, as the recipient's connections tell it. */
function lostCause(l: Lost): string {
  const okAt = l.message.repliedAt ?? l.message.at;
  const r = clients.find((c) => c.name === l.recipient) as ChaosClient;
  const live = r.conns.find(
    (c) => c.at <= okAt && (c.closedAt ?? Number.POSITIVE_INFINITY) >= okAt,
  );
  if (!live) return "recipient offline at its ok; no resume or queue brought it";
  const closedAt = live.closedAt ?? Number.POSITIVE_INFINITY;
  if (closedAt - okAt < 1) return "in flight when the recipient's connection dropped";
  return "recipient online, no live delivery; no resume brought it";
}

function describeLost(l: Lost): string {
  const s = l.message;
  const r = clients.find((c) => c.name === l.recipient) as ChaosClient;
  const next = r.deliveries.find((d) => {
    const m = /^([a-z]+)#(\d+)$/.exec(d.text);
    return m?.[1] === s.from && Number(m[2]) > s.seq;
  });
  // A resume whose since was already past this message's id can no longer bring it.
  const past = r.conns.find((c) => c.since !== undefined && s.id !== undefined && c.since > s.id);
  return (
    `${lostCause(l)}: ${s.text} -> ${s.to} id=${s.id}${s.queued ? " (queued)" : ""} accepted by ${s.node}` +
    ` (sent ${s.at.toFixed(1)}s, ok ${s.repliedAt?.toFixed(1)}s); missing at ${l.recipient}` +
    ` [${connsAround(l.recipient, s.at)}]; ${l.recipient}'s next from ${s.from}: ` +
    (next ? `${next.text} id=${next.id} ${next.how} at ${next.at.toFixed(1)}s` : "none") +
    (past ? `; conn${past.conn} resumed past it (since=${past.since})` : "") +
    `; in ${l.recipient}'s history: ${l.inHistory === undefined ? "not checked" : String(l.inHistory)}`
  );
}

function report(a: Analysis, seconds: number): void {
  const sum = <K extends keyof ChaosClient["stats"]>(key: K) =>
    clients.reduce((n, c) => n + (c.stats[key] as number), 0);
  const merged = (key: "loginFailures" | "byes") => {
    const out: Record<string, number> = {};
    for (const c of clients) {
      for (const [k, v] of Object.entries(c.stats[key])) out[k] = (out[k] ?? 0) + v;
    }
    return JSON.stringify(out);
  };
  const lines = [
    `chaos seed=${SEED} faults=${FAULTS.join(",") || "none"} took=${seconds.toFixed(0)}s: sent=${a.sent} ok=${a.ok} (queued=${a.queued})` +
      ` unknown=${a.unknown} errors=${JSON.stringify(a.errors)} expected=${a.expected}` +
      ` delivered=${a.delivered} lost=${a.lost.length} doubled=${a.doubled.length}` +
      ` out_of_order=${a.outOfOrder.length} anomalies=${a.anomalies.length}` +
      ` | faults: kills=${faults.kills} pubsub_cuts=${faults.pubsubCuts}` +
      ` redis_restarts=${faults.redisRestarts} crashes=${faults.crashes}`,
    `logins: session=${sum("sessionLogins")} password=${sum("passwordLogins")}` +
      ` password_fallbacks=${sum("passwordFallbacks")} failures=${merged("loginFailures")}` +
      ` rooms_missing_in_welcome=${sum("roomsMissing")} gaps=${sum("gaps")} stalls=${sum("stalls")}` +
      ` byes=${merged("byes")} stray_frames=${sum("strayFrames")}` +
      ` unknown_but_delivered=${a.unknownDelivered} id_inversions=${sum("idInversions")}`,
    "fault timeline:",
    ...timeline.map((l) => `  ${l}`),
  ];
  if (a.lost.length > 0) {
    // When the lost messages were accepted, to set beside the fault timeline.
    const when = new Map<string, Set<string>>();
    for (const l of a.lost) {
      const at = (l.message.repliedAt ?? l.message.at).toFixed(1);
      when.set(at, (when.get(at) ?? new Set()).add(l.message.text));
    }
    const kept = a.lost.filter((l) => l.inHistory === true).length;
    const gone = a.lost.filter((l) => l.inHistory === false).length;
    const unknown = a.lost.length - kept - gone;
    const causes = new Map<string, number>();
    for (const l of a.lost) causes.set(lostCause(l), (causes.get(lostCause(l)) ?? 0) + 1);
    lines.push(
      `lost: ${kept} are in the recipient's history (kept, never delivered), ${gone} are not` +
        ` (ok but not kept), ${unknown} cannot be told (the log no longer reaches back so far)`,
      `lost by cause: ${[...causes].map(([cause, n]) => `${n} ${cause}`).join("; ")}`,
      `lost messages by time of their ok: ${[...when].map(([at, texts]) => `${at}s x${texts.size}`).join(", ")}`,
    );
    // One entry per message: the first recipient in detail, then who else missed it.
    const byMessage = new Map<string, Lost[]>();
    for (const l of a.lost)
      byMessage.set(l.message.text, [...(byMessage.get(l.message.text) ?? []), l]);
    lines.push(`lost messages (first 10 of ${byMessage.size}):`);
    for (const [, list] of [...byMessage].slice(0, 10)) {
      const [head, ...rest] = list as [Lost, ...Lost[]];
      lines.push(`  ${describeLost(head)}`);
      if (rest.length > 0) {
        const others = rest.map((l) => `${l.recipient} (in history: ${String(l.inHistory)})`);
        lines.push(`    also missing at ${others.join(", ")}`);
      }
    }
  }
  if (a.doubled.length > 0) {
    lines.push(
      `doubled (first 10 of ${a.doubled.length}):`,
      ...a.doubled
        .slice(0, 10)
        .map(
          (d) =>
            `  ${d.text} at ${d.recipient}: ids ${d.ids.join(", ")} via ${d.hows.join(", ")};` +
            ` ${okSummary(d.text)};` +
            ` ${d.recipient}'s connections: ${connsAround(d.recipient, sentOf(d.text)?.at ?? 0)}`,
        ),
    );
  }
  if (a.outOfOrder.length > 0) {
    lines.push(
      `out of order (first 10 of ${a.outOfOrder.length}):`,
      ...a.outOfOrder
        .slice(0, 10)
        .map(
          (o) =>
            `  ${o.recipient} got ${o.sender}#${o.seq} (id ${o.late.id}, ${o.late.how}, conn${o.late.conn}` +
            ` at ${o.late.at.toFixed(1)}s) after ${o.sender}#${o.after} (id ${o.earlier?.id},` +
            ` ${o.earlier?.how}, conn${o.earlier?.conn} at ${o.earlier?.at.toFixed(1)}s);` +
            ` ${o.sender}#${o.seq} was ${okSummary(`${o.sender}#${o.seq}`)};` +
            ` ${o.recipient}'s connections: ${connsAround(o.recipient, o.late.at)}`,
        ),
    );
  }
  if (a.anomalies.length > 0) {
    lines.push(
      `anomalies (first 10 of ${a.anomalies.length}):`,
      ...a.anomalies.slice(0, 10).map((x) => `  ${x}`),
    );
  }
  const failed = a.lost.length + a.doubled.length + a.outOfOrder.length + a.anomalies.length > 0;
  for (const node of failed ? started : []) {
    if (node.stderr.length > 0)
      lines.push(
        `stderr of ${node.label} (last 5):`,
        ...node.stderr.slice(-5).map((l) => `  ${l}`),
      );
  }
  console.log(lines.join("\n"));
}

test("a cluster under node kills, pub/sub cuts and Redis restarts loses, doubles and reorders nothing", async () => {
  await redis.start();
  await Promise.all(slots.map((s) => launch(s)));
  await subscribers(3);

  // Everyone logs in on a node of their own, with a password, and joins their rooms.
  NAMES.forEach((name, i) => {
    const rooms = [...ROOMS].filter(([, m]) => m.has(name)).map(([room]) => room);
    clients.push(new ChaosClient(name, `pw-${name}-chaos`, rooms, new Rng(SEED + i + 1), clock));
  });
  await Promise.all(
    clients.map((c, i) => {
      const node = slots[i % slots.length]?.node as RelayNode;
      const deadline = Date.now() + 20_000;
      return c.connect(
        () => ({ port: node.tcpPort, label: node.label }),
        () => Date.now() < deadline,
      );
    }),
  );
  expect(clients.map((c) => c.online)).toEqual(clients.map(() => true));
  for (const c of clients) {
    for (const room of c.rooms) {
      expect(await c.command({ type: "join", room, id: "join" })).toMatchObject({ type: "ok" });
    }
  }
  // Each node knows the rooms' members before anyone talks.
  for (const c of clients.slice(0, slots.length)) {
    await expect
      .poll(
        async () => {
          const reply = await c.command({ type: "rooms", id: "rooms" });
          const rooms = typeof reply === "object" && Array.isArray(reply.rooms) ? reply.rooms : [];
          return Object.fromEntries(
            rooms.map((r: { room: string; members: number }) => [r.room, r.members]),
          );
        },
        { timeout: 10_000 },
      )
      .toEqual(Object.fromEntries([...ROOMS].map(([room, m]) => [room, m.size])));
  }
  // One message everyone sees, so that every client has an id to resume from.
  const [first] = clients as [ChaosClient];
  const setup = await first.command({
    type: "msg",
    to: "#lobby",
    text: "chaos begins",
    id: "setup",
  });
  expect(setup).toMatchObject({ type: "ok" });
  first.see(String((setup as Record<string, unknown>).id));
  await expect
    .poll(() => clients.every((c) => c.newest !== undefined), { timeout: 10_000 })
    .toBe(true);

  // The chaos.
  const chaosStart = Date.now();
  note(`chaos begins: ${SECONDS} s, seed ${SEED}`);
  const talking = clients.map((c) => talk(c));
  const injecting = injectFaults(chaosStart + SECONDS * 1000);
  injecting.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
  await sleep(SECONDS * 1000);
  stopSending = true;
  await injecting;
  await Promise.all(talking);
  note("faults and sending stopped");

  // Heal: every node up, Redis up; then everyone reconnects once more, with since, to drain.
  if (!redis.running) await redis.start();
  await Promise.all(slots.map((s) => s.starting));
  for (const s of slots) if (!s.node?.alive()) await launch(s);
  await subscribers(3);
  await sleep(LEASE_SECONDS * 1000);
  for (const c of clients) c.drop();
  const drainDeadline = Date.now() + 60_000;
  await Promise.all(clients.map((c) => c.connect(pickLive, () => Date.now() < drainDeadline)));
  note(`drain: ${clients.filter((c) => c.online).length} of ${clients.length} clients back online`);
  // Wait for the replays: at least 3 s, then until 2 s pass with nothing new (at most 20 s).
  const quietFrom = Date.now();
  let count = -1;
  let since = Date.now();
  while (Date.now() - quietFrom < 20_000) {
    const now = clients.reduce((n, c) => n + c.deliveries.length, 0);
    if (now !== count) {
      count = now;
      since = Date.now();
    } else if (Date.now() - quietFrom >= 3000 && Date.now() - since >= 2000) {
      break;
    }
    await sleep(200);
  }
  note("drained");
  const analysis = analyze(clients, ROOMS);
  // Lost: kept in the log but never delivered, or not kept at all?
  await checkHistory(clients, analysis.lost.slice(0, 500));
  for (const c of clients) c.close();
  report(analysis, clock());

  if (FAULTS.includes("kill")) expect(faults.kills, "no node was killed").toBeGreaterThan(0);
  if (FAULTS.includes("cut")) expect(faults.pubsubCuts, "no pub/sub cut").toBeGreaterThan(0);
  if (FAULTS.includes("redis")) {
    expect(faults.redisRestarts, "no Redis restart").toBeGreaterThan(0);
  }
  expect(analysis.ok, "too few messages were accepted to tell anything").toBeGreaterThan(100);
  // The one loss docs/protocol.md §11.6 allows: a message accepted by one node, still on its
  // way to the recipient's node when the recipient's connection dropped, while a message
  // accepted by another node a moment later (a higher id) had already arrived; the resume's
  // `since` is past it. Reported, and bounded, not counted as lost.
  const skewed = analysis.lost.filter(isSkewed);
  const lost = analysis.lost.filter((l) => !isSkewed(l));
  if (skewed.length > 0) {
    console.log(`in flight across nodes at a drop (docs/protocol.md §11.6): ${skewed.length}`);
  }
  expect(skewed.length, "more in-flight losses than clock skew explains").toBeLessThanOrEqual(3);
  expect({
    lost: lost.length,
    doubled: analysis.doubled.length,
    outOfOrder: analysis.outOfOrder.length,
    anomalies: analysis.anomalies.length,
  }).toEqual({ lost: 0, doubled: 0, outOfOrder: 0, anomalies: 0 });
}, 300_000);
