// npm run bench: the relay against ngircd and a naive Node relay, measured side by side with
// the same load generator on this machine. Loopback only; every run is bounded in time.
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { coreFanout, corePrivate } from "./core.ts";
import type { DialectName } from "./dialects.ts";
import { type Figures, LoadGen } from "./loadgen.ts";
import {
  rss,
  type Server,
  startCluster,
  startNaive,
  startNgircd,
  startRelay,
  startRelayKv,
} from "./servers.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean" },
    only: { type: "string" },
    repeat: { type: "string" },
    verbose: { type: "boolean" },
  },
});
const QUICK = values.quick === true;
const ONLY = values.only?.split(",") ?? ["core", "fanout", "cluster", "private", "connect"];
const REPEAT = Number(values.repeat ?? (QUICK ? 1 : 3));
/** `--verbose`: every run of the max-rate search on stderr, with the time since the start. */
const VERBOSE = values.verbose === true;
const N = 200;
const S = 20;
const DURATION = QUICK ? 1000 : 2000;
const CONNECTIONS = QUICK ? 2000 : 10_000;
const LADDER = [
  25e3, 50e3, 100e3, 150e3, 200e3, 250e3, 300e3, 400e3, 500e3, 600e3, 750e3, 900e3, 1e6, 1.1e6,
  1.25e6, 1.4e6, 1.6e6, 1.8e6,
];
/**
 * The ladder with steps below its first, for rows that may not reach it (the relay with its
 * log on a KV file, in the private scenario): a max of 0 would say nothing of how far off.
 */
const LOW_LADDER = [2.5e3, 5e3, 10e3, ...LADDER];
/** The warm-up load of a fresh server (deliveries/s, for a second), or the step, if lower. */
const WARMUP = 100e3;

interface Contender {
  label: string;
  dialect: DialectName;
  start: () => Promise<Server>;
  transport: "tcp" | "ws";
  /** How to start it for idle clients, when that differs (the relay without presence). */
  idle?: () => Promise<Server>;
  /** The steps its max is searched in, when not LADDER. */
  ladder?: number[];
  /**
   * Whether a step missed by far (p99 over a second, or not half the deliveries arrived) is
   * taken as failed at once, without the second chance: such a run costs the most (the
   * backlog drains for up to 5 s, then the server restarts) and is not one noise explains.
   */
  quickFail?: boolean;
}

const relayTcp: Contender = {
  label: "relay (Node, TCP)",
  dialect: "relay",
  start: () => startRelay("node"),
  transport: "tcp",
  idle: () => startRelay("node", { RELAY_PRESENCE: "off" }),
};
const relayWs: Contender = {
  label: "relay (Node, WebSocket)",
  dialect: "relay",
  start: () => startRelay("node"),
  transport: "ws",
};
const relayDeno: Contender = {
  label: "relay (Deno, TCP)",
  dialect: "relay",
  start: () => startRelay("deno"),
  transport: "tcp",
  idle: () => startRelay("deno", { RELAY_PRESENCE: "off" }),
};
// The log of accepted messages, as `npm start` runs it: the default store (a Deno KV file,
// fresh for each start) with the default RELAY_HISTORY, against the same server without the
// log (RELAY_HISTORY=0, v1's behaviour). An empty RELAY_HISTORY counts as unset, whatever the
// environment of the bench says.
const logOn: Contender = {
  label: "relay (Node, TCP, KV file), log on (RELAY_HISTORY default)",
  dialect: "relay",
  start: () => startRelayKv({ RELAY_HISTORY: "" }),
  transport: "tcp",
  ladder: LOW_LADDER,
  quickFail: true,
};
const logOff: Contender = {
  label: "relay (Node, TCP, KV file), log off (RELAY_HISTORY=0)",
  dialect: "relay",
  start: () => startRelayKv({ RELAY_HISTORY: "0" }),
  transport: "tcp",
  ladder: LOW_LADDER,
  quickFail: true,
};
/** What the log may cost: log on must keep at least this share of log off's max. */
const LOG_TARGET = 0.8;

