import * as v from "valibot";
import type { Command } from "../core/mod.ts";

/** A client-chosen command id: a string of 1 to 64 characters. */
export const CommandId = v.pipe(v.string(), v.minLength(1), v.maxLength(64));

// Values are only shaped here; what makes a name, room or text valid is the core's rule.
const Text = v.string();
const Name = v.string();
const Secret = v.pipe(v.string(), v.maxLength(4096));

/** The schema of each JSON command of PROTOCOL.md §4, by `type`; extra fields are dropped. */
export const COMMAND_SCHEMAS = {
  login: v.object({
    type: v.literal("login"),
    name: Name,
    password: v.optional(Secret),
    token: v.optional(Secret),
  }),
  to: v.object({ type: v.literal("to"), name: Name }),
  say: v.object({ type: v.literal("say"), text: Text }),
  msg: v.object({ type: v.literal("msg"), to: Name, text: Text }),
  join: v.object({ type: v.literal("join"), room: Name }),
  leave: v.object({ type: v.literal("leave"), room: Name }),
  who: v.object({ type: v.literal("who"), room: v.optional(Name) }),
  rooms: v.object({ type: v.literal("rooms") }),
  ping: v.object({ type: v.literal("ping") }),
  quit: v.object({
    type: v.literal("quit"),
    reason: v.optional(v.pipe(v.string(), v.maxLength(200))),
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
