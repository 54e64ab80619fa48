import type { Effect, HoldResult, Input } from "../core/mod.ts";
import type { Bus } from "./bus/bus.ts";
import { loadLogin } from "./login.ts";
import type { Store } from "./store/store.ts";

/** What answering the core's questions to the store takes. */
export interface AskDeps {
  store: Store;
  bus: Bus;
  clock: () => number;
  /** Held messages kept per user at most. */
  maxQueued: number;
  /** The most messages a resume replays; 0 when the log is off. */
  resumeMax: number;
  /** Counts messages held. */
  counters: { held: number };
  /** Says that a store call failed (its fallback answer goes to the core). */
  failed(what: string, e: unknown): void;
}

/** The most messages a node reads back from the logs after its bus was away. */
const CATCH_UP_MAX = 10_000;

/**
 * The input that answers an effect asking the store something (hold this message, is this
 * name known, a page of history, what is held, what the logs hold since a cut, what a login
 * brings), or, for `handOver`, the bus and then the store; null for any other effect. A
 * store that fails gets the fallback answer the core expects from an unavailable store.
 * `recheckHeld` is read at once, whatever its `afterMs`: the host waits that long first.
 *
 * @example
 * const asked = askStore(effect, deps);
 * if (asked) asked.then((input) => host.input(input));
 */
export function askStore(effect: Effect, deps: AskDeps): Promise<Input> | null {
  const { store, clock } = deps;
  // This runs for every effect: it makes no closure unless it asks the store, and names
  // none (under tsx, esbuild's keepNames costs a named closure a `__name` call: it was a
  // tenth of a busy relay's time).
  switch (effect.type) {
    case "load":
      return answer(
        deps,
        loadLogin(effect, store, deps.resumeMax),
        ({ held, replay }) => ({ type: "loaded", conn: effect.conn, held, replay, now: clock() }),
        { held: [], replay: effect.since === undefined ? null : { messages: [], gap: true } },
      );
    case "hold":
      return answer(
        deps,
        store
          .hold(effect.key, effect.message, deps.maxQueued)
          .then((result) => counted(deps, result)),
        (result) => ({ type: "held", conn: effect.conn, result, now: clock() }),
        "unavailable" as const,
      );
    case "handOver": {
      const { conn, node, key, event } = effect;
      // A node that does not take the message (gone, or cut from the bus): the store does.
      const handed = deps.bus
        .publish(event, node)
        .then((sent) =>
          sent
            ? ("sent" as const)
            : store
                .hold(key, event.message, deps.maxQueued)
                .then((result) => counted(deps, result)),
        );
      return answer(
        deps,
        handed,
        (result) => ({ type: "handedOver", conn, result, now: clock() }),
        "unavailable" as const,
      );
    }
    case "lookupUser":
      return answer(
        deps,
        store.known(effect.key),
        (known) => ({ type: "userLooked", conn: effect.conn, known, now: clock() }),
        false,
      );
    case "loadHistory": {
      const { conn, conv, before, limit, user } = effect;
      const page = (async () =>
        user !== undefined && !(await store.known(user))
          ? null
          : store.page(conv, before, limit))();
      return answer(deps, page, (page) => ({ type: "historyLoaded", conn, page, now: clock() }), {
        messages: [],
        more: true,
      });
    }
    case "recheckHeld":
      return answer(
        deps,
        store.held(effect.key),
        (messages) => ({
          type: "heldFound",
          key: effect.key,
          messages,
          ...(effect.sync && { sync: true }),
          now: clock(),
        }),
        [],
      );
    case "catchUp": {
      // The logs first, then what is held: a message held before a logged one that the
      // read found is then found too (docs/design.md, "Catching up").
      const read = (async () => {
        const { messages } = await store.since(effect.convs, effect.since, CATCH_UP_MAX);
        const held = await Promise.all(
          effect.held.map(async (key) => ({ key, messages: await store.held(key) })),
        );
        return { messages, held };
      })();
      return answer(deps, read, (caught) => ({ type: "caughtUp", ...caught, now: clock() }), {
        messages: [],
        held: [],
      });
    }
    default:
      return null;
  }
}

/** The store's answer as the core's input: `next` of the result, or of `fallback` if it failed. */
function answer<T>(
  deps: AskDeps,
  work: Promise<T>,
  next: (result: T) => Input,
  fallback: T,
): Promise<Input> {
  return work
    .catch((e: unknown) => {
      deps.failed("store", e);
      return fallback;
    })
    .then(next);
}

/** A hold's result, counted when held. */
function counted(deps: AskDeps, result: HoldResult): HoldResult {
  if (result === "held") deps.counters.held++;
  return result;
}
