import * as v from "valibot";
import type { BusMessage } from "./bus.ts";

const Name = v.string();
const Message = v.object({
  type: v.literal("message"),
  id: v.string(),
  from: v.string(),
  to: v.string(),
  text: v.string(),
  ts: v.string(),
  queued: v.optional(v.literal(true)),
  replay: v.optional(v.literal(true)),
});

const Schema = v.variant("kind", [
  v.object({ kind: v.literal("hello"), node: Name }),
  v.object({ kind: v.literal("alive"), node: Name }),
  v.object({ kind: v.literal("down"), node: Name }),
  v.object({
    kind: v.literal("state"),
    node: Name,
    users: v.array(Name),
    rooms: v.array(v.object({ room: Name, members: v.array(Name) })),
  }),
  v.object({
    kind: v.literal("online"),
    node: Name,
    name: Name,
    quiet: v.boolean(),
    rooms: v.optional(v.array(Name)),
  }),
  v.object({ kind: v.literal("offline"), node: Name, name: Name, quiet: v.boolean() }),
  v.object({ kind: v.picklist(["joined", "left"]), node: Name, room: Name, name: Name }),
  v.object({
    kind: v.literal("message"),
    node: Name,
    scope: v.picklist(["user", "room", "all"]),
    message: Message,
    skip: v.optional(v.array(Name)),
  }),
  v.object({ kind: v.literal("announce"), node: Name, text: v.string(), ts: v.string() }),
  v.object({ kind: v.literal("kick"), node: Name, name: Name }),
]);

/**
 * A bus message from the JSON another node published, or null when it is not one (a
 * different version, or another program on the same channel).
 */
export function decodeBusMessage(data: string): BusMessage | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return null;
  }
  const result = v.safeParse(Schema, parsed);
  return result.success ? (result.output as BusMessage) : null;
}
