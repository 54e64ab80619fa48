import type { Effect, Input, LogEntry } from "../core/mod.ts";

/** Writes a batch of log entries in one store commit; rejects when the store fails. */
export type Commit = (entries: LogEntry[]) => Promise<void>;

/** A batch: the entries of one turn, and the effects that must wait for them. */
interface Batch {
  entries: LogEntry[];
  after: Effect[];
}

/**
 * Keeps `ok` honest (docs/protocol.md §11): the messages accepted in one turn of the event loop
 * go to the store in one commit, and every effect that came after them waits until that
 * commit is done, in order. A commit that fails is tried again for a few seconds (the store
 * restarting); when it keeps failing, the effects are released with the ids of the messages
 * that were not kept, so the host can refuse instead of confirm.
 *
 * @example
 * const writer = new LogWriter((entries) => store.append(entries, 1000), run, setImmediate);
 * writer.add(entry); // then effects go through writer.hold() until the commit is done
 */
export class LogWriter {
  readonly #commit: Commit;
  readonly #release: (effects: Effect[], failed: ReadonlySet<string>) => void;
  readonly #schedule: (seal: () => void) => void;
  /** The batch taking entries and effects in this turn; sealed at the end of it. */
  #open: Batch | null = null;
  /** Sealed batches, oldest first; the first one is being committed. */
  readonly #sealed: Batch[] = [];
  #sealPending = false;
  #idle: (() => void)[] = [];
  readonly #retries: readonly number[];

  constructor(
    commit: Commit,
    release: (effects: Effect[], failed: ReadonlySet<string>) => void,
    schedule: (seal: () => void) => void,
    retries: readonly number[] = RETRIES,
  ) {
    this.#commit = commit;
    this.#retries = retries;
    this.#release = release;
    this.#schedule = schedule;
  }

  /** Whether effects must wait: some entries are not committed yet. */
  get holding(): boolean {
    return this.#open !== null || this.#sealed.length > 0;
  }

  /** Adds an entry to this turn's commit. */
  add(entry: LogEntry): void {
    this.#batch().entries.push(entry);
  }

  /** Keeps an effect until the entries before it are committed. */
  hold(effect: Effect): void {
    this.#batch().after.push(effect);
  }

  /** Resolves once every batch added so far is committed (or failed) and released. */
  idle(): Promise<void> {
    if (!this.holding) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #batch(): Batch {
    if (!this.#open) {
      this.#open = { entries: [], after: [] };
      if (!this.#sealPending) {
        this.#sealPending = true;
        this.#schedule(this.#seal);
      }
    }
    return this.#open;
  }

  readonly #seal = (): void => {
    this.#sealPending = false;
    const batch = this.#open;
    if (!batch) return;
    this.#open = null;
    // While a commit is under way, every turn after it joins one batch: the next commit
    // carries all of them (one commit per turn when the store keeps up, fewer when not).
    const waiting = this.#sealed.length >= 2 ? this.#sealed[this.#sealed.length - 1] : undefined;
    if (waiting) {
      for (const entry of batch.entries) waiting.entries.push(entry);
      for (const effect of batch.after) waiting.after.push(effect);
      return;
    }
    this.#sealed.push(batch);
    if (this.#sealed.length === 1) this.#next();
  };

  /** Commits the oldest sealed batch, releases its effects, and goes on with the next. */
  #next(): void {
    const batch = this.#sealed[0];
    if (!batch) {
      if (!this.#open) for (const resolve of this.#idle.splice(0)) resolve();
      return;
    }
    const done = (failed: ReadonlySet<string>) => {
      this.#sealed.shift();
      this.#release(batch.after, failed);
      this.#next();
    };
    if (batch.entries.length === 0) {
      done(NONE);
      return;
    }
    // A commit that failed may have been written all the same (the reply was lost), and
    // appending an id twice keeps one copy: try again for a while before refusing.
    const attempt = (n: number) =>
      this.#commit(batch.entries).then(
        () => done(NONE),
        () => {
          if (n >= this.#retries.length) done(new Set(batch.entries.map((e) => e.message.id)));
          else setTimeout(() => attempt(n + 1), this.#retries[n]);
        },
      );
    attempt(0);
  }
}

/** Waits between the tries of a failed commit (ms): about six seconds in all. */
const RETRIES = [100, 200, 400, 800, 1600, 3200];

const NONE: ReadonlySet<string> = new Set();

/** Why a message was refused when the log could not keep it. */
const NOT_KEPT = "the server could not keep this message (its store failed); send it again";

/**
 * What becomes of an effect held back for a commit that failed (`failed`: the ids of the
 * messages it did not keep): nothing (null: run it as it is) when it stands for no such
 * message; an error instead of its `ok`; the store's "unavailable" for a hold or a hand-over;
 * else dropped (a delivery or a publish of a message that was not kept).
 *
 * @example
 * const instead = unkept(effect, failed, now); // null: run `effect` as it is
 */
export function unkept(
  effect: Effect,
  failed: ReadonlySet<string>,
  now: number,
): { effect: Effect } | { input: Input } | { dropped: true } | null {
  const lost = lostMessage(effect);
  if (lost === null || !failed.has(lost)) return null;
  if (effect.type === "send" && effect.msg.type === "ok") {
    const { re } = effect.msg;
    return {
      effect: { ...effect, msg: { type: "error", re, code: "queue_full", message: NOT_KEPT } },
    };
  }
  if (effect.type === "hold")
    return { input: { type: "held", conn: effect.conn, result: "unavailable", now } };
  if (effect.type === "handOver") {
    return { input: { type: "handedOver", conn: effect.conn, result: "unavailable", now } };
  }
  return { dropped: true };
}

/** The id of the message an effect confirms, delivers or passes on, if any. */
function lostMessage(effect: Effect): string | null {
  switch (effect.type) {
    case "send":
    case "fanout":
      if (effect.msg.type === "message") return effect.msg.id;
      if (effect.msg.type === "ok") return effect.msg.id ?? null;
      return null;
    case "publish":
      return effect.event.kind === "message" ? effect.event.message.id : null;
    case "hold":
    case "keep":
      return effect.message.id;
    case "handOver":
      return effect.event.message.id;
    default:
      return null;
  }
}
