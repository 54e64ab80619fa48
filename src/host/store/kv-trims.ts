import type { ChatMessage } from "../../core/mod.ts";
import { bucketOf, Chunk, chunkValue, Newest, readNewest } from "./kv-chunk.ts";
import { COMMIT_BYTES } from "./kv-commits.ts";
import type { KvKey, KvLike, KvListSelector } from "./kv-like.ts";
import { laterId } from "./log.ts";

// Trimming. Reading a log's newest `keep` messages costs about as much as writing them,
// so a log is read once (a sync), when this store first appends to it, and then trimmed by
// counting: every `trimEvery(keep)` messages appended, the oldest past `keep` are listed
// (just those) and deleted. The trims run after the appends, one at a time, never holding
// an append back; a read of a log (`page`, `since`) waits for its trim, so it sees the log
// trimmed; `close` waits for them all.

/** Logs whose counts this store keeps (the least recently appended to are forgotten). */
const COUNTED_LOGS = 100_000;
/** Chunks deleted or rewritten per trim commit, with the marker set and checked along with them. */
const TRIM_BATCH = 500;

/**
 * How many messages past `keep` a log may hold for each store appending to it, once its
 * trims are done (reads wait for them): a store trims a log after its first append to it
 * and then every `trimEvery(keep)` messages it appended there. So a log holds at most
 * `keep + n * (trimEvery(keep) - 1)` messages, with `n` stores (processes, isolates)
 * appending to it at once.
 *
 * @example
 * trimEvery(1000); // 250
 */
export function trimEvery(keep: number): number {
  return Math.max(1, Math.ceil(keep / 4));
}

/**
 * What this store knows of one conversation's log, so as to trim it without reading it
 * (see `LogTrims.#trim`).
 */
export interface LogState {
  readonly conv: string;
  /**
   * How many messages the log holds, at least: set by a sync (a read of the log's newest
   * `keep`), then counted up by this store's appends and down by its trims. Never too high,
   * so a trim never deletes one of the newest `keep`: an append counts only the messages it
   * surely added (ids after `newest`; see `epoch` for appends that overlap a sync), and
   * another store's trim changes the marker's versionstamp, which makes this store's next
   * trim commit fail and sync instead.
   * Another store's appends are not counted: the log holds more until a sync (bounded: that
   * store trims too, and then this one syncs).
   */
  count: number;
  /** The marker's versionstamp as of the last sync or trim (null: no marker); undefined: the next trim syncs. */
  stamp: string | null | undefined;
  /** The marker's value as of `stamp`. */
  marker: string | null;
  /** About how many messages this store's appends put in a chunk of the log, lately. */
  perChunk: number;
  /** The newest id this store appended to the log: an id at or before it may be there already. */
  newest: string;
  /**
   * Bumped by each sync. An append begun before a sync's read and done after it may or may
   * not have been seen by it: it counts only its messages after the newest the read saw
   * (`seen`); one done while the read runs waits in `reading` until the read is done.
   */
  epoch: number;
  seen: string;
  reading: ChatMessage[][] | null;
  /** The `keep` of the latest append. */
  keep: number;
  /** The trim waiting in the queue, if any. */
  queued: Deferred | null;
  /** The trim running, if any. */
  running: Deferred | null;
}

/** What an append does to one log: its new messages in id order; counted once written. */
export interface Touch {
  state: LogState;
  epoch: number;
  fresh: ChatMessage[];
  unsure: boolean;
}

/** What a trim does to one chunk: deletes it (null), or writes back what it keeps. */
interface Removal {
  key: KvKey;
  value: Uint8Array | null;
  /** The newest id it removes. */
  gone: string;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * Keeps the logs a store appends to near their newest `keep` messages: counts what each
 * append added, and trims a log, after the append, once it holds `trimEvery(keep)` more.
 * Each log's "trimmed up to" marker (`["trimmed", conv]`) says the newest id trimmed away.
 *
 * @example
 * const trims = new LogTrims(kv);
 * const state = trims.log(conv); // before the append is written; after it:
 * trims.appended({ state, epoch: state.epoch, fresh, unsure: false }, 1000);
 */
export class LogTrims {
  readonly #kv: KvLike;
  /** What this store knows of the logs it appended to, least recently appended to first. */
  readonly #logs = new Map<string, LogState>();
  /** Logs to trim, in turn (one trim at a time); a read of a log moves it to the front. */
  #queue = new Map<string, LogState>();
  /** The loop running the queue's trims, while there are any. */
  #trimming: Promise<void> | null = null;

  constructor(kv: KvLike) {
    this.#kv = kv;
  }

  /** Resolves once every trim queued or running is done. */
  async done(): Promise<void> {
    await this.#trimming;
  }

