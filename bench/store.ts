// The log of the KV store alone, without sockets: appends go to a Deno KV file as the relay's
// LogWriter sends them (one commit at a time; what arrives meanwhile goes in the next), at a
// fixed rate, for a few seconds; prints the CPU they took per message, on the main thread and
// in all (Deno KV writes on threads of its own), and the commits' latency. Less noisy than
// the whole relay on a shared machine: a figure per change to the store.
//
//   node --import tsx bench/store.ts --scenario private --rate 30000 --seconds 6
//
// fanout: all messages to one room's log; private: to 100 pairs' logs (as `npm run bench`).
// --module takes `KvStore` from another file: a copy of kv.ts from before a change, to compare.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { openKv } from "@deno/kv";
import { MessageIds } from "../src/core/mod.ts";
import type { KvStore } from "../src/host/store/kv.ts";
import type { LogEntry } from "../src/host/store/store.ts";

const { values } = parseArgs({
  options: {
    scenario: { type: "string", default: "fanout" },
    rate: { type: "string", default: "10000" },
    seconds: { type: "string", default: "6" },
    keep: { type: "string", default: "1000" },
    module: { type: "string" },
  },
});
const fanout = values.scenario !== "private";
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const keep = Number(values.keep);

const from = values.module ? pathToFileURL(resolve(values.module)).href : "../src/host/store/kv.ts";
const { KvStore: Store } = (await import(from)) as { KvStore: typeof KvStore };
const dir = await mkdtemp(join(tmpdir(), "bench-store-"));
const store = new Store(await openKv(join(dir, "relay.kv")));
const ids = new MessageIds();

function entry(i: number): LogEntry {
  const id = ids.next(Date.now());
  const text = `message ${i} from the load generator`;
  const ts = new Date().toISOString();
  if (fanout)
    return {
      conv: "#bench",
      message: { type: "message", id, from: `u${i % 20}`, to: "#bench", text, ts },
    };
  const a = (i % 200) & ~1;
  const [from, to] = [`u${a}`, `u${a + 1}`];
  return {
    conv: `@${from}|${to}`,
    users: [from, to],
    message: { type: "message", id, from, to, text, ts },
  };
}

let waiting: LogEntry[] = [];
let committing = false;
let committed = 0;
const latencies: number[] = [];
async function commit(): Promise<void> {
  if (committing || waiting.length === 0) return;
  committing = true;
  const batch = waiting;
  waiting = [];
  const t0 = performance.now();
  await store.append(batch, keep);
  latencies.push(performance.now() - t0);
  committed += batch.length;
  committing = false;
  void commit();
}

let made = 0;
const start = performance.now();
const cpu0 = process.cpuUsage();
const elu0 = performance.eventLoopUtilization();
await new Promise<void>((resolve) => {
  const tick = setInterval(() => {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    while (made < due) waiting.push(entry(made++));
    void commit();
    if (performance.now() - start >= seconds * 1000) {
      clearInterval(tick);
      resolve();
    }
  }, 1);
});
const wall = (performance.now() - start) / 1000;
const cpu = process.cpuUsage(cpu0);
const elu = performance.eventLoopUtilization(elu0);
const backlog = waiting.length;
waiting = [];
while (committing) await new Promise((r) => setTimeout(r, 1));
await store.close();
await rm(dir, { recursive: true, force: true });

latencies.sort((a, b) => a - b);
const q = (p: number) => (latencies[Math.floor(latencies.length * p)] ?? Number.NaN).toFixed(1);
const us = (micros: number) => (micros / committed).toFixed(1);
console.log(
  `${values.scenario} at ${rate}/s for ${seconds} s: ${Math.round(committed / wall)}/s in ` +
    `${latencies.length} commits (backlog ${backlog}); per message ${us(elu.active * 1000)} us ` +
    `on the main thread, ${us(cpu.user + cpu.system)} us in all; commit p50 ${q(0.5)} ms, p99 ${q(0.99)} ms`,
);
