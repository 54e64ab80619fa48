// The CPU time processes have used, from /proc: what a server spends on a load, whatever the
// load generator beside it spends.
import { readFile } from "node:fs/promises";

/** Clock ticks per second in /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * CPU milliseconds (user and system, all threads) that the processes `pids` have used so
 * far, added up.
 *
 * @example
 * const before = await cpuMs([server.pid]);
 * // ... the load ...
 * const used = (await cpuMs([server.pid])) - before;
 */
export async function cpuMs(pids: number[]): Promise<number> {
  let ticks = 0;
  for (const pid of pids) {
    // The command name (field 2) may hold spaces: fields are counted from after its ")".
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/**
 * The read and write system calls (read, readv, write, writev... on sockets and files, but
 * not send or recv) the process `pid` has made so far, from /proc/<pid>/io: on loopback each
 * costs the kernel's whole path, both ends.
 *
 * @example
 * const before = await ioCalls(server.pid);
 */
export async function ioCalls(pid: number): Promise<{ reads: number; writes: number }> {
  const io = await readFile(`/proc/${pid}/io`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, "m").exec(io)?.[1] ?? 0);
  return { reads: field("syscr"), writes: field("syscw") };
}