  /** The state of a log, made when first appended to; the least recently used is forgotten. */
  log(conv: string): LogState {
    let state = this.#logs.get(conv);
    if (state !== undefined) {
      this.#logs.delete(conv);
      this.#logs.set(conv, state);
      return state;
    }
    state = {
      conv,
      count: 0,
      stamp: undefined,
      marker: null,
      perChunk: 1,
      newest: "",
      epoch: 0,
      seen: "",
      reading: null,
      keep: 0,
      queued: null,
      running: null,
    };
    this.#logs.set(conv, state);
    // Forgetting a log only makes its next trim sync. Those with a trim to come are kept.
    if (this.#logs.size > COUNTED_LOGS) {
      for (const [key, old] of this.#logs) {
        if (old.queued || old.running) continue;
        this.#logs.delete(key);
        break;
      }
    }
    return state;
  }

  /** Counts what an append added to a log once it is written, and queues its trim if due. */
  appended(touch: Touch, keep: number): void {
    const { state } = touch;
    if (this.#logs.get(state.conv) !== state) return;
    state.keep = keep;
    if (state.reading) state.reading.push(touch.fresh);
    else
      state.count += state.epoch === touch.epoch ? touch.fresh.length : unseen(touch.fresh, state);
    if (touch.unsure) state.stamp = undefined;
    if (state.stamp === undefined || keep <= 0 || state.count - keep >= trimEvery(keep)) {
      if (state.queued) return;
      state.queued = deferred();
      this.#queue.set(state.conv, state);
      this.#trimming ??= this.#runTrims();
    }
  }

  /** Runs the queued trims, one at a time, until none is left. */
  async #runTrims(): Promise<void> {
    for (;;) {
      const next = this.#queue.values().next();
      if (next.done) break;
      const state = next.value;
      this.#queue.delete(state.conv);
      const done = state.queued as Deferred;
      state.queued = null;
      state.running = done;
      try {
        await this.#trim(state);
      } catch {
        // The store failed: the next append to this log syncs it again.
        state.stamp = undefined;
      }
      state.running = null;
      done.resolve();
    }
    this.#trimming = null;
  }

