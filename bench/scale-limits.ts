// What this machine lets the scale bench reach: open-file limits of each process (from
// /proc/<pid>/limits), memory, free loopback addresses and the connection-tracking table;
// and what the processes use (CPU time, open files).
import { spawnSync } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";

/** A process's open-file limit (RLIMIT_NOFILE); `Infinity` when unlimited. */
export interface FileLimit {
  soft: number;
  hard: number;
}

const limitValue = (s: string) => (s === "unlimited" ? Number.POSITIVE_INFINITY : Number(s));

/**
 * The open-file limit of process `pid`, as /proc/<pid>/limits has it.
 *
 * @example
 * const { soft, hard } = await openFileLimit(process.pid); // { soft: 20000, hard: 20000 }
 */
export async function openFileLimit(pid: number): Promise<FileLimit> {
  const text = await readFile(`/proc/${pid}/limits`, "utf8");
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m) throw new Error(`no "Max open files" line in /proc/${pid}/limits`);
  return { soft: limitValue(m[1] as string), hard: limitValue(m[2] as string) };
}

/** How many files process `pid` has open now (sockets included). */
export async function openFiles(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

/**
 * Raises the soft open-file limit of `pid` to its hard one with prlimit(1), where it is
 * lower (Node and Deno raise their own at start; this is for a runtime that does not).
 * Returns the limit afterwards and, when it tried, a sentence saying how that went.
 */
export async function raiseOpenFiles(
  pid: number,
): Promise<{ limit: FileLimit; note: string | null }> {
  const before = await openFileLimit(pid);
  if (before.soft >= before.hard) return { limit: before, note: null };
  const hard = Number.isFinite(before.hard) ? String(before.hard) : "unlimited";
  const run = spawnSync("prlimit", ["--pid", String(pid), `--nofile=${hard}:${hard}`], {
    encoding: "utf8",
  });
  const limit = await openFileLimit(pid);
  const how =
    run.error !== undefined
      ? `prlimit could not run (${run.error.message})`
      : limit.soft > before.soft
        ? `raised with prlimit to ${limit.soft}`
        : `prlimit refused: ${run.stderr.trim()}`;
  return { limit, note: `soft limit ${before.soft} below hard ${before.hard}: ${how}` };
}

/** Whether process `pid` is still running (not gone, not a zombie). */
export async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** CPU time, in seconds. */
export interface Cpu {
  user: number;
  system: number;
}

/** CPU time the processes `pids` have used so far, all together. */
export async function cpuOf(pids: number[]): Promise<Cpu> {
  const sum: Cpu = { user: 0, system: 0 };
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux).
    sum.user += Number(fields[11]) / 100;
    sum.system += Number(fields[12]) / 100;
  }
  return sum;
}

/** The machine's memory, in bytes, from /proc/meminfo. */
export async function memory(): Promise<{ total: number; available: number }> {
  const text = await readFile("/proc/meminfo", "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
  return { total: kb("MemTotal") * 1024, available: kb("MemAvailable") * 1024 };
}

/**
 * Free entries of the kernel's connection-tracking table (each loopback TCP connection
 * takes one while netfilter tracks it), or null when there is no such table to read.
 */
export async function conntrackRoom(): Promise<number | null> {
  try {
    const read = (name: string) => readFile(`/proc/sys/net/netfilter/${name}`, "utf8");
    const [max, count] = await Promise.all([read("nf_conntrack_max"), read("nf_conntrack_count")]);
    return Number(max) - Number(count);
  } catch {
    return null;
  }
}

/**
 * How many times, so far, a listening socket's accept queue was full and a connection was
 * dropped (TcpExt ListenOverflows, for the whole network namespace: other programs count).
 */
export async function listenOverflows(): Promise<number> {
  const lines = (await readFile("/proc/net/netstat", "utf8")).split("\n");
  const at = lines.findIndex((l) => l.startsWith("TcpExt:"));
  const keys = (lines[at] ?? "").split(" ");
  const values = (lines[at + 1] ?? "").split(" ");
  return Number(values[keys.indexOf("ListenOverflows")] ?? 0);
}

/**
 * Loopback addresses 127.0.0.2 and up that no TCP socket of this machine uses (bound,
 * connected or waiting out TIME_WAIT; /proc/net/tcp), `count` of them: ports of an address
 * still held by an earlier run would make each new bind search longer for a free one.
 */
export async function freeLoopbackAddresses(count: number): Promise<string[]> {
  const used = new Set<string>();
  for (const line of (await readFile("/proc/net/tcp", "utf8")).split("\n").slice(1)) {
    const hex = line.trim().split(/\s+/)[1]?.split(":")[0];
    if (hex?.length !== 8) continue;
    // Little-endian hex: "0200007F" is 127.0.0.2.
    used.add([6, 4, 2, 0].map((at) => Number.parseInt(hex.slice(at, at + 2), 16)).join("."));
  }
  const free: string[] = [];
  for (let i = 2; i < 255 * 255 && free.length < count; i++) {
    const address = `127.0.${Math.floor(i / 255)}.${i % 255}`;
    if (i % 255 !== 0 && !used.has(address)) free.push(address);
  }
  return free;
}