const ngircd: Contender = {
  label: "ngircd (C, IRC)",
  dialect: "irc",
  start: startNgircd,
  transport: "tcp",
};
const cluster: Contender = {
  label: "relay, 2 Node nodes on Redis",
  dialect: "relay",
  start: startCluster,
  transport: "tcp",
};
const naive: Contender = {
  label: "naive Node relay",
  dialect: "naive",
  start: startNaive,
  transport: "tcp",
};

// ngircd is the baseline to beat; without it the bench still runs, without that column.
const HAVE_NGIRCD = spawnSync("ngircd", ["--version"]).status === 0;
if (!HAVE_NGIRCD) console.log("ngircd not found (apt-get install ngircd): its rows are left out");
const HAVE_REDIS = spawnSync("redis-server", ["--version"]).status === 0;
if (!HAVE_REDIS) console.log("redis-server not found (apt-get install redis-server): no cluster");
const baselines = (...cs: Contender[]) =>
  cs.filter((c) => (c !== ngircd || HAVE_NGIRCD) && (c !== cluster || HAVE_REDIS));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const fmt = (n: number) =>
  n >= 1e6
    ? `${(n / 1e6).toFixed(2)}M`
    : n >= 1e3
      ? `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)}k`
      : `${Math.round(n)}`;
const ms = (n: number) => (Number.isNaN(n) ? "-" : `${n.toFixed(1)} ms`);

interface Result {
  label: string;
  max: number;
  atMax: Figures | null;
  atHalf: Figures | null;
}

/**
 * The highest step of the load ladder where no delivery is lost and p99 stays under 100 ms.
 * `near`: where the max is likely (another server's max): the search probes the step there
 * first, then halves as usual, so that the answer is the same with one probe less or so.
 * `half: false` leaves out the figures at half the max.
 */
async function sustainable(
  c: Contender,
  scenario: "fanout" | "private",
  opts: { near?: number; half?: boolean } = {},
): Promise<Result> {
  const fanout = scenario === "fanout" ? N - 1 : 1;
  const senders = scenario === "fanout" ? S : N;
  const partner = (name: string) => {
    const i = Number(name.slice(1));
    return `u${i % 2 === 0 ? i + 1 : i - 1}`;
  };
  const ladder = c.ladder ?? LADDER;
  let server: Server | null = null;
  let lg: LoadGen | null = null;
  const close = async () => {
    await lg?.close();
    await server?.stop();
    lg = null;
    server = null;
  };
  const open = async (warmup: number) => {
    server = await c.start();
    lg = new LoadGen(2);
    const url = c.transport === "ws" ? (server.ws as string) : (server.nodes ?? server.tcp);
    await lg.connect(c.dialect, url, N, scenario === "fanout" ? "#bench" : null);
    // Warm up (a fresh process compiles its hot paths during its first busy second), at no
    // more than the step to come: a server far slower than the warm-up would still be
    // working off its backlog during that step.
    await load(warmup, 1000);
  };
  const load = (deliveries: number, durationMs: number) =>
    (lg as LoadGen).run({
      senders,
      to: scenario === "fanout" ? () => "#bench" : partner,
      rate: deliveries / fanout,
      fanout,
      durationMs,
    });
  const good = (f: Figures) => f.lost === 0 && f.p99 < 100;
  const farOff = (f: Figures) => f.p99 >= 1000 || f.delivered < f.offered / 2;
  // A run the server could not keep up with may have cost clients their connections
  // (slow_consumer): the next run starts afresh, so that no run pays for the one before.
  const run = async (deliveries: number) => {
    if (!lg) await open(Math.min(WARMUP, deliveries));
    const figures = await load(deliveries, DURATION);
    if (VERBOSE) {
      const { delivered, lost, p50, p99 } = figures;
      const at = ((performance.now() - started) / 1000).toFixed(0);
      console.error(
        `[${at} s] ${c.label}, ${scenario} at ${fmt(deliveries)}: delivered ${fmt(delivered)}, ` +
          `lost ${lost}, p50 ${ms(p50)}, p99 ${ms(p99)}${good(figures) ? "" : " (failed)"}`,
      );
    }
    if (!good(figures)) await close();
    return figures;
  };
  try {
    // Binary search over the ladder (a step that fails gets a second chance, unless the
    // contender is `quickFail` and the step failed by far): about five steps instead of up to
    // eighteen, for the same answer when figures grow with the load.
    let pass = -1;
    let fail = ladder.length;
    let hint = opts.near === undefined ? -1 : ladder.findLastIndex((s) => s <= (opts.near ?? 0));
    while (fail - pass > 1) {
      const mid = hint > pass && hint < fail ? hint : (pass + fail) >> 1;
      hint = -1;
      const step = ladder[mid] as number;
      const first = await run(step);
      if (good(first) || (!(c.quickFail && farOff(first)) && good(await run(step)))) pass = mid;
      else fail = mid;
    }
    const repeat = async (d: number) => {
      const runs: Figures[] = [];
      for (let i = 0; i < REPEAT; i++) runs.push(await run(d));
      return {
        offered: d,
        delivered: median(runs.map((r) => r.delivered)),
        lost: median(runs.map((r) => r.lost)),
        p50: median(runs.map((r) => r.p50)),
        p99: median(runs.map((r) => r.p99)),
      };
    };
    // The step found must also hold in the median of its repeats, or the one below is taken:
    // a max whose own figures break the rule would not be sustainable.
    for (; pass >= 0; pass--) {
      const max = ladder[pass] as number;
      const atMax = await repeat(max);
      if (!good(atMax)) continue;
      const atHalf = opts.half === false ? null : await repeat(max / 2);
      return { label: c.label, max, atMax, atHalf };
    }
    return { label: c.label, max: 0, atMax: null, atHalf: null };
  } finally {
    await close();
  }
}