  /** Waits until the trims of these logs that are queued or running are done. */
  async trimmed(convs: string[]): Promise<void> {
    if (this.#trimming === null) return;
    const waits: Promise<void>[] = [];
    for (const conv of convs) {
      const state = this.#logs.get(conv);
      const wait = state?.queued ?? state?.running;
      if (!state || !wait) continue;
      // A reader is waiting: this log's trim goes before the others queued.
      if (state.queued && this.#queue.has(conv))
        this.#queue = new Map([[conv, state], ...this.#queue]);
      waits.push(wait.promise);
    }
    await Promise.all(waits);
  }

  /**
   * Trims a log to its newest `keep` messages, sets its "trimmed up to" marker to the newest
   * id deleted (unless it is later already), and brings its count up to date. Each commit
   * that deletes sets the marker and checks it: another store's trim in between makes it
   * fail (and this one syncs), and no message is deleted before the marker says so.
   */
  async #trim(state: LogState): Promise<void> {
    const keep = Math.max(0, state.keep);
    for (;;) {
      // Unless it syncs, a trim does not read the marker: it checks that the marker is as
      // this store left it when it commits, and syncs when it is not.
      const done =
        state.stamp === undefined || keep === 0
          ? await this.#sync(state, keep)
          : await this.#trimOldest(state, keep);
      if (done) return;
      state.stamp = undefined;
    }
  }

  /**
   * A sync: reads the log's newest `keep` messages (one read of those chunks) and deletes
   * all older ones. It is done the first time, after an append that may have added fewer
   * messages than it counted, after another store trimmed the log (its marker changed),
   * and for `keep` 0. False when another store's trim got in the way.
   */
  async #sync(state: LogState, keep: number): Promise<boolean> {
    const prefix = ["log", state.conv];
    // The marker is read first: a trim by another store after this read changes it.
    const marker = await this.#kv.get<string>(["trimmed", state.conv]);
    if (keep === 0) {
      state.stamp = marker.versionstamp;
      state.marker = marker.value;
      const done = await this.#remove(state, this.#wholly({ prefix }));
      // Emptied, but appends in flight may or may not have been: the next trim syncs.
      state.count = 0;
      state.stamp = undefined;
      return done;
    }
    const newest = new Newest(keep);
    const during: ChatMessage[][] = [];
    state.reading = during;
    let read: { chunks: Chunk[]; next: KvKey | undefined };
    try {
      read = await readNewest(this.#kv, { prefix }, newest, 100);
    } finally {
      state.reading = null;
      state.epoch++;
      state.seen = newest.last();
    }
    const { chunks, next } = read;
    state.stamp = marker.versionstamp;
    state.marker = marker.value;
    state.count = Math.min(newest.size, keep);
    for (const fresh of during) state.count += unseen(fresh, state);
    if (newest.size <= keep) return true;
    const all = newest.ids();
    const cut = all[all.length - keep - 1] as string;
    // Every chunk under a key after `cut` was read; the first not read, and all before it,
    // are older than `cut`. Oldest first, so that a trim cut short leaves no hole.
    const removals = async function* (self: LogTrims): AsyncGenerator<Removal> {
      if (next !== undefined) {
        yield* self.#wholly({ prefix, end: next });
        yield { key: next, value: null, gone: next[2] as string };
      }
      yield* removalsOf(chunks.reverse(), cut);
    };
    return await this.#remove(state, removals(this));
  }

  /**
   * Deletes the oldest `count - keep` messages of a log, reading only the chunks that hold
   * them. False when another store's trim got in the way.
   */
  async #trimOldest(state: LogState, keep: number): Promise<boolean> {
    const excess = state.count - keep;
    if (excess <= 0) return true;
    const chunks: Chunk[] = [];
    const ids = new Set<string>();
    let cut: string | undefined;
    let last: string | undefined;
    // About as many chunks as hold `excess` messages, and the next: one read, mostly.
    const batchSize = Math.min(500, Math.ceil(excess / Math.max(1, state.perChunk)) + 2);
    for await (const entry of this.#kv.list({ prefix: ["log", state.conv] }, { batchSize })) {
      const id = entry.key[2] as string;
      // Keys in order: once they leave the bucket of the newest read so far (`last`), no
      // chunk still to read holds a message at or before `last` (its messages all start
      // like its key). So the oldest `excess` are known once that many are at or before it.
      if (last !== undefined && bucketOf(id) !== bucketOf(last)) {
        cut = ids.size < excess ? undefined : nth(ids, last, excess);
        if (cut !== undefined) break;
      }
      const chunk = new Chunk(entry.key as KvKey, entry.value);
      for (const one of chunk.ids) ids.add(one);
      chunks.push(chunk);
      last = id;
    }
    if (cut === undefined) {
      // All read: fewer than `excess` at the end, at most (another store trimmed too).
      const all = [...ids].sort();
      cut = all[Math.min(excess, all.length) - 1];
      if (cut === undefined) return true;
    }
    let gone = 0;
    for (const id of ids) if (id <= cut) gone++;
    if (!(await this.#remove(state, removalsOf(chunks, cut)))) return false;
    state.count -= gone;
    return true;
  }

  /**
   * Applies removals, a batch per commit; each commit sets the marker to the newest id
   * removed so far (unless it is later already) and checks that it is as this store last
   * left it (`state.stamp`). False when a check failed.
   */
  async #remove(
    state: LogState,
    removals: AsyncIterable<Removal> | Iterable<Removal>,
  ): Promise<boolean> {
    const markerKey = ["trimmed", state.conv];
    let newest = state.marker;
    let batch: Removal[] = [];
    let bytes = 0;
    const commit = async (): Promise<boolean> => {
      if (batch.length === 0) return true;
      const op = this.#kv.atomic().check({ key: markerKey, versionstamp: state.stamp ?? null });
      for (const { key, value, gone } of batch) {
        newest = laterId(newest, gone);
        if (value === null) op.delete(key);
        else op.set(key, value);
      }
      op.set(markerKey, newest);
      batch = [];
      bytes = 0;
      const result = await op.commit();
      if (!result.ok) return false;
      state.stamp = result.versionstamp;
      state.marker = newest;
      return true;
    };
    for await (const removal of removals) {
      const size = 64 + (removal.value?.length ?? 0);
      if (batch.length >= TRIM_BATCH || bytes + size > COMMIT_BYTES) {
        if (!(await commit())) return false;
      }
      batch.push(removal);
      bytes += size;
    }
    return await commit();
  }

  /** Removals of every chunk a selector lists, oldest first. */
  async *#wholly(selector: KvListSelector): AsyncGenerator<Removal> {
    for await (const entry of this.#kv.list(selector, { batchSize: 100 })) {
      yield { key: entry.key as KvKey, value: null, gone: entry.key[2] as string };
    }
  }
}

/** What removing every message at or before `cut` does to these chunks. */
function removalsOf(chunks: Chunk[], cut: string): Removal[] {
  const removals: Removal[] = [];
  for (const chunk of chunks) {
    let gone = "";
    let kept = 0;
    for (const id of chunk.ids) {
      if (id > cut) kept++;
      else if (id > gone) gone = id;
    }
    if (kept === chunk.ids.length) continue;
    let value: Uint8Array | null = null;
    if (kept > 0) {
      const rest = chunk.messages().filter((m) => m.id > cut);
      value = chunkValue(
        rest.map((m) => m.id),
        rest.map((m) => JSON.stringify(m)),
      );
    }
    removals.push({ key: chunk.key, value, gone });
  }
  return removals;
}

/**
 * How many of an append's messages a sync did not see (see `LogState.epoch`): those after
 * the newest it saw. This store's ids only grow, so those before it were seen.
 */
function unseen(fresh: ChatMessage[], state: LogState): number {
  let n = 0;
  for (const message of fresh) if (message.id > state.seen) n++;
  return n;
}

/** The `n`th oldest of the ids at or before `last`; undefined when there are fewer. */
function nth(ids: Set<string>, last: string, n: number): string | undefined {
  const upTo: string[] = [];
  for (const id of ids) if (id <= last) upTo.push(id);
  if (upTo.length < n) return undefined;
  return upTo.sort()[n - 1];
}
