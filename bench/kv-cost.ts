// What Deno KV (through @deno/kv on Node, as `npm start` uses it) charges for a write on this
// machine, in CPU (user + system, every thread of the process) and wall time: a commit of a
// tiny value, of a large one, and values many to a commit. The floor under the log's cost:
// whatever the layout, each `ok` waits for a commit, and each message's bytes are written.
//
//   node --import tsx bench/kv-cost.ts [--dir /path/on/the/disk/to/measure]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { openKv } from "@deno/kv";

const { values } = parseArgs({ options: { dir: { type: "string" } } });
const dir = await mkdtemp(join(values.dir ?? tmpdir(), "bench-kv-"));
const kv = await openKv(join(dir, "cost.kv"));

/** A message's JSON as the log keeps it, about 200 bytes. */
const message = (i: number) =>
  new TextEncoder().encode(
    JSON.stringify({
      type: "message",
      id: `0mk2f3a1-${String(i).padStart(6, "0")}-n1`,
      from: `user${i % 200}`,
      to: `user${(i + 1) % 200}`,
      text: "a message of about the length people type in a chat, give or take",
      ts: "2026-11-30T12:00:00.000Z",
    }),
  );

/** Runs `commits` commits made by `fill`; prints CPU and wall time per commit and per unit. */
async function measure(
  what: string,
  commits: number,
  per: { unit: string; count: number },
  fill: (op: ReturnType<typeof kv.atomic>, n: number) => void,
): Promise<void> {
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  const start = performance.now();
  for (let n = 0; n < commits; n++) {
    const op = kv.atomic();
    fill(op, n);
    await op.commit();
  }
  const wall = ((performance.now() - start) * 1000) / commits;
  const used = process.cpuUsage(cpu);
  const main = (performance.eventLoopUtilization(elu).active * 1000) / commits;
  const perCommit = (used.user + used.system) / commits;
  const system = (100 * used.system) / (used.user + used.system);
  const unit = per.count > 1 ? `; ${(perCommit / per.count).toFixed(1)} us per ${per.unit}` : "";
  console.log(
    `${what}: ${perCommit.toFixed(0)} us CPU per commit (${system.toFixed(0)}% system, ` +
      `${main.toFixed(0)} us on the main thread), ${wall.toFixed(0)} us wall${unit}`,
  );
}

const tiny = new Uint8Array(10);
const large = new Uint8Array(48 * 1024).fill(65);
const packed = Array.from({ length: 240 }, (_, i) => message(i));
const joined = new Uint8Array(packed.reduce((n, m) => n + m.length + 1, 0));
packed.reduce((at, m) => {
  joined.set(m, at);
  return at + m.length + 1;
}, 0);

console.log(`Deno KV through @deno/kv on Node ${process.version}, a file in ${dir}`);
await measure("one 10-byte value", 2000, { unit: "", count: 1 }, (op, n) =>
  op.set(["tiny", n], tiny),
);
await measure("one 48 KiB value", 500, { unit: "", count: 1 }, (op, n) =>
  op.set(["large", n], large),
);
await measure("240 messages in one value", 500, { unit: "message", count: 240 }, (op, n) =>
  op.set(["packed", n], joined),
);
await measure("240 messages, a value each", 100, { unit: "message", count: 240 }, (op, n) => {
  for (const [i, m] of packed.entries()) op.set(["each", n, i], m);
});
kv.close();
await rm(dir, { recursive: true, force: true });
