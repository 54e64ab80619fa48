import type { BusEvent } from "../../core/mod.ts";

/** What travels on a bus: the core's events, and the heartbeats that tell nodes alive. */
export type BusMessage = BusEvent | { kind: "alive"; node: string };

/**
 * How the nodes of a cluster reach one another and share out names: a channel that carries
 * events to every node (or to one), and cluster-wide leases on names. A name's lease lasts
 * while its node is alive, so a node that dies lets go of its names when its own lease
 * runs out.
 */
export interface Bus {
  /** This node's name in the cluster. */
  readonly node: string;
  /** Whether other nodes may exist; false for the bus of a lone process. */
  readonly clustered: boolean;
  /**
   * Starts receiving: what other nodes publish (never this node's own) goes to `receive`.
   * `lost` runs when the bus is cut, `reconnected` when it is back: events may have been
   * missed in between.
   */
  start(
    receive: (message: BusMessage) => void,
    reconnected: () => void,
    lost?: () => void,
  ): Promise<void>;
  /**
   * Sends to every other node, or to the one named; order is kept per sender. Resolves to
   * false when the bus knows that nobody received it (the node named is gone).
   */
  publish(message: BusMessage, node?: string): Promise<boolean>;
  /**
   * Takes a name for this node: true unless a live node holds it, or `force` (a login
   * proved the name) takes it from that node.
   */
  claim(key: string, force: boolean): Promise<boolean>;
  /** How many other nodes listen (known once `start` resolves), or 0 when the bus cannot tell. */
  peers(): Promise<number>;
  /** Whether another node that is alive holds the name. */
  heldElsewhere(key: string): Promise<boolean>;
  /** Lets go of a name this node holds; a no-op if another node took it meanwhile. */
  release(key: string): Promise<void>;
  /** Renews this node's lease (and so its names' leases) for `ms` milliseconds more. */
  renew(ms: number): Promise<void>;
  /** Stops receiving and lets go of this node's names. */
  close(): Promise<void>;
}

/** The bus of a relay that runs alone: nobody to tell, and every name is this node's. */
export class LocalBus implements Bus {
  readonly node = "";
  readonly clustered = false;

  async start(): Promise<void> {}
  async publish(): Promise<boolean> {
    return false;
  }
  async claim(): Promise<boolean> {
    return true;
  }
  async release(): Promise<void> {}
  async heldElsewhere(): Promise<boolean> {
    return false;
  }
  async peers(): Promise<number> {
    return 0;
  }
  async renew(): Promise<void> {}
  async close(): Promise<void> {}
}

/** A short random name for a node, unique enough within one cluster. */
export function nodeName(): string {
  return crypto.randomUUID().slice(0, 8);
}
