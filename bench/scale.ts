// npm run bench -- --only scale: up to 100,000 idle TCP clients log in to one relay (Node,
// then Deno), then 1,000 of them chat in rooms of 20 while the rest stay idle. The machine's
// limits (open files of each process, memory, ports, connection tracking) are read first;
// the bench aims at what they allow and says which one stopped it, and where.
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { type Chatted, ScaleFleet } from "./scale-fleet.ts";
import {
  alive,
  type Cpu,
  conntrackRoom,
  cpuOf,
  freeLoopbackAddresses,
  listenOverflows,
  memory,
  openFileLimit,
  openFiles,
  raiseOpenFiles,
} from "./scale-limits.ts";
import { failureCause, pastTheLimit, type Stop, watchdog } from "./scale-stops.ts";
import { rss, startRelay } from "./servers.ts";

/** How many clients the bench aims at, when the machine allows it. */
const TARGET = 100_000;
const QUICK_TARGET = 10_000;
/** Files the server may open beyond its clients and what it had open at start. */
const SERVER_SPARE = 16;
/** Files each load-generator process keeps free beyond its clients. */
const WORKER_SPARE = 64;
/**
 * Clients per loopback source address: well under one address's ephemeral ports (28,232
 * by default), so that any run this machine allows spreads over several addresses.
 */
