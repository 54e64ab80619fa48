// One contender under one scenario: a server started fresh, N clients logged in and warmed
// up, then loads run one after another on them, each with its figures and the CPU time the
// server spent on it. A load the server did not keep up with ends the trial's server and
// clients; the next load starts afresh, so that no run pays for the one before.
import { cpuMs, ioCalls } from "./cpu.ts";
import type { DialectName } from "./dialects.ts";
import { type Figures, LoadGen } from "./loadgen.ts";
import type { Server } from "./servers.ts";

/** A room of N clients with S senders, or N/2 pairs writing to each other. */
export type Scenario = "fanout" | "private";

/** What a trial needs to know of a server under test. */
export interface Target {
  label: string;
  dialect: DialectName;
  start: () => Promise<Server>;
  /** Where its clients connect (several addresses: one per node, round robin). */
  address: (server: Server) => string | string[];
}

/** One load's figures, with what it cost the server. */
export interface Measured extends Figures {
  /** Deliveries that arrived, in all. */
  received: number;
  /** CPU time (user and system) the server's process used from the start of the load until
   * nothing more arrived, in ms. */
  cpuMs: number;
  /** Read and write system calls the server made meanwhile. */
  reads: number;
  writes: number;
}

/** The room of the fan-out scenario. */
export const ROOM = "#bench";

/** Whether a load was sustained: no delivery lost, p99 under 100 ms. */
export const sustained = (f: Figures) => f.lost === 0 && f.p99 < 100;

/**
 * Whether a load was missed by far (p99 over a second, or not half the deliveries arrived):
 * not a miss that noise explains, and the costliest kind of run (the backlog drains for up
 * to 5 s, then the server restarts).
 */
export const farOff = (f: Figures) => f.p99 >= 1000 || f.delivered < f.offered / 2;

/** A trial of `target` under `scenario`, with `n` clients of which `senders` send (fan-out). */
export class Trial {
  #server: Server | null = null;
  #lg: LoadGen | null = null;
  readonly #fanout: number;
  readonly #senders: number;

  constructor(
    readonly target: Target,
    readonly scenario: Scenario,
    readonly shape: { n: number; senders: number; warmup: number },
  ) {
    this.#fanout = scenario === "fanout" ? shape.n - 1 : 1;
    this.#senders = scenario === "fanout" ? shape.senders : shape.n;
  }

  /**
   * Runs `deliveries` per second for `durationMs` (on a fresh server, warmed up for a second
   * at no more than that load, if the last run failed or none ran yet).
   */
  async run(deliveries: number, durationMs: number): Promise<Measured> {
    if (!this.#server) await this.#open(Math.min(this.shape.warmup, deliveries));
    const pid = (this.#server as Server).pid;
    const before = await cpuMs([pid]);
    const calls = await ioCalls(pid);
    const figures = await this.#load(deliveries, durationMs);
    const used = (await cpuMs([pid])) - before;
    const { reads, writes } = await ioCalls(pid);
    if (!sustained(figures)) await this.close();
    return {
      ...figures,
      received: (figures.delivered * durationMs) / 1000,
      cpuMs: used,
      reads: reads - calls.reads,
      writes: writes - calls.writes,
    };
  }

  /** Stops the clients and the server. */
  async close(): Promise<void> {
    const lg = this.#lg;
    const server = this.#server;
    this.#lg = null;
    this.#server = null;
    await lg?.close();
    await server?.stop();
  }

  async #open(warmup: number): Promise<void> {
    const server = await this.target.start();
    this.#server = server;
    this.#lg = new LoadGen(2);
    const room = this.scenario === "fanout" ? ROOM : null;
    await this.#lg.connect(this.target.dialect, this.target.address(server), this.shape.n, room);
    // Warm up (a fresh process compiles its hot paths during its first busy second), at no
    // more than the load to come: a server far slower than the warm-up would still be
    // working off its backlog during that load.
    await this.#load(warmup, 1000);
  }

  #load(deliveries: number, durationMs: number): Promise<Figures> {
    const partner = (name: string) => {
      const i = Number(name.slice(1));
      return `u${i % 2 === 0 ? i + 1 : i - 1}`;
    };
    return (this.#lg as LoadGen).run({
      senders: this.#senders,
      to: this.scenario === "fanout" ? () => ROOM : partner,
      rate: deliveries / this.#fanout,
      fanout: this.#fanout,
      durationMs,
    });
  }
}