async function connections(c: Contender): Promise<{ label: string; ms: number; perConn: number }> {
  const server = await (c.idle ?? c.start)();
  const lg = new LoadGen(2);
  try {
    await new Promise((r) => setTimeout(r, 500));
    const empty = await rss(server.pid);
    const took = await lg.connect(c.dialect, server.tcp, CONNECTIONS, null);
    await new Promise((r) => setTimeout(r, 1000));
    const full = await rss(server.pid);
    return { label: c.label, ms: took, perConn: (full - empty) / CONNECTIONS };
  } finally {
    await lg.close();
    await server.stop();
  }
}

function table(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const r of rows) console.log(line(r));
}

/**
 * The max-rate table; the "vs" column compares with `against` (ngircd unless told). The
 * figures at half the max have a column when some row has them.
 */
function throughputTable(
  title: string,
  results: Result[],
  against: { label: string; column: string } = { label: ngircd.label, column: "vs ngircd" },
): void {
  const base = results.find((r) => r.label === against.label)?.max ?? 0;
  const half = results.some((r) => r.atHalf !== null);
  const latency = (f: Figures | null) => (f ? `${ms(f.p50)} / ${ms(f.p99)}` : "-");
  table(
    title,
    [
      "server",
      "max deliveries/s (p99 < 100 ms, no loss)",
      against.column,
      "p50 / p99 at max",
      ...(half ? ["p50 / p99 at half"] : []),
    ],
    results.map((r) => [
      r.label,
      fmt(r.max),
      base ? `${(r.max / base).toFixed(2)}x` : "-",
      latency(r.atMax),
      ...(half ? [latency(r.atHalf)] : []),
    ]),
  );
}

/**
 * Log on next to log off, in one scenario, and their ratio against the target. To keep the
 * bench short, both leave out the figures at half the max, and log on's search starts at log
 * off's max (where it is, if the target is met).
 */