const PER_ADDRESS = 10_000;
/** Source ports each load generator keeps beyond its share, for retries and the probes. */
const SPARE_PORTS = 1000;
/** Logins in flight at once, per load-generator process. */
const PARALLEL = 64;
const LOGIN_TIMEOUT_MS = 15_000;
const CHATTERS = 1000;
const ROOM_SIZE = 20;
/** Each chatting client sends one message this often. */
const CHAT_INTERVAL_MS = 1500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const count = (n: number) => Math.round(n).toLocaleString("en-US");
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const gb = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GB`;
const ms = (n: number) => (Number.isNaN(n) ? "-" : `${n.toFixed(1)} ms`);
const secs = (x: number) => `${(x / 1000).toFixed(1)} s`;
const limit = (n: number) => (Number.isFinite(n) ? String(n) : "unlimited");

/** One thing that bounds how many clients a run can hold, and how many that is. */
interface Ceiling extends Stop {
  count: number;
}

/** One runtime's row, and the notes that explain it. */
interface Row {
  label: string;
  connected: number;
  ms: number;
  serverPerConn: number;
  chat: Chatted | null;
  stoppedBy: string;
  notes: string[];
}

/** One runtime: plan from the limits, log everyone in, chat, then look past the limit. */
async function scaleRun(runtime: "node" | "deno", quick: boolean): Promise<Row> {
  const label = `relay (${runtime === "node" ? "Node" : "Deno"}, TCP)`;
  const notes: string[] = [];
  const note = (line: string) => {
    notes.push(line);
    console.error(`[scale, ${runtime}] ${line}`);
  };
  // The default configuration, but for the connection cap (RELAY_STORE=memory and no IRC port,
  // as the other rows of the bench); an empty RELAY_RATE_LIMIT is the default rate limit.
  const server = await startRelay(runtime, {
    RELAY_MAX_CONNECTIONS: String(TARGET),
    RELAY_RATE_LIMIT: "",
  });
  watchdog(server.pid);
  const killServer = () => {
    try {
      process.kill(server.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  };
  process.once("exit", killServer);
  let fleet: ScaleFleet | null = null;
  try {
    const { port } = new URL(server.tcp);
    const target = quick ? QUICK_TARGET : TARGET;
    const raised = await raiseOpenFiles(server.pid);
    if (raised.note) note(`server: ${raised.note}`);
    const serverLimit = raised.limit;
    const serverOpen = await openFiles(server.pid);
    const ceilings: Ceiling[] = [
      {
        count: target,
        short: quick ? "the --quick target" : "the target",
        long: `the target (${count(target)}${quick ? ", --quick" : ""})`,
      },
      {
        count: serverLimit.soft - serverOpen - SERVER_SPARE,
        short:
          serverLimit.soft === serverLimit.hard
            ? `server open files (hard ${limit(serverLimit.hard)})`
            : `server open files (soft ${limit(serverLimit.soft)})`,
        long:
          `the server's open-file limit (soft ${limit(serverLimit.soft)}, hard ` +
          `${limit(serverLimit.hard)}, ${serverOpen} open at start, ${SERVER_SPARE} kept spare)`,
      },
    ];
    const conntrack = await conntrackRoom();
    if (conntrack !== null)
      ceilings.push({
        count: conntrack - 1000,
        short: "conntrack table",
        long: `the connection-tracking table (${count(conntrack)} entries free)`,
      });
    // Load generators enough for what the server can take: each inherits this process's limit.
    const own = await openFileLimit(process.pid);
    const reach = Math.min(...ceilings.map((c) => c.count));
    const perWorker = Math.max(
      1000,
      (Number.isFinite(own.soft) ? own.soft : 1e6) - WORKER_SPARE - 40,
    );
    fleet = new ScaleFleet(Math.min(16, Math.max(2, Math.ceil(reach / perWorker))));
    let workerRoom = 0;
    for (const pid of fleet.pids) {
      const w = await raiseOpenFiles(pid);
      if (w.note) note(`load generator ${pid}: ${w.note}`);
      workerRoom += Math.min(w.limit.soft, 1e7) - (await openFiles(pid)) - WORKER_SPARE;
    }
    ceilings.push({
      count: workerRoom,
      short: "load generator open files",
      long: `the load generators' open-file limits (${fleet.pids.length} processes)`,
    });
    const binding = ceilings.reduce((a, b) => (b.count < a.count ? b : a));
    const aim = Math.max(0, binding.count);
    const addresses = await freeLoopbackAddresses(Math.max(1, Math.ceil(aim / PER_ADDRESS)));
    const w = fleet.pids.length;
    const shares = fleet.pids.map((_, i) => Math.floor(aim / w) + (i < aim % w ? 1 : 0));
    fleet.sources(addresses, Math.ceil((shares[0] ?? 0) / addresses.length) + SPARE_PORTS);
    const load = (await readFile("/proc/loadavg", "utf8")).split(" ")[0];
    note(
      `machine: ${availableParallelism()} cores, load average ${load} (others' work included); ` +
        `${gb((await memory()).total)} of memory`,
    );
    note(
      `aim ${count(aim)}, set by ${binding.long}; server limit soft ${limit(serverLimit.soft)} ` +
        `hard ${limit(serverLimit.hard)}; ${w} load generators, from ${addresses.join(", ")}`,
    );

    // Log everyone in, watching memory, time and the server meanwhile.
    await sleep(500);
    const serverBefore = await rss(server.pid);
    const workersBefore = await sum(fleet.pids.map(rss));
    const mem0 = await memory();
    const floor = Math.max(2 ** 30, mem0.total * 0.05);
    const bound = quick ? 40_000 : 300_000;
    let halted: Stop | null = null;
    let lowest = mem0.available;
    const cpu0 = { server: await cpuOf([server.pid]), workers: await cpuOf(fleet.pids) };
    const overflows0 = await listenOverflows();
    const started = performance.now();
    const active = fleet;
    const watch = setInterval(async () => {
      if (halted) return;
      const { available } = await memory();
      lowest = Math.min(lowest, available);
      const at = count(active.loggedIn);
      if (available < floor)
        halted = {
          short: "memory",
          long: `memory: ${gb(available)} available at ${at}, under the floor of ${gb(floor)}`,
        };
      else if (performance.now() - started > bound)
        halted = {
          short: "time bound",
          long: `the bench's time bound (${bound / 1000} s) at ${at}`,
        };
      else if (!(await alive(server.pid)))
        halted = { short: "the server ended", long: `the server process ended at ${at}` };
      if (halted) active.halt();
    }, 500);
    const host = "127.0.0.1";
    const logged = await fleet
      .login(host, Number(port), shares, {
        parallel: PARALLEL,
        timeoutMs: LOGIN_TIMEOUT_MS,
      })
      .finally(() => clearInterval(watch));
    const cpu1 = { server: await cpuOf([server.pid]), workers: await cpuOf(fleet.pids) };
    const overflows = (await listenOverflows()) - overflows0;
    // Whether a login costs more as more are online shows in the rate of each quarter.
    if (logged.ok === aim && logged.ms > 4000) {
      const ends = [...fleet.reachedAt([1, 2, 3].map((q) => (aim * q) / 4)), logged.ms];
      const rates = ends.map((t, i) => (aim / 4 / (t - (ends[i - 1] ?? 0))) * 1000);
      note(`logins/s by quarter: ${rates.map(count).join(", ")}`);
    }
    const { took } = logged;
    note(
      `one login took p50 ${took.p50} ms, p99 ${took.p99} ms, max ${took.max} ms; load ` +
        `generators done at ${logged.ends.map(secs).join(", ")}; accept-queue overflows ` +
        `(whole machine) ${overflows}; CPU meanwhile: server ${cpuSpent(cpu0.server, cpu1.server)}, ` +
        `load generators ${cpuSpent(cpu0.workers, cpu1.workers)}, in ${secs(logged.ms)}`,
    );
    await sleep(1000);
    const up = await alive(server.pid);
    const serverPerConn = up ? ((await rss(server.pid)) - serverBefore) / logged.ok : Number.NaN;
    const workersPerConn = ((await sum(fleet.pids.map(rss))) - workersBefore) / logged.ok;
    const stop: Stop = logged.failure
      ? await failureCause(server.pid, serverLimit.soft, logged.failure)
      : (halted ?? binding);
    note(
      `${count(logged.ok)} logged in in ${(logged.ms / 1000).toFixed(1)} s; stopped by ` +
        `${stop.long}${logged.dropped ? `; ${logged.dropped} closed by the server since` : ""}`,
    );

    let chat: Chatted | null = null;
    if (up && logged.ok > 0) {
      try {
        const cpuBefore = await cpuOf([server.pid]);
        const chatStart = performance.now();
        chat = await fleet.chat({
          chatters: CHATTERS,
          roomSize: ROOM_SIZE,
          intervalMs: CHAT_INTERVAL_MS,
          durationMs: quick ? 4000 : 10_000,
          warmupMs: 2000,
        });
        const refused = Object.entries(chat.refused).map(([code, n]) => `${n} ${code}`);
        note(
          `chat: ${count(chat.sent)} messages, ${count(chat.received)} of ${count(chat.expected)} ` +
            `deliveries, p50 ${ms(chat.p50)}, p99 ${ms(chat.p99)}` +
            `${refused.length ? `; refused: ${refused.join(", ")}` : ""}` +
            `${chat.dropped ? `; ${chat.dropped} clients closed by the server by now` : ""}; ` +
            `load generators' timers late by up to ${ms(chat.lagMax)}; server CPU ` +
            `${cpuSpent(cpuBefore, await cpuOf([server.pid]))} in ` +
            `${secs(performance.now() - chatStart)} (warm-up, chat and drain)`,
        );
      } catch (e) {
        note(`chat: ${e instanceof Error ? e.message : e}`);
      }
    }

    // Past the limit: when the server's open files set the aim, try a few more logins to see
    // that limit stop them, then let some clients go and see the server take new ones again.
    let reached = logged.ok;
    if (!logged.failure && !halted && binding === ceilings[1] && up)
      reached = await pastTheLimit(fleet, server, Number(port), SERVER_SPARE + 48, note);
    const mem = await memory();
    lowest = Math.min(lowest, mem.available);
    const need = (serverPerConn + workersPerConn) * TARGET;
    note(
      `memory: ${gb(mem0.available)} available at start, ${gb(lowest)} at the lowest; RSS per ` +
        `connection: server ${kb(serverPerConn)}, load generator ${kb(workersPerConn)}; ` +
        `${count(TARGET)} would take about ${gb(need)} of both (kernel socket memory aside)`,
    );
    return {
      label,
      connected: logged.ok,
      ms: logged.ms,
      serverPerConn,
      chat,
      stoppedBy: reached > logged.ok ? `${stop.short} at ${count(reached)}` : stop.short,
      notes,
    };
  } finally {
    // The server first: its side closes first, so the clients' ports are not left waiting.
    await server.stop();
    await fleet?.close();
    process.off("exit", killServer);
  }
}

