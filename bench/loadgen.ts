// The parent side of the load generator: worker processes, scenarios, figures.
import { type ChildProcess, fork } from "node:child_process";
import type { DialectName } from "./dialects.ts";
import { percentile } from "./histogram.ts";
import type { WorkerCommand, WorkerReply } from "./worker.ts";

/** One measured run. */
export interface Figures {
  /** Deliveries per second asked of the server. */
  offered: number;
  /** Deliveries per second that arrived. */
  delivered: number;
  lost: number;
  p50: number;
  p99: number;
}

/** A pool of worker processes holding the clients. */
export class LoadGen {
  readonly #workers: ChildProcess[];
  #names: string[][] = [];

  constructor(count: number) {
    this.#workers = Array.from({ length: count }, () =>
      fork("bench/worker.ts", [], { execArgv: ["--import", "tsx"], stdio: "inherit" }),
    );
  }

  /** The worker processes' ids (to read their CPU time). */
  get pids(): number[] {
    return this.#workers.map((w) => w.pid as number);
  }

  #ask(worker: ChildProcess, command: WorkerCommand): Promise<WorkerReply> {
    return new Promise((resolve, reject) => {
      worker.once("message", (reply: WorkerReply) =>
        reply.kind === "error" ? reject(new Error(reply.message)) : resolve(reply),
      );
      worker.send(command);
    });
  }

  /**
   * Connects `n` clients (u0…), spread over the workers (worker i to the i-th of several
   * servers, round robin); resolves with the time it took (ms).
   */
  async connect(
    dialect: DialectName,
    url: string | string[],
    n: number,
    room: string | null,
  ): Promise<number> {
    const urls = typeof url === "string" ? [url] : url;
    const w = this.#workers.length;
    this.#names = this.#workers.map((_, i) =>
      Array.from({ length: Math.ceil((n - i) / w) }, (_, k) => `u${k * w + i}`),
    );
    const start = performance.now();
    await Promise.all(
      this.#workers.map((worker, i) =>
        this.#ask(worker, {
          cmd: "connect",
          dialect,
          url: urls[i % urls.length] as string,
          names: this.#names[i] as string[],
          room,
          parallel: 50,
        }),
      ),
    );
    return performance.now() - start;
  }

  /**
   * Sends for `durationMs`: the first `senders` clients to `to(name)` at `rate` messages/s in
   * all; `fanout` is how many clients receive each message.
   */
  async run(opts: {
    senders: number;
    to: (name: string) => string;
    rate: number;
    fanout: number;
    durationMs: number;
  }): Promise<Figures> {
    const replies = await Promise.all(
      this.#workers.map((worker, i) => {
        const names = this.#names[i] as string[];
        const mine = names
          .map((name, index) => ({ name, index }))
          .filter(({ name }) => Number(name.slice(1)) < opts.senders);
        return this.#ask(worker, {
          cmd: "run",
          senders: mine.map(({ name, index }) => ({ index, to: opts.to(name) })),
          rate: (opts.rate * mine.length) / opts.senders,
          durationMs: opts.durationMs,
        });
      }),
    );
    let sent = 0;
    let received = 0;
    const bins = new Map<number, number>();
    for (const r of replies) {
      if (r.kind !== "ran") continue;
      sent += r.sent;
      received += r.received;
      for (const [bin, n] of r.histogram) bins.set(bin, (bins.get(bin) ?? 0) + n);
    }
    const seconds = opts.durationMs / 1000;
    return {
      offered: opts.rate * opts.fanout,
      delivered: received / seconds,
      lost: Math.max(0, sent * opts.fanout - received),
      p50: percentile(bins, 0.5),
      p99: percentile(bins, 0.99),
    };
  }

  /** Closes every client and ends the workers. */
  async close(): Promise<void> {
    await Promise.all(
      this.#workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            worker.once("exit", () => resolve());
            worker.send({ cmd: "close" });
          }),
      ),
    );
  }
}
