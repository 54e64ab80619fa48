import type { AuthResult } from "../core/mod.ts";
import type { Store } from "./store/store.ts";

/** How many failed logins are let through, in what window (docs/protocol.md §8). */
export interface LoginLimits {
  /** Failed logins of one name in any window, counted across the cluster by the store. */
  perName: number;
  /** Failed logins from one client address in any window, counted by each node. */
  perAddress: number;
  /** The window failures are counted in: each leaves it this long after it came. */
  windowMs: number;
  /** How many client addresses a node remembers failures of, at most (bounds its memory). */
  addresses: number;
}

/** The limits of docs/protocol.md §8: 5 per name and 20 per address in any 60 s. */
export const LOGIN_LIMITS: LoginLimits = {
  perName: 5,
  perAddress: 20,
  windowMs: 60_000,
  addresses: 10_000,
};

/** A login refused before its credentials were checked: too many failed logins. */
export type Throttled = Extract<AuthResult, { kind: "throttled" }>;

/** One login being checked, as the throttle sees it. */
export interface LoginTry {
  /** The name key. */
  key: string;
  /** The client's address, as `addressOf` gives it. */
  address: string;
  /** Whether it is a password to check: a guess, which counts until its answer is known. */
  guess: boolean;
}

/**
 * When a throttled login may try again, if that depends on logins still being checked
 * rather than on failures already counted: soon, and then the count will say.
 */
const PENDING_RETRY_MS = 1000;

/**
 * Counts failed logins (docs/protocol.md §8): per name through the store (so across the
 * cluster), per client address in this node's memory. A password let through to be checked
 * on this node counts as a failure until its answer is known, so that many guesses sent at
 * once do not slip past the limit together. Also knows which names are being logged in to
 * here, for the login checks (see `checking`).
 *
 * @example
 * const throttle = new LoginThrottle(new MemoryStore());
 * const login = { key: "bob", address: "192.0.2.7", guess: true };
 * throttle.begin(login);
 * (await throttle.assess(login)).throttled; // null: nothing failed yet
 * await throttle.failed(login);
 * throttle.end(login);
 */
export class LoginThrottle {
  readonly #store: Store;
  readonly #limits: LoginLimits;
  readonly #addresses: FailureLog;
  /** Logins being checked here, per name key. */
  readonly #names = new Map<string, number>();
  /** Passwords let through and not answered yet, per name key and per address. */
  readonly #guessesOf = new Map<string, number>();
  readonly #guessesFrom = new Map<string, number>();
  /** The logins those count. */
  readonly #guessing = new Set<LoginTry>();

  constructor(store: Store, limits: LoginLimits = LOGIN_LIMITS, clock: () => number = Date.now) {
    this.#store = store;
    this.#limits = limits;
    this.#addresses = new FailureLog(limits.windowMs, limits.perAddress, limits.addresses, clock);
  }

