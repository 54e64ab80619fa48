// The parent side of the scale bench's load generator: worker processes (bench/scale-worker.ts)
// each holding a share of the clients, logged in until told to halt, then chatting in rooms.
import { type ChildProcess, fork } from "node:child_process";
import { percentile } from "./histogram.ts";
import type { LoginFailure, ScaleCommand, ScaleReply } from "./scale-worker.ts";

/** What logging everyone in came to. */
export interface Logged {
  ok: number;
  ms: number;
  /** The first login that failed (from any worker), or null if none did. */
  failure: LoginFailure | null;
  /** How long one login took (connect to welcome), in ms: median, 99th percentile, max. */
  took: { p50: number; p99: number; max: number };
  /** When each worker was done (ms since the start), slowest last. */
  ends: number[];
  dropped: number;
}

/** What the chatting part came to. */
export interface Chatted {
  sent: number;
  /** Deliveries expected: each message, once for every other member of its room. */
  expected: number;
  received: number;
  lost: number;
  p50: number;
  p99: number;
  /** Messages refused by the server (`error` replies), by code. */
  refused: Record<string, number>;
  /** The most a load generator's send timer ran late (ms). */
  lagMax: number;
  dropped: number;
}

/** The first source port of the clients (none is bound to a listener on these addresses). */
const FIRST_PORT = 10_000;

/** Median, 99th percentile and max of [value, count] pairs (NaN when there are none). */
function quantiles(counts: Map<number, number>): { p50: number; p99: number; max: number } {
  const sorted = [...counts].sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((a, [, n]) => a + n, 0);
  const at = (fraction: number) => {
    let seen = 0;
    for (const [value, n] of sorted) {
      seen += n;
      if (seen >= total * fraction) return value;
    }
    return Number.NaN;
  };
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1)?.[0] ?? Number.NaN };
}

/** A pool of scale workers. */
export class ScaleFleet {
  readonly #workers: ChildProcess[];
  /** Each worker's answer in waiting (one at a time per worker). */
  readonly #waiting = new Map<ChildProcess, (reply: ScaleReply) => void>();
  /** Each worker's clients logged in so far, from its progress reports. */
  readonly #progress: number[];
  /** [ms since the current `login` began, clients logged in by then], one per report. */
  #samples: [number, number][] = [];
  #began = 0;
  /** Source addresses, and how many ports of each every worker has (set by `sources`). */
  #addresses: string[] = ["127.0.0.1"];
  #portsEach = 0;

