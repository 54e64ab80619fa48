import type { ChatMessage, HoldResult } from "../../core/mod.ts";
import type { PasswordRecord, Store } from "./store.ts";

/**
 * A store in this process's memory: everything is lost when it stops. For tests and for
 * `RELAY_STORE=memory`.
 *
 * @example
 * const store = new MemoryStore();
 * await store.remember("bob", "Bob");
 * await store.known("bob"); // true
 */
export class MemoryStore implements Store {
  readonly #names = new Map<string, string>();
  readonly #accounts = new Map<string, PasswordRecord>();
  readonly #queues = new Map<string, ChatMessage[]>();
  #count = 0;

  async account(key: string): Promise<PasswordRecord | null> {
    return this.#accounts.get(key) ?? null;
  }

  async register(key: string, record: PasswordRecord): Promise<boolean> {
    if (this.#accounts.has(key)) return false;
    this.#accounts.set(key, record);
    return true;
  }

  async remember(key: string, name: string): Promise<string> {
    const first = this.#names.get(key);
    if (first !== undefined) return first;
    this.#names.set(key, name);
    return name;
  }

  async known(key: string): Promise<boolean> {
    return this.#names.has(key);
  }

  async hold(key: string, message: ChatMessage, max: number): Promise<HoldResult> {
    const name = this.#names.get(key);
    if (name === undefined) return "no_such_user";
    let queue = this.#queues.get(key);
    if (!queue) {
      queue = [];
      this.#queues.set(key, queue);
    }
    if (queue.length >= max) return "queue_full";
    queue.push({ ...message, to: name });
    this.#count++;
    return "held";
  }

  async held(key: string): Promise<ChatMessage[]> {
    // Oldest first: ids sort in the order messages were accepted.
    return [...(this.#queues.get(key) ?? [])].sort((a, b) =>
      a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    );
  }

  async drop(key: string, ids: string[]): Promise<void> {
    const queue = this.#queues.get(key);
    if (!queue) return;
    const gone = new Set(ids);
    const kept = queue.filter((m) => !gone.has(m.id));
    this.#count -= queue.length - kept.length;
    if (kept.length === 0) this.#queues.delete(key);
    else this.#queues.set(key, kept);
  }

  async heldCount(): Promise<number> {
    return this.#count;
  }

  async close(): Promise<void> {}
}
