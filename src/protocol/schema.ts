import * as v from "valibot";
import type { Command } from "../core/mod.ts";

/** A client-chosen command id: a string of 1 to 64 characters. */
export const CommandId = v.pipe(v.string(), v.minLength(1), v.maxLength(64));

// Values are only shaped here; what makes a name, room or text valid is the core's rule.
const Text = v.string();
const Name = v.string();
const Secret = v.pipe(v.string(), v.maxLength(4096));
// A message id, as the client got it from the relay; only its length is checked here.
const MessageId = v.pipe(v.string(), v.minLength(1), v.maxLength(64));

/**
 * The most messages one `history` reply holds, and so the largest `limit` (docs/protocol.md §4).
 *
 * @example
 * v.is(COMMAND_SCHEMAS.history, { type: "history", with: "bob", limit: HISTORY_MAX }); // true
 */
export const HISTORY_MAX = 200;

const HistoryLimit = v.pipe(
  v.number(),
  v.integer("expected an integer"),
  v.minValue(1),
  v.maxValue(HISTORY_MAX),
);

/** The schema of each JSON command of docs/protocol.md §4, by `type`; extra fields are dropped. */
export const COMMAND_SCHEMAS = {
  login: v.object({
    type: v.literal("login"),
    name: Name,
    password: v.optional(Secret),
    token: v.optional(Secret),
    session: v.optional(Secret),
    since: v.optional(MessageId),
  }),
  to: v.object({ type: v.literal("to"), name: Name }),
  say: v.object({ type: v.literal("say"), text: Text }),
  msg: v.object({ type: v.literal("msg"), to: Name, text: Text }),
  join: v.object({ type: v.literal("join"), room: Name }),
  leave: v.object({ type: v.literal("leave"), room: Name }),
  who: v.object({ type: v.literal("who"), room: v.optional(Name), after: v.optional(v.string()) }),
  history: v.object({
    type: v.literal("history"),
    with: Name,
    before: v.optional(MessageId),
    limit: v.optional(HistoryLimit),
  }),
  rooms: v.object({ type: v.literal("rooms"), after: v.optional(Name) }),
  ping: v.object({ type: v.literal("ping") }),
  quit: v.object({
    type: v.literal("quit"),
    reason: v.optional(v.pipe(v.string(), v.maxLength(200))),
    forget: v.optional(v.boolean()),
  }),
};

/** Every JSON command, told apart by `type`. */
export const CommandSchema = v.variant("type", Object.values(COMMAND_SCHEMAS));

/** A command as the JSON schema yields it. */
export type JsonCommand = v.InferOutput<typeof CommandSchema>;

/**
 * The schema for a command `type`, or null when there is no such command. (Looking the
 * type up first is several times faster than trying each variant.)
 *
 * @example
 * schemaFor("ping"); // the ping schema
 * schemaFor("fly"); // null
 */
export function schemaFor(
  type: unknown,
): (typeof COMMAND_SCHEMAS)[keyof typeof COMMAND_SCHEMAS] | null {
  return typeof type === "string" && Object.hasOwn(COMMAND_SCHEMAS, type)
    ? COMMAND_SCHEMAS[type as keyof typeof COMMAND_SCHEMAS]
    : null;
}

// Every JSON command is a core command: the two definitions cannot drift apart.
const _fits: (c: JsonCommand) => Command = (c) => c;