  /** A login starts being checked here: it counts until `end`. */
  begin(login: LoginTry): void {
    add(this.#names, login.key, 1);
  }

  /** A login that `begin` counted has its answer. */
  end(login: LoginTry): void {
    add(this.#names, login.key, -1);
    this.#unguess(login);
  }

  /** How many logins of a name are being checked on this node. */
  checking(key: string): number {
    return this.#names.get(key) ?? 0;
  }

  /**
   * Whether a login with credentials must wait (`throttled`, with the time until there is
   * room), and otherwise whether it is `suspect`: failures of its name or from its address
   * were counted lately, or other passwords for it or from there are being checked (its
   * password check then waits behind those of others). A guess let through counts as a
   * failure until `failed` or `end`.
   */
  async assess(login: LoginTry): Promise<{ throttled: Throttled | null; suspect: boolean }> {
    // Refused at once, without asking the store, when the address is over its limit.
    const early = this.#byAddress(login);
    if (early) return { throttled: early, suspect: true };
    const ofName = await this.#store.failures(login.key, this.#limits.windowMs);
    // Decided in one step with the counting below: no other login comes in between.
    const byAddress = this.#byAddress(login);
    if (byAddress) return { throttled: byAddress, suspect: true };
    const pending = login.guess ? (this.#guessesOf.get(login.key) ?? 0) : 0;
    const byName = wait(ofName, pending, this.#limits.perName);
    if (byName !== null) return { throttled: throttled("name", byName), suspect: true };
    // Suspect: failures counted lately, or other passwords being checked, for the name or
    // from the address (a burst of guesses is suspect from its second one).
    const suspect =
      ofName.length > 0 ||
      pending > 0 ||
      this.#addresses.left(login.address).length > 0 ||
      this.#guessesFrom.has(login.address);
    if (login.guess) {
      this.#guessing.add(login);
      add(this.#guessesOf, login.key, 1);
      add(this.#guessesFrom, login.address, 1);
    }
    return { throttled: null, suspect };
  }

  /** Counts a failed login, for its name and for its address. */
  async failed(login: LoginTry): Promise<void> {
    this.#addresses.add(login.address);
    try {
      await this.#store.fail(login.key, this.#limits.windowMs, this.#limits.perName);
    } finally {
      // Counted now (or the store failed, and the login's answer says so).
      this.#unguess(login);
    }
  }

  #byAddress(login: LoginTry): Throttled | null {
    // For a guess, each password from there being checked may yet fail; a session or a
    // token is no guess, and waits only for failures counted.
    const pending = login.guess ? (this.#guessesFrom.get(login.address) ?? 0) : 0;
    const ms = wait(this.#addresses.left(login.address), pending, this.#limits.perAddress);
    return ms === null ? null : throttled("address", ms);
  }

  #unguess(login: LoginTry): void {
    if (!this.#guessing.delete(login)) return;
    add(this.#guessesOf, login.key, -1);
    add(this.#guessesFrom, login.address, -1);
  }
}

function throttled(by: "name" | "address", retryMs: number): Throttled {
  return { kind: "throttled", by, retryMs };
}

/**
 * How long until one more failure fits under `limit`, or null when it fits now. `left`:
 * the counted failures, oldest first, each as the time until it leaves the window;
 * `pending`: failures that may come of the checks under way.
 */
function wait(left: number[], pending: number, limit: number): number | null {
  const over = left.length + Math.max(0, pending) - limit;
  if (over < 0) return null;
  // The window has room once `over + 1` of the counted ones have left it.
  return left[over] ?? PENDING_RETRY_MS;
}

function add(counts: Map<string, number>, key: string, n: number): void {
  const next = (counts.get(key) ?? 0) + n;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
}

/**
 * Failed logins per key in this process's memory, in a sliding window: the times of the
 * newest `keep` failures of each key. At most `maxKeys` keys are kept: those whose
 * failures all left the window go first, then, if need be, those that failed longest ago.
 *
 * @example
 * const log = new FailureLog(60_000, 20, 10_000);
 * log.add("192.0.2.7");
 * log.left("192.0.2.7"); // [60000]: one failure, in the window for 60 s more
 */
export class FailureLog {
  /** Per key, oldest first; the map itself is in the order of each key's latest failure. */
  readonly #times = new Map<string, number[]>();
  readonly #windowMs: number;
  readonly #keep: number;
  readonly #maxKeys: number;
  readonly #clock: () => number;

  constructor(windowMs: number, keep: number, maxKeys: number, clock: () => number = Date.now) {
    this.#windowMs = windowMs;
    this.#keep = Math.max(1, keep);
    this.#maxKeys = Math.max(1, maxKeys);
    this.#clock = clock;
  }

  /** How many keys have failures kept. */
  get size(): number {
    return this.#times.size;
  }

  /** A key's failures in the window, oldest first: for each, the ms until it leaves it. */
  left(key: string): number[] {
    const times = this.#times.get(key);
    if (!times) return [];
    const now = this.#clock();
    const left: number[] = [];
    for (const t of times) if (t + this.#windowMs > now) left.push(t + this.#windowMs - now);
    return left;
  }

  /** Counts a failure of a key, now. */
  add(key: string): void {
    const now = this.#clock();
    this.#prune(now);
    const since = now - this.#windowMs;
    const times = (this.#times.get(key) ?? []).filter((t) => t > since);
    times.push(now);
    if (times.length > this.#keep) times.splice(0, times.length - this.#keep);
    // Moved to the end: the map stays in the order of the latest failures.
    this.#times.delete(key);
    if (this.#times.size >= this.#maxKeys)
      this.#times.delete(this.#times.keys().next().value as string);
    this.#times.set(key, times);
  }

  /** Forgets keys whose latest failure left the window: they are at the front. */
  #prune(now: number): void {
    for (const [key, times] of this.#times) {
      if ((times[times.length - 1] ?? 0) + this.#windowMs > now) break;
      this.#times.delete(key);
    }
  }
}

/**
 * The client address of a connection's `host:port`, as the throttle counts it: an IPv4
 * address, or the /64 network of an IPv6 one (one subscriber usually has a whole /64).
 *
 * @example
 * addressOf("192.0.2.7:51234"); // "192.0.2.7"
 * addressOf("::ffff:192.0.2.7:51234"); // "192.0.2.7"
 * addressOf("2001:db8:1:2:a:b:c:d:443"); // "2001:db8:1:2::/64"
 */
export function addressOf(remote: string): string {
  const colon = remote.lastIndexOf(":");
  let host = colon >= 0 && /^\d+$/.test(remote.slice(colon + 1)) ? remote.slice(0, colon) : remote;
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  if (mapped) return mapped[1] as string;
  if (!host.includes(":")) return host;
  return ipv6Network(host) ?? host;
}

/** The /64 network of an IPv6 address, written `a:b:c:d::/64`; null if it is not one. */
function ipv6Network(host: string): string | null {
  const halves = host.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? (halves[0] as string).split(":") : [];
  const tail = halves.length === 2 && halves[1] ? (halves[1] as string).split(":") : [];
  const zeros = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (zeros < 0 || head.length + zeros + tail.length !== 8) return null;
  const groups = [...head, ...Array<string>(zeros).fill("0"), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}

/**
 * A bounded queue of work, such as password hashes: at most `running` at once, and at most
 * `waiting` more waiting in each lane; past that, work is refused at once. Work marked
 * suspect (its name or address failed lately) runs in at most `running - 1` places and
 * after all plain work waiting, so that guesses never hold up an innocent login for long.
 *
 * @example
 * const queue = new WorkQueue(4, 64);
 * const hashed = queue.run(() => hashPassword("s3cret")); // null when too many wait
 */
export class WorkQueue {
  readonly #maxRunning: number;
  readonly #maxWaiting: number;
  #running = 0;
  readonly #plain: (() => void)[] = [];
  readonly #suspect: (() => void)[] = [];

  constructor(running: number, waiting: number) {
    this.#maxRunning = Math.max(1, running);
    this.#maxWaiting = Math.max(0, waiting);
  }

  /** How many run now, and how many wait. */
  get load(): { running: number; waiting: number } {
    return { running: this.#running, waiting: this.#plain.length + this.#suspect.length };
  }

  /** Runs `work` once a place is free; null, without running it, when its lane is full. */
  run<T>(work: () => Promise<T>, suspect = false): Promise<T> | null {
    const lane = suspect ? this.#suspect : this.#plain;
    if (!this.#free(suspect) && lane.length >= this.#maxWaiting) return null;
    return this.#start(work, suspect, lane);
  }

  async #start<T>(work: () => Promise<T>, suspect: boolean, lane: (() => void)[]): Promise<T> {
    // A place is taken now, or handed over by `#next` (which counts it) when one frees.
    if (this.#free(suspect)) this.#running++;
    else await new Promise<void>((resolve) => lane.push(resolve));
    try {
      return await work();
    } finally {
      this.#running--;
      this.#next();
    }
  }

  #next(): void {
    for (;;) {
      const lane =
        this.#plain.length > 0 && this.#free(false)
          ? this.#plain
          : this.#suspect.length > 0 && this.#free(true)
            ? this.#suspect
            : null;
      const resume = lane?.shift();
      if (resume === undefined) return;
      this.#running++;
      resume();
    }
  }

  /** Whether work of this kind may start now. */
  #free(suspect: boolean): boolean {
    const places = suspect ? Math.max(1, this.#maxRunning - 1) : this.#maxRunning;
    return this.#running < places;
  }
}
