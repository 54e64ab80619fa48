import { verify } from "hono/jwt";
import { type AuthResult, nameKey } from "../core/mod.ts";
import type { RelayConfig } from "./config.ts";
import type { PasswordRecord, Store } from "./store/store.ts";
import { WorkQueue } from "./throttle.ts";

/** How logins prove a name: accounts on demand, or tokens signed by the server's secret. */
export type AuthMode = { mode: "open" } | { mode: "token"; secret: string };

/** The way logins are checked under a configuration. */
export function authModeOf(config: Pick<RelayConfig, "auth" | "jwtSecret">): AuthMode {
  return config.auth === "token" && config.jwtSecret !== null
    ? { mode: "token", secret: config.jwtSecret }
    : { mode: "open" };
}

/** What a login asked for, as the core's `authenticate` effect says it. */
export interface LoginAttempt {
  key: string;
  password?: string;
  token?: string;
  /** Whether a password given for a name that has none may register it. */
  mayRegister: boolean;
  /**
   * Takes the name for this login before a password is registered for it: false when the
   * name is not free (online, or being logged in to by another), and then nothing is
   * registered and the answer is `taken`. Without it, a name without a password is free.
   */
  claim?: () => Promise<boolean>;
  /**
   * Whether its name or address failed lately, or is guessing now (see
   * `LoginThrottle.assess`): its password check then waits behind others'.
   */
  suspect?: boolean;
}

/** PBKDF2-SHA-256 rounds for new passwords: OWASP's advice (2023) is 600,000. */
export const PBKDF2_ITERATIONS = 600_000;
/** Password hashes running at once on a node (WebCrypto runs them on a thread pool). */
export const HASHES_RUNNING = 4;
/** Password hashes waiting for a place, at most; past that a login is refused as `busy`. */
export const HASHES_WAITING = 64;

/** How a node hashes passwords (see `Passwords`); each is optional. */
export interface PasswordOptions {
  /** PBKDF2 rounds for new records, and the least a record may have before it is rehashed. */
  iterations?: number;
  /** Hashes running at once (`HASHES_RUNNING`). */
  running?: number;
  /** Hashes waiting for a place, at most (`HASHES_WAITING`). */
  waiting?: number;
}

/**
 * How a node hashes and checks passwords: PBKDF2 with `iterations` rounds for new records,
 * through a bounded queue (`HASHES_RUNNING` at once, `HASHES_WAITING` waiting), so that a
 * flood of logins costs a bounded share of the machine and a bounded memory.
 *
 * @example
 * const passwords = new Passwords({ iterations: 1000 }); // tests; 600,000 by default
 * const record = await passwords.hash("s3cret"); // null when too many wait
 */
export class Passwords {
  /** The rounds of new records. */
  readonly iterations: number;
  readonly #queue: WorkQueue;

  constructor(options: PasswordOptions = {}) {
    this.iterations = options.iterations ?? PBKDF2_ITERATIONS;
    this.#queue = new WorkQueue(
      options.running ?? HASHES_RUNNING,
      options.waiting ?? HASHES_WAITING,
    );
  }

  /** A new record for a password, once its turn comes; null when too many wait already. */
  hash(password: string, suspect = false): Promise<PasswordRecord> | null {
    return this.#queue.run(() => hashPassword(password, this.iterations), suspect);
  }

  /** Whether a password matches a record, once its turn comes; null when too many wait. */
  check(password: string, record: PasswordRecord, suspect = false): Promise<boolean> | null {
    return this.#queue.run(() => checkPassword(password, record), suspect);
  }
}

/**
 * Checks a login (docs/protocol.md §6). In open mode a name without a password is free, a
 * password given for it registers it (when `mayRegister`, and once `claim` took the name),
 * and a registered name needs its password; a record with fewer rounds than
 * `passwords.iterations` is rehashed at a good login. In token mode the token must be a
 * valid HS256 JWT, with an `exp` still to come, whose `sub` is the name. Password checks
 * wait in the queue of `passwords`: `busy` when it is full.
 */
export async function authenticate(
  attempt: LoginAttempt,
  auth: AuthMode,
  store: Store,
  passwords: Passwords,
): Promise<AuthResult> {
  if (auth.mode === "token") {
    if (attempt.token === undefined) return "auth_failed";
    return (await tokenSubject(attempt.token, auth.secret)) === attempt.key
      ? "verified"
      : "auth_failed";
  }
  const { key, password, suspect = false } = attempt;
  const record = await store.account(key);
  if (record) {
    if (password === undefined) return "auth_failed";
    return verifyPassword(key, password, record, store, passwords, suspect);
  }
  if (password === undefined || !attempt.mayRegister) return "ok";
  const hashed = passwords.hash(password, suspect);
  if (hashed === null) return "busy";
  const fresh = await hashed;
  if (attempt.claim && !(await attempt.claim())) return "taken";
  if (await store.register(key, fresh)) return "ok";
  // Someone registered the name meanwhile: the password must now match theirs.
  const winner = await store.account(key);
  return winner ? verifyPassword(key, password, winner, store, passwords, suspect) : "auth_failed";
}

/**
 * Checks a password against a name's record; after a good one, a record with fewer rounds
 * than new ones get is replaced by a new hash, unless the record changed meanwhile.
 */
async function verifyPassword(
  key: string,
  password: string,
  record: PasswordRecord,
  store: Store,
  passwords: Passwords,
  suspect: boolean,
): Promise<AuthResult> {
  const checked = passwords.check(password, record, suspect);
  if (checked === null) return "busy";
  if (!(await checked)) return "auth_failed";
  if (record.iterations < passwords.iterations) {
    // No place for the rehash, or a store that fails it: the next good login tries again.
    const rehashed = passwords.hash(password);
    if (rehashed !== null) await store.rehash(key, record, await rehashed).catch(() => false);
  }
  return "verified";
}

/**
 * The name key a valid token speaks for, or null for a bad, expired or unsigned token, or
 * one without `exp`: a token that never expires would be a password nobody can change.
 */
async function tokenSubject(token: string, secret: string): Promise<string | null> {
  try {
    const payload = await verify(token, secret, "HS256");
    // verify checks `exp` only when it is there (and then that it is a number in the future).
    if (payload.exp === undefined) return null;
    return typeof payload.sub === "string" ? nameKey(payload.sub.normalize("NFC")) : null;
  } catch {
    return null; // hono's verify throws for every kind of bad token
  }
}

/**
 * Hashes a password with a fresh random salt (PBKDF2-SHA-256 through WebCrypto).
 *
 * @example
 * const record = await hashPassword("s3cret");
 * await checkPassword("s3cret", record); // true
 */
export async function hashPassword(
  password: string,
  iterations = PBKDF2_ITERATIONS,
): Promise<PasswordRecord> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await pbkdf2(password, salt, iterations);
  return { salt: toBase64(salt), hash: toBase64(hash), iterations };
}

/** Whether a password matches a stored record; compares in constant time. */
export async function checkPassword(password: string, record: PasswordRecord): Promise<boolean> {
  const hash = await pbkdf2(password, fromBase64(record.salt), record.iterations);
  return sameBytes(hash, fromBase64(record.hash));
}

async function pbkdf2(
  password: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(password),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    256,
  );
  return new Uint8Array(bits);
}

/**
 * Compares two byte arrays in time that depends only on their lengths.
 *
 * @example
 * sameBytes(new Uint8Array([1]), new Uint8Array([1])); // true
 */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i % b.length] ?? 0);
  return diff === 0;
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
