// What stopped a scale run, and what lies past it: the cause of a failed login, a look past
// the server's open-file limit, and a watchdog that leaves no server behind.
import { spawn } from "node:child_process";
import type { Logged, ScaleFleet } from "./scale-fleet.ts";
import { alive, openFiles } from "./scale-limits.ts";
import type { Server } from "./servers.ts";

/** A reason for stopping, for the table (`short`) and for the notes (`long`). */
export interface Stop {
  short: string;
  long: string;
}

const limit = (n: number) => (Number.isFinite(n) ? String(n) : "unlimited");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Kills `pid` if this process dies first, even by SIGKILL: a shell that polls both once a
 * second and ends as soon as either is gone.
 */
export function watchdog(pid: number): void {
  const me = process.pid;
  const script =
    `while kill -0 ${me} 2>/dev/null && kill -0 ${pid} 2>/dev/null; do sleep 1; done; ` +
    `kill -0 ${me} 2>/dev/null || kill -9 ${pid} 2>/dev/null`;
  spawn("sh", ["-c", script], { detached: true, stdio: "ignore" }).unref();
}

/** Why logins stopped before the aim, from the failure and the state of the server. */
export async function failureCause(
  server: number,
  serverSoft: number,
  failure: NonNullable<Logged["failure"]>,
): Promise<Stop> {
  const at = `${failure.name} from ${failure.address}: ${failure.reason}`;
  if (!(await alive(server)))
    return { short: "the server ended", long: `the server process ended (last login: ${at})` };
  const open = await openFiles(server);
  if (open >= serverSoft - 2)
    return {
      short: `server open files (${limit(serverSoft)})`,
      long: `the server's open-file limit: ${open} files open of ${limit(serverSoft)} (${at})`,
    };
  if (/EMFILE|ENFILE/.test(failure.reason))
    return {
      short: "load generator open files",
      long: `the load generator's open-file limit (${at})`,
    };
  if (/EADDRNOTAVAIL|EADDRINUSE|no source port/.test(failure.reason))
    return {
      short: `source ports of ${failure.address}`,
      long: `the source ports of ${failure.address} (${at})`,
    };
  if (failure.reason.includes("server_full"))
    return { short: "RELAY_MAX_CONNECTIONS", long: `the server said it is full (${at})` };
  return { short: "a failed login", long: `a login failed (${at})` };
}

/**
 * Logs in up to `extra` clients past the server's open-file limit until one fails, then closes 100 and
 * logs in 5 more: a server that does not take them stopped accepting when it ran out of
 * files. Returns the most clients held at once.
 */
export async function pastTheLimit(
  fleet: ScaleFleet,
  server: Server,
  port: number,
  extra: number,
  note: (line: string) => void,
): Promise<number> {
  const before = fleet.loggedIn;
  const one = (n: number) => fleet.pids.map((_, i) => (i === 0 ? n : 0));
  const opts = { parallel: 8, timeoutMs: 5000 };
  const past = await fleet.login("127.0.0.1", port, one(extra), opts);
  const failed = past.failure ? `, then: ${past.failure.reason}` : "";
  const files = async () =>
    (await alive(server.pid)) ? `${await openFiles(server.pid)} files open` : "the server ended";
  note(`past the aim: ${past.ok - before} of ${extra} more logged in${failed} (${await files()})`);
  if (!past.failure || !(await alive(server.pid))) return past.ok;
  await fleet.release(100);
  await sleep(1000);
  const again = await fleet.login("127.0.0.1", port, one(5), opts);
  const back = again.ok - (past.ok - 100);
  note(
    `then 100 clients left, and ${back} of 5 new ones logged in` +
      (back === 0
        ? ` (${again.failure?.reason}): the server no longer accepts connections after running out of files`
        : "") +
      ` (${await files()})`,
  );
  return past.ok;
}
