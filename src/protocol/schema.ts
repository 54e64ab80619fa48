import * as v from "valibot";
import type { Command } from "../core/mod.ts";

/** A client-chosen command id: a string of 1 to 64 characters. */
export const CommandId = v.pipe(v.string(), v.minLength(1), v.maxLength(64));

// Values are only shaped here; what makes a name, room or text valid is the core's rule.
const Text = v.string();
const Name = v.string();
const Secret = v.pipe(v.string(), v.maxLength(4096));

/** Every JSON command of PROTOCOL.md §4, told apart by `type`; extra fields are dropped. */
export const CommandSchema = v.variant("type", [
  v.object({
    type: v.literal("login"),
    name: Name,
    password: v.optional(Secret),
    token: v.optional(Secret),
  }),
  v.object({ type: v.literal("to"), name: Name }),
  v.object({ type: v.literal("say"), text: Text }),
  v.object({ type: v.literal("msg"), to: Name, text: Text }),
  v.object({ type: v.literal("join"), room: Name }),
  v.object({ type: v.literal("leave"), room: Name }),
  v.object({ type: v.literal("who"), room: v.optional(Name) }),
  v.object({ type: v.literal("rooms") }),
  v.object({ type: v.literal("ping") }),
  v.object({ type: v.literal("quit"), reason: v.optional(v.pipe(v.string(), v.maxLength(200))) }),
]);

/** A command as the JSON schema yields it. */
export type JsonCommand = v.InferOutput<typeof CommandSchema>;

// Every JSON command is a core command: the two definitions cannot drift apart.
const _fits: (c: JsonCommand) => Command = (c) => c;
