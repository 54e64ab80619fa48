// npm run bench:profile: one load on the relay (Node) under --cpu-prof, then where its time
// went. Prints the load's figures, the CPU used by the server and by the load generator,
// and the functions with the most time of their own. Loopback only, bounded in time.
//
//   npm run bench:profile -- --scenario fanout --transport ws --rate 1600000
//
// --transport tcp (the relay's JSON lines), ws, or irc (its IRC port, with the load
// generator's IRC dialect, as the bench's IRC rows).
//
// --store kv runs it on the store `npm start` uses by default (a Deno KV file, fresh in a
// temporary directory) instead of memory; --history N sets RELAY_HISTORY (0: the log off):
//
//   npm run bench:profile -- --scenario private --rate 100000 --store kv
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { cpuMs } from "./cpu.ts";
import { LoadGen } from "./loadgen.ts";
import { startRelay, startRelayKv } from "./servers.ts";

const { values } = parseArgs({
  options: {
    scenario: { type: "string", default: "fanout" },
    transport: { type: "string", default: "tcp" },
    rate: { type: "string", default: "1000000" },
    seconds: { type: "string", default: "3" },
    top: { type: "string", default: "20" },
    store: { type: "string", default: "memory" },
    history: { type: "string" },
  },
});
if (values.store !== "memory" && values.store !== "kv") throw new Error("--store memory|kv");
if (values.history !== undefined && !/^\d+$/.test(values.history))
  throw new Error("--history takes a whole number");
const fanout = values.scenario !== "private";
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const N = 200;

/** CPU seconds a process has used so far (user and system), from /proc. */
const cpuSeconds = async (pid: number) => (await cpuMs([pid])) / 1000;

/** Self time per function in a V8 .cpuprofile, as shares of all samples, largest first. */
function selfTimes(profile: {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}): [string, number][] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const times = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id);
    const dt = profile.timeDeltas[i] ?? 0;
    if (!frame) return;
    const file = frame.url.split("/").pop();
    const key = file ? `${frame.functionName || "(anonymous)"} ${file}` : frame.functionName;
    times.set(key, (times.get(key) ?? 0) + dt);
    total += dt;
  });
  return [...times].map(([k, t]): [string, number] => [k, t / total]).sort((a, b) => b[1] - a[1]);
}

const dir = await mkdtemp(join(tmpdir(), "relay-profile-"));
const env: Record<string, string> =
  values.history === undefined ? {} : { RELAY_HISTORY: values.history };
const node = {
  flags: ["--cpu-prof", `--cpu-prof-dir=${dir}`],
  stopSignal: "SIGINT" as const,
};
const server =
  values.store === "kv" ? await startRelayKv(env, node) : await startRelay("node", env, node);
const lg = new LoadGen(2);
try {
  const irc = values.transport === "irc";
  const url = values.transport === "ws" ? server.ws : irc ? server.irc : server.tcp;
  if (url === undefined || url === null)
    throw new Error(`the relay has no ${values.transport} port`);
  await lg.connect(irc ? "irc" : "relay", url, N, fanout ? "#bench" : null);
  const partner = (name: string) => {
    const i = Number(name.slice(1));
    return `u${i % 2 === 0 ? i + 1 : i - 1}`;
  };
  const load = (deliveries: number, durationMs: number) =>
    lg.run(
      fanout
        ? { senders: 20, to: () => "#bench", rate: deliveries / (N - 1), fanout: N - 1, durationMs }
        : { senders: N, to: partner, rate: deliveries, fanout: 1, durationMs },
    );
  // Warm-up, at no more than the rate measured: a slower server would still be working off
  // the warm-up's backlog during the measurement.
  await load(Math.min(100e3, rate), 1000);
  const pids = [server.pid, ...lg.pids];
  const before = await Promise.all(pids.map(cpuSeconds));
  const figures = await load(rate, seconds * 1000);
  const used = (await Promise.all(pids.map(cpuSeconds))).map(
    (c, i) => (c - (before[i] ?? 0)) / seconds,
  );
  const history = values.history ?? "default";
  console.log(
    `${values.scenario} over ${values.transport} at ${rate} deliveries/s for ${seconds} s ` +
      `(store ${values.store}, RELAY_HISTORY ${history})`,
  );
  const { delivered, lost, p50, p99 } = figures;
  console.log(
    `delivered ${Math.round(delivered)}/s, lost ${lost}, p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`,
  );
  console.log(
    `CPU (cores busy): server ${used[0]?.toFixed(2)}, load generator ${used
      .slice(1)
      .map((u) => u.toFixed(2))
      .join(" + ")}`,
  );
} finally {
  await lg.close();
  await server.stop();
}
// The profile covers the whole life of the server: start-up, the warm-up and the load.
// One file per thread (CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile); thread 0 is the main one.
const [file] = (await readdir(dir)).filter((f) => f.includes(`.${server.pid}.0.`));
if (!file) throw new Error(`no profile written in ${dir}`);
console.log(`\nself time, whole run (${join(dir, file)}):`);
for (const [name, share] of selfTimes(JSON.parse(await readFile(join(dir, file), "utf8"))).slice(
  0,
  Number(values.top),
)) {
  console.log(`${(share * 100).toFixed(1).padStart(5)}%  ${name}`);
}
