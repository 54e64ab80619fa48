import type { AuthResult, ChatMessage, Effect, Replay } from "../core/mod.ts";
import { type AuthMode, authenticate, type Passwords } from "./auth.ts";
import type { Bus } from "./bus/bus.ts";
import { newSecret, secretHash } from "./secrets.ts";
import type { Store } from "./store/store.ts";
import { addressOf, type LoginThrottle, type LoginTry } from "./throttle.ts";

/** What a login's checks need: one of these per host. */
export interface LoginDeps {
  store: Store;
  bus: Bus;
  auth: AuthMode;
  /** How long an unused session secret stays valid. */
  sessionMs: number;
  /** Hashes and checks passwords, a bounded number at once. */
  passwords: Passwords;
  /** Counts failed logins per name and address, and the logins being checked here. */
  throttle: LoginThrottle;
  /** Whether a name key is online, here or on another node as far as this one knows. */
  online(key: string): boolean;
  /** Resolves once the session secrets forgotten so far (`quit` with `forget`) are dropped. */
  forgotten(): Promise<void>;
}

/** What checking a login found (see `checkLogin`). */
export interface LoginChecked {
  result: AuthResult;
  name?: string;
  session?: string;
}

/**
 * Checks a login from `remote` (its connection's `host:port`): refused at once when too
 * many logins of its name or from its address failed lately (docs/protocol.md §8);
 * otherwise its credentials (password, token or session secret) are checked, a failure
 * is counted, and the name is claimed in the cluster, remembered, and given a session
 * secret: the one it came with, renewed, or a new one. Call `settled` once the core has
 * the result: until then the login counts as being checked, and a name without a password
 * that it may take is not free for others.
 */
export function checkLogin(
  effect: Extract<Effect, { type: "authenticate" }>,
  deps: LoginDeps,
  remote: string,
): { checked: Promise<LoginChecked>; settled: () => void } {
  const login: LoginTry = {
    key: effect.key,
    address: addressOf(remote),
    guess:
      deps.auth.mode === "open" && effect.password !== undefined && effect.session === undefined,
  };
  deps.throttle.begin(login);
  let settled = false;
  return {
    checked: check(effect, deps, login),
    settled: () => {
      if (settled) return;
      settled = true;
      deps.throttle.end(login);
    },
  };
}

async function check(
  effect: Extract<Effect, { type: "authenticate" }>,
  deps: LoginDeps,
  login: LoginTry,
): Promise<LoginChecked> {
  const { store, bus, sessionMs, throttle } = deps;
  // As for a name online here: without a password, token or session, a name online on
  // another node is taken, whatever the store would say of the credentials.
  const proof =
    effect.password !== undefined || effect.token !== undefined || effect.session !== undefined;
  if (!proof && (await bus.heldElsewhere(effect.key))) return { result: "taken" };
  // Before anything is hashed or looked up: a login without credentials guesses nothing.
  const { throttled, suspect } = proof
    ? await throttle.assess(login)
    : { throttled: null, suspect: false };
  if (throttled) return { result: throttled };
  let claimed = false;
  // A name without a password goes to one login at a time: none may register a password
  // for it, nor log in to it without one, while it is online or another login may take it.
  const claimFree = async () => {
    if (throttle.checking(effect.key) > 1 || deps.online(effect.key)) return false;
    claimed = await bus.claim(effect.key, false);
    return claimed;
  };
  let result: AuthResult;
  if (effect.session !== undefined) {
    // A secret forgotten just before (its drop hashes it first) must not log in after.
    await deps.forgotten();
    const owner = await store.useSession(await secretHash(effect.session), sessionMs);
    result = owner === effect.key ? "verified" : "auth_failed";
  } else {
    const attempt = { ...effect, claim: claimFree, suspect };
    result = await authenticate(attempt, deps.auth, store, deps.passwords).catch(async (e) => {
      // The store failed after the name was claimed to register it: nobody has it.
      if (claimed) await bus.release(effect.key).catch(() => {});
      throw e;
    });
  }
  if (result !== "ok" && result !== "verified") {
    // Claimed to register, but someone else's password was there first: let the name go.
    if (claimed) await bus.release(effect.key);
    if (result === "auth_failed" && proof) await throttle.failed(login);
    return { result };
  }
  if (!claimed) {
    const taken = result === "ok" ? await claimFree() : await bus.claim(effect.key, true);
    if (!taken) return { result: "taken" };
  }
  const name = await store.remember(effect.key, effect.name);
  let session = effect.session;
  if (session === undefined) {
    session = newSecret();
    await store.saveSession(await secretHash(session), effect.key, sessionMs);
  }
  return { result, name, session };
}

/**
 * What a login brings: the messages held for the user and, with `since` (and a log, when
 * `resumeMax` > 0), the newest `resumeMax` messages of their conversations after it: their
 * private ones, the rooms given, and everyone's.
 */
export async function loadLogin(
  effect: Extract<Effect, { type: "load" }>,
  store: Store,
  resumeMax: number,
): Promise<{ held: ChatMessage[]; replay: Replay | null }> {
  const held = await store.held(effect.key);
  if (effect.since === undefined || resumeMax === 0) return { held, replay: null };
  const convs = [...(await store.conversations(effect.key)), ...effect.rooms, "*"];
  return { held, replay: await store.since(convs, effect.since, resumeMax) };
}