async function sum(xs: Promise<number>[]): Promise<number> {
  return (await Promise.all(xs)).reduce((a, b) => a + b, 0);
}

/** CPU time between two readings, as "4.2 s (user 3.0, system 1.2)". */
function cpuSpent(from: Cpu, to: Cpu): string {
  const user = to.user - from.user;
  const system = to.system - from.system;
  return `${(user + system).toFixed(1)} s (user ${user.toFixed(1)}, system ${system.toFixed(1)})`;
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

/** Runs the scale bench on Node and on Deno and prints its table, then the notes of each. */
export async function scaleBench(opts: { quick: boolean }): Promise<void> {
  const rows: Row[] = [];
  for (const runtime of ["node", "deno"] as const) {
    try {
      rows.push(await scaleRun(runtime, opts.quick));
    } catch (e) {
      console.log(`\nscale, ${runtime}: failed: ${e instanceof Error ? e.message : e}`);
    }
  }
  const target = opts.quick ? QUICK_TARGET : TARGET;
  table(
    `scale: up to ${count(target)} idle TCP clients, then ${count(CHATTERS)} of them chatting in rooms ` +
      `of ${ROOM_SIZE} (a message each every ${CHAT_INTERVAL_MS / 1000} s)`,
    [
      "server",
      "connected",
      "time to log all in",
      "logins/s",
      "RSS per connection",
      "chat p50 / p99",
      "lost",
      "stopped by",
    ],
    rows.map((r) => [
      r.label,
      count(r.connected),
      `${(r.ms / 1000).toFixed(1)} s`,
      count(r.connected / (r.ms / 1000)),
      kb(r.serverPerConn),
      r.chat ? `${ms(r.chat.p50)} / ${ms(r.chat.p99)}` : "-",
      r.chat ? count(r.chat.lost) : "-",
      r.stoppedBy,
    ]),
  );
  for (const r of rows) {
    console.log(`\n${r.label}:`);
    for (const n of r.notes) console.log(`- ${n}`);
  }
}
