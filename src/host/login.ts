import type { AuthResult, ChatMessage, Effect, Replay } from "../core/mod.ts";
import { type AuthMode, authenticate } from "./auth.ts";
import type { Bus } from "./bus/bus.ts";
import { newSecret, secretHash } from "./secrets.ts";
import type { Store } from "./store/store.ts";

/** What a login's checks need. */
export interface LoginDeps {
  store: Store;
  bus: Bus;
  auth: AuthMode;
  /** How long an unused session secret stays valid. */
  sessionMs: number;
}

/**
 * Checks a login's credentials (password, token or session secret), claims the name in the
 * cluster, remembers it, and gives the login a session secret: the one it came with, renewed,
 * or a new one.
 */
export async function checkLogin(
  effect: Extract<Effect, { type: "authenticate" }>,
  deps: LoginDeps,
): Promise<{ result: AuthResult; name?: string; session?: string }> {
  const { store, bus, sessionMs } = deps;
  // As for a name online here: without a password, token or session, a name online on
  // another node is taken, whatever the store would say of the credentials.
  const proof =
    effect.password !== undefined || effect.token !== undefined || effect.session !== undefined;
  if (!proof && (await bus.heldElsewhere(effect.key))) return { result: "taken" };
  let result: AuthResult;
  if (effect.session !== undefined) {
    const owner = await store.useSession(await secretHash(effect.session), sessionMs);
    result = owner === effect.key ? "verified" : "auth_failed";
  } else {
    result = await authenticate(effect, deps.auth, store);
  }
  if (result === "auth_failed") return { result };
  if (!(await bus.claim(effect.key, result === "verified"))) return { result: "taken" };
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