async function logTable(scenario: "fanout" | "private", title: string): Promise<void> {
  const off = await sustainable(logOff, scenario, { half: false });
  const on = await sustainable(logOn, scenario, { half: false, near: off.max });
  const results = [off, on];
  throughputTable(title, results, { label: logOff.label, column: "vs log off" });
  const target = `target at least ${LOG_TARGET.toFixed(2)}x`;
  if (!off.max) console.log(`\n${scenario}, log on / log off: - (log off found no max; ${target})`);
  else {
    const ratio = on.max / off.max;
    const verdict = ratio >= LOG_TARGET ? "met" : "NOT met";
    console.log(`\n${scenario}, log on / log off: ${ratio.toFixed(2)}x (${target}: ${verdict})`);
  }
}

const started = performance.now();
console.log(
  `relay benchmark: N=${N} clients, S=${S} senders, ${DURATION} ms per step, medians of ${REPEAT}`,
);

if (ONLY.includes("core")) {
  const priv = median(Array.from({ length: REPEAT }, () => corePrivate()));
  const fan = median(Array.from({ length: REPEAT }, () => coreFanout()));
  table(
    "core alone (no sockets, one thread)",
    ["what", "per second"],
    [
      ["private messages routed (10,000 users)", fmt(priv)],
      ["room deliveries (room of 200)", fmt(fan)],
    ],
  );
}
/** Fan-out results of this run, kept so that later sections compare with the same figures. */
const fanoutResults: Result[] = [];
if (ONLY.includes("fanout")) {
  const results = fanoutResults;
  for (const c of baselines(ngircd, naive, relayTcp, relayWs, relayDeno))
    results.push(await sustainable(c, "fanout"));
  throughputTable(`fanout: ${N} clients in one room, ${S} senders`, results);
  const tcp = results.find((r) => r.label === relayTcp.label)?.max ?? 0;
  const ws = results.find((r) => r.label === relayWs.label)?.max ?? 0;
  const deno = results.find((r) => r.label === relayDeno.label)?.max ?? 0;
  console.log(
    `\nWebSocket/TCP on Node: ${(ws / tcp).toFixed(2)}x   Deno/Node (TCP): ${(deno / tcp).toFixed(2)}x`,
  );
  await logTable("fanout", `fanout with the log: ${N} clients in one room, ${S} senders`);
}
if (ONLY.includes("cluster")) {
  // Half the room on each node: every message crosses Redis to reach the other half.
  const one = fanoutResults.find((r) => r.label === relayTcp.label);
  const results: Result[] = [one ?? (await sustainable(relayTcp, "fanout"))];
  for (const c of baselines(cluster)) results.push(await sustainable(c, "fanout"));
  throughputTable(`fanout across nodes: ${N} clients in one room, half on each node`, results);
  const [single, pair] = results.map((r) => r.max);
  if (single && pair) console.log(`\ntwo nodes / one node: ${(pair / single).toFixed(2)}x`);
}
if (ONLY.includes("private")) {
  const results: Result[] = [];
  for (const c of baselines(ngircd, naive, relayTcp)) results.push(await sustainable(c, "private"));
  throughputTable(`private: ${N / 2} pairs messaging each other`, results);
  await logTable("private", `private with the log: ${N / 2} pairs messaging each other`);
}
// `--only log`: the log tables alone (both scenarios), without the other rows.
if (ONLY.includes("log") && !ONLY.includes("fanout"))
  await logTable("fanout", `fanout with the log: ${N} clients in one room, ${S} senders`);
if (ONLY.includes("log") && !ONLY.includes("private"))
  await logTable("private", `private with the log: ${N / 2} pairs messaging each other`);
if (ONLY.includes("connect")) {
  const rows = [];
  for (const c of baselines(ngircd, relayTcp, relayDeno)) rows.push(await connections(c));
  table(
    `connect: ${CONNECTIONS} clients log in (and stay idle)`,
    ["server", "time to log all in", "RSS per connection"],
    rows.map((r) => [r.label, `${Math.round(r.ms)} ms`, `${(r.perConn / 1024).toFixed(1)} KB`]),
  );
}
// `--only scale`: not in the default set, it takes minutes and most of the machine's memory.
if (ONLY.includes("scale")) await (await import("./scale.ts")).scaleBench({ quick: QUICK });
console.log(`\n(${((performance.now() - started) / 1000).toFixed(0)} s)`);
