import type { KvLike } from "../store/kv.ts";
import type { Bus, BusMessage } from "./bus.ts";

/** What goes on the channel: a message, and the node it is for when only one. */
interface Envelope {
  to?: string;
  message: BusMessage;
}

// Key layout (Deno KV):
//   ["node", node]   { until }: the node's lease, renewed while it lives (and set to expire)
//   ["lease", key]   the node that holds a name; the lease holds while that node's does

/**
 * The bus of the edge: a `BroadcastChannel` between the isolates of one deployment (Deno
 * Deploy carries it between them), with leases on names kept in Deno KV by atomic checks.
 *
 * @example
 * // kv: the runtime's Deno KV handle (the adapter opens it)
 * const bus = new BroadcastBus(kv, { node: nodeName() });
 */
export class BroadcastBus implements Bus {
  readonly node: string;
  readonly clustered = true;
  readonly #kv: KvLike;
  readonly #channel: BroadcastChannel;
  readonly #clock: () => number;

  constructor(kv: KvLike, options: { node: string; channel?: string; clock?: () => number }) {
    this.#kv = kv;
    this.node = options.node;
    this.#channel = new BroadcastChannel(options.channel ?? "relay");
    this.#clock = options.clock ?? Date.now;
  }

  async start(receive: (message: BusMessage) => void): Promise<void> {
    this.#channel.onmessage = (e: MessageEvent<Envelope>) => {
      const { to, message } = e.data;
      if ((to === undefined || to === this.node) && message.node !== this.node) receive(message);
    };
  }

  async publish(message: BusMessage, node?: string): Promise<boolean> {
    this.#channel.postMessage(node === undefined ? { message } : { to: node, message });
    return true;
  }

  async claim(key: string, force: boolean): Promise<boolean> {
    for (;;) {
      const lease = await this.#kv.get<string>(["lease", key]);
      const holder = lease.value;
      if (holder !== null && holder !== this.node && !force && (await this.#alive(holder))) {
        return false;
      }
      const done = await this.#kv
        .atomic()
        .check({ key: ["lease", key], versionstamp: lease.versionstamp })
        .set(["lease", key], this.node)
        .commit();
      if (done.ok) return true;
    }
  }

  async peers(): Promise<number> {
    return 0; // A BroadcastChannel does not say who listens.
  }

  async heldElsewhere(key: string): Promise<boolean> {
    const holder = (await this.#kv.get<string>(["lease", key])).value;
    return holder !== null && holder !== this.node && (await this.#alive(holder));
  }

  async release(key: string): Promise<void> {
    const lease = await this.#kv.get<string>(["lease", key]);
    if (lease.value !== this.node) return;
    await this.#kv
      .atomic()
      .check({ key: ["lease", key], versionstamp: lease.versionstamp })
      .delete(["lease", key])
      .commit();
  }

  async renew(ms: number): Promise<void> {
    const until = this.#clock() + ms;
    // KV deletes expired keys some time after they expire: `until` says when exactly.
    await this.#kv.atomic().set(["node", this.node], { until }, { expireIn: ms }).commit();
  }

  async close(): Promise<void> {
    this.#channel.close();
    await this.#kv.atomic().delete(["node", this.node]).commit();
  }

  async #alive(node: string): Promise<boolean> {
    const entry = await this.#kv.get<{ until: number }>(["node", node]);
    return entry.value !== null && entry.value.until > this.#clock();
  }
}