  constructor(count: number) {
    this.#progress = Array.from({ length: count }, () => 0);
    this.#workers = Array.from({ length: count }, (_, i) => {
      const worker = fork("bench/scale-worker.ts", [], {
        execArgv: ["--import", "tsx"],
        stdio: "inherit",
      });
      worker.on("message", (reply: ScaleReply) => {
        if (reply.kind === "progress") {
          this.#progress[i] = reply.ok;
          this.#samples.push([performance.now() - this.#began, this.loggedIn]);
        } else this.#waiting.get(worker)?.(reply);
      });
      worker.once("exit", (code, signal) =>
        this.#waiting.get(worker)?.({
          kind: "error",
          message: `load generator ${worker.pid} ended (${signal ?? `exit ${code}`})`,
        }),
      );
      return worker;
    });
  }

  /** The worker processes' ids (to read their limits and memory). */
  get pids(): number[] {
    return this.#workers.map((w) => w.pid as number);
  }

  /**
   * Where clients connect from: `addresses`, and on each a range of `portsEach` ports for
   * every worker, from port 10000 up. Throws if that does not fit in 65535.
   */
  sources(addresses: string[], portsEach: number): void {
    if (FIRST_PORT + portsEach * this.#workers.length - 1 > 65535)
      throw new Error(`${this.#workers.length} ranges of ${portsEach} ports do not fit`);
    this.#addresses = addresses;
    this.#portsEach = portsEach;
  }

  /**
   * When the latest `login` reached each of `marks` clients logged in (ms since it began, to
   * the next progress report: a quarter of a second), NaN for those it did not reach.
   */
  reachedAt(marks: number[]): number[] {
    return marks.map((m) => this.#samples.find(([, n]) => n >= m)?.[0] ?? Number.NaN);
  }

  /** Clients logged in so far, all workers together. */
  get loggedIn(): number {
    return this.#progress.reduce((a, b) => a + b, 0);
  }

  #ask(worker: ChildProcess, command: ScaleCommand): Promise<ScaleReply> {
    return new Promise((resolve, reject) => {
      this.#waiting.set(worker, (reply) => {
        this.#waiting.delete(worker);
        if (reply.kind === "error") reject(new Error(reply.message));
        else resolve(reply);
      });
      worker.send(command);
    });
  }

  /**
   * Logs in `shares[i]` more clients from worker i (names `s<worker>-<k>`), from the
   * `sources`, until all are in, one fails, or `halt` is called; a failure halts the other
   * workers too. `ok` counts all logged in so far, earlier calls included.
   */
  async login(
    host: string,
    port: number,
    shares: number[],
    opts: { parallel: number; timeoutMs: number },
  ): Promise<Logged> {
    this.#samples = [];
    this.#began = performance.now();
    const replies = await Promise.all(
      this.#workers.map(async (worker, i) => {
        const base = this.#progress[i] as number;
        const reply = await this.#ask(worker, {
          cmd: "login",
          host,
          port,
          names: Array.from({ length: shares[i] ?? 0 }, (_, k) => `s${i}-${base + k}`),
          addresses: this.#addresses,
          firstPort: FIRST_PORT + i * this.#portsEach,
          lastPort: FIRST_PORT + (i + 1) * this.#portsEach - 1,
          ...opts,
        });
        if (reply.kind === "logged") {
          this.#progress[i] = reply.ok;
          if (reply.failure) this.halt();
        }
        return reply;
      }),
    );
    let failure: LoginFailure | null = null;
    let dropped = 0;
    const ends: number[] = [];
    const took = new Map<number, number>();
    for (const r of replies) {
      if (r.kind !== "logged") continue;
      failure ??= r.failure;
      ends.push(r.ms);
      dropped += r.dropped;
      for (const [ms, n] of r.took) took.set(ms, (took.get(ms) ?? 0) + n);
    }
    ends.sort((a, b) => a - b);
    const ms = ends.at(-1) ?? 0;
    return { ok: this.loggedIn, ms, failure, took: quantiles(took), ends, dropped };
  }

  /** Closes the `count` clients the first worker logged in last. */
  async release(count: number): Promise<void> {
    const reply = await this.#ask(this.#workers[0] as ChildProcess, { cmd: "release", count });
    if (reply.kind === "released") this.#progress[0] = reply.ok;
  }

  /** Tells every worker to start no more logins. */
  halt(): void {
    for (const w of this.#workers) if (w.connected) w.send({ cmd: "halt" } satisfies ScaleCommand);
  }

  /**
   * `chatters` clients, spread evenly over the workers and over each one's clients, join
   * rooms of `roomSize` (`#scale0`, `#scale1`...), then each sends one message to its room
   * every `intervalMs` for `durationMs` while every client counts what arrives.
   */
  async chat(opts: {
    chatters: number;
    roomSize: number;
    intervalMs: number;
    durationMs: number;
    /** A first run of this long, not measured: the server's chat paths get compiled. */
    warmupMs: number;
  }): Promise<Chatted> {
    const total = this.loggedIn;
    const count = Math.min(opts.chatters, total);
    // Chatter j is the client at the j-th of `count` even steps through all of them.
    const members: { index: number; room: string }[][] = this.#workers.map(() => []);
    for (let j = 0; j < count; j++) {
      let at = Math.floor((j * total) / count);
      let w = 0;
      while (at >= (this.#progress[w] as number)) at -= this.#progress[w++] as number;
      members[w]?.push({ index: at, room: `#scale${Math.floor(j / opts.roomSize)}` });
    }
    const joins = await Promise.all(
      this.#workers.map((worker, i) =>
        this.#ask(worker, {
          cmd: "join",
          members: members[i] as { index: number; room: string }[],
        }),
      ),
    );
    const failed = joins.find((r) => r.kind === "joined" && r.failure !== null);
    if (failed?.kind === "joined") throw new Error(`a join failed: ${failed.failure}`);
    const size = new Map<string, number>();
    for (const m of members.flat()) size.set(m.room, (size.get(m.room) ?? 0) + 1);
    const chat = (durationMs: number) =>
      Promise.all(
        this.#workers.map((worker, i) =>
          this.#ask(worker, {
            cmd: "chat",
            senders: members[i] as { index: number; room: string }[],
            intervalMs: opts.intervalMs,
            durationMs,
          }),
        ),
      );
    if (opts.warmupMs > 0) await chat(opts.warmupMs);
    const replies = await chat(opts.durationMs);
    const result: Chatted = {
      sent: 0,
      expected: 0,
      received: 0,
      lost: 0,
      p50: Number.NaN,
      p99: Number.NaN,
      refused: {},
      lagMax: 0,
      dropped: 0,
    };
    const bins = new Map<number, number>();
    for (const r of replies) {
      if (r.kind !== "chatted") continue;
      for (const [room, n] of Object.entries(r.sent)) {
        result.sent += n;
        result.expected += n * ((size.get(room) ?? 1) - 1);
      }
      result.received += r.received;
      result.dropped += r.dropped;
      result.lagMax = Math.max(result.lagMax, r.lagMax);
      for (const [code, n] of Object.entries(r.refused))
        result.refused[code] = (result.refused[code] ?? 0) + n;
      for (const [bin, n] of r.histogram) bins.set(bin, (bins.get(bin) ?? 0) + n);
    }
    result.lost = Math.max(0, result.expected - result.received);
    result.p50 = percentile(bins, 0.5);
    result.p99 = percentile(bins, 0.99);
    return result;
  }

  /** Closes every client and ends the workers (killing any that does not end within 5 s). */
  async close(): Promise<void> {
    await Promise.all(
      this.#workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.exitCode !== null || worker.signalCode !== null) return resolve();
            const late = setTimeout(() => worker.kill("SIGKILL"), 5000);
            worker.once("exit", () => {
              clearTimeout(late);
              resolve();
            });
            if (worker.connected) worker.send({ cmd: "close" } satisfies ScaleCommand);
            else worker.kill("SIGKILL");
          }),
      ),
    );
  }
}
