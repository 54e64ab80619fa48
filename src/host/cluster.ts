import type { Input } from "../core/mod.ts";
import type { Bus, BusMessage } from "./bus/bus.ts";

/** What the cluster link tells its host. */
export interface ClusterEvents {
  /** An input to feed the core now (sync, a node gone). */
  input(input: Input): void;
  /** What another node said, as an input for the core. */
  heard(input: Input): void;
  failed(what: string, e: unknown): void;
}

/**
 * This node's part in its cluster, beside the core: it takes and renews the node's lease,
 * listens to the other nodes, asks a node met for the first time what it holds, and tells
 * the core when a node falls silent for a whole lease (`nodeDown`) or the bus came back
 * (`sync`).
 *
 * @example
 * const link = new ClusterLink(bus, 10_000, Date.now, events);
 * await link.start(); // a lone node's bus: returns at once
 */
export class ClusterLink {
  readonly #bus: Bus;
  readonly #leaseMs: number;
  readonly #clock: () => number;
  readonly #events: ClusterEvents;
  /** The other nodes heard from, and when they were last heard. */
  readonly #peers = new Map<string, number>();
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  /** This node's bus is down: it hears nobody, which says nothing of the others. */
  #deaf = false;
  /** While starting: the nodes whose state has come, out of how many are listening. */
  #learning: { waiting: Set<string>; expected: number; done: () => void } | null = null;

  constructor(bus: Bus, leaseMs: number, clock: () => number, events: ClusterEvents) {
    this.#bus = bus;
    this.#leaseMs = leaseMs;
    this.#clock = clock;
    this.#events = events;
  }

  /**
   * Joins the cluster (nothing to do for a lone node): takes this node's lease, listens to
   * the others, asks them what they hold (waiting at most two seconds for their answers, so
   * that the first users' welcome lists everyone), then renews the lease and watches for
   * nodes that fall silent.
   */
  async start(): Promise<void> {
    if (!this.#bus.clustered) return;
    await this.#bus.renew(this.#leaseMs);
    await this.#bus.start(
      (message) => this.#heard(message),
      () => {
        // Back: every node gets a whole lease from now to be heard again.
        this.#deaf = false;
        const now = this.#clock();
        for (const node of this.#peers.keys()) this.#peers.set(node, now);
        this.#events.input({ type: "sync", now });
      },
      () => {
        this.#deaf = true;
        this.#events.input({ type: "busLost", now: this.#clock() });
      },
    );
    this.#heartbeat = setInterval(() => this.#beat(), Math.max(50, Math.floor(this.#leaseMs / 3)));
    const others = await this.#bus.peers();
    const learnt = new Promise<void>((resolve) => {
      this.#learning = { waiting: new Set(), expected: others, done: resolve };
      if (others === 0) resolve();
    });
    this.#events.input({ type: "sync", now: this.#clock() });
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([learnt, new Promise((r) => (timer = setTimeout(r, SYNC_WAIT_MS)))]);
    clearTimeout(timer);
    this.#learning = null;
  }

  /** Stops renewing the lease and watching the others. */
  stop(): void {
    clearInterval(this.#heartbeat);
  }

  #beat(): void {
    const now = this.#clock();
    this.#bus.renew(this.#leaseMs).catch((e) => this.#events.failed("lease renewal", e));
    this.#bus.publish({ kind: "alive", node: this.#bus.node });
    if (this.#deaf) return;
    for (const [node, seen] of this.#peers) {
      if (now - seen <= this.#leaseMs) continue;
      this.#peers.delete(node);
      this.#events.input({ type: "nodeDown", node, now });
    }
  }

  /** What another node published. */
  #heard(message: BusMessage): void {
    const known = this.#peers.has(message.node);
    this.#peers.set(message.node, this.#clock());
    // A node met for the first time mid-stream: ask it for what it holds.
    if (!known && message.kind !== "hello" && message.kind !== "state") {
      this.#bus.publish({ kind: "hello", node: this.#bus.node }, message.node);
    }
    if (message.kind === "down") this.#peers.delete(message.node);
    if (message.kind === "alive") return;
    if (message.kind === "state" && this.#learning) {
      const { waiting, expected, done } = this.#learning;
      waiting.add(message.node);
      if (waiting.size >= expected) done();
    }
    this.#events.heard({ type: "bus", event: message, now: this.#clock() });
  }
}

/** How long a starting node waits at most for the others to say what they hold. */
const SYNC_WAIT_MS = 2000;
