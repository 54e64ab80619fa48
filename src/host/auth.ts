import { verify } from "hono/jwt";
import { type AuthResult, nameKey } from "../core/mod.ts";
import type { RelayConfig } from "./config.ts";
import type { PasswordRecord, Store } from "./store/store.ts";

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
  mayRegister: boolean;
}

/** PBKDF2 rounds for new passwords (OWASP's advice for SHA-256 is above 600,000). */
export const PBKDF2_ITERATIONS = 210_000;

/**
 * Checks a login (docs/protocol.md §6). In open mode a name without a password is free, a
 * password given for it registers it (when `mayRegister`), and a registered name needs its
 * password. In token mode the token must be a valid HS256 JWT, with an `exp` still to
 * come, whose `sub` is the name.
 */
export async function authenticate(
  attempt: LoginAttempt,
  auth: AuthMode,
  store: Store,
): Promise<AuthResult> {
  if (auth.mode === "token") {
    if (attempt.token === undefined) return "auth_failed";
    return (await tokenSubject(attempt.token, auth.secret)) === attempt.key
      ? "verified"
      : "auth_failed";
  }
  const record = await store.account(attempt.key);
  if (record) {
    if (attempt.password === undefined) return "auth_failed";
    return (await checkPassword(attempt.password, record)) ? "verified" : "auth_failed";
  }
  if (attempt.password === undefined || !attempt.mayRegister) return "ok";
  if (await store.register(attempt.key, await hashPassword(attempt.password))) return "ok";
  // Someone registered the name meanwhile: the password must now match theirs.
  const winner = await store.account(attempt.key);
  return winner && (await checkPassword(attempt.password, winner)) ? "verified" : "auth_failed";
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
