import * as v from "valibot";
import type { ServerMessage } from "../core/mod.ts";
import { type Decoded, refused } from "./decoded.ts";
import { CommandId, schemaFor } from "./schema.ts";

/** The longest `type` an error message quotes back to the client. */
const MAX_ECHOED_TYPE = 32;

/**
 * Decodes one JSON-mode frame into a command. `re` is the frame's `id` whenever the frame
 * is an object with a valid `id`, even when the rest of it is refused. It never throws,
 * whatever the frame holds (a frame is the client's to choose, nesting included).
 *
 * @example
 * decodeJson('{"type":"ping","id":"1"}'); // { ok: true, command: { type: "ping" }, re: "1" }
 */
export function decodeJson(frame: string): Decoded {
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch {
    return refused("bad_json", "this connection speaks JSON: send one JSON object per frame");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return refused("bad_command", 'a command is a JSON object with a "type"');
  }
  try {
    return decodeFields(value as Record<string, unknown>);
  } catch {
    // Nothing below is known to throw; should a schema ever do, the frame is refused, not
    // the connection's process brought down.
    return refused("bad_command", "this command could not be read");
  }
}

function decodeFields(fields: Record<string, unknown>): Decoded {
  let re: string | null = null;
  if ("id" in fields) {
    const id = v.safeParse(CommandId, fields.id);
    if (!id.success) return refused("bad_command", "field id: a string of 1 to 64 characters");
    re = id.output;
  }
  // The hot path, with the outcome the msg schema would give: two strings make the command.
  if (fields.type === "msg" && typeof fields.to === "string" && typeof fields.text === "string") {
    return { ok: true, command: { type: "msg", to: fields.to, text: fields.text }, re };
  }
  const schema = schemaFor(fields.type);
  if (!schema) return refused("bad_command", unknownType(fields.type), re);
  const parsed = v.safeParse(schema, fields);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const field = v.getDotPath(issue) ?? "type";
    return refused(
      "bad_command",
      `field ${field}: ${issue.expected ? `expected ${issue.expected}` : issue.message}`,
      re,
    );
  }
  return { ok: true, command: parsed.output, re };
}

/**
 * Why a `type` names no command. Only a short string is quoted back: anything else is the
 * client's own (possibly huge or deeply nested) value, which is not worth the cost of
 * encoding it, nor safe to encode.
 */
function unknownType(type: unknown): string {
  return typeof type === "string" && type.length <= MAX_ECHOED_TYPE
    ? `field type: unknown command ${JSON.stringify(type)}`
    : "field type: expected a command name";
}

/**
 * Encodes a reply or event as one JSON frame (without a line ending).
 *
 * @example
 * encodeJson({ type: "pong", re: null }); // '{"type":"pong","re":null}'
 */
export function encodeJson(msg: ServerMessage): string {
  if (msg.type === "ok" && msg.id !== undefined && !msg.queued) {
    return `{"type":"ok","re":${msg.re === null ? "null" : JSON.stringify(msg.re)},"id":"${msg.id}"}`;
  }
  if (msg.type !== "message") return JSON.stringify(msg);
  // The hot path. Ids, names, rooms and timestamps never need escaping (the core made or
  // checked them); only the text does.
  const flags = `${msg.queued ? ',"queued":true' : ""}${msg.replay ? ',"replay":true' : ""}`;
  return `{"type":"message","id":"${msg.id}","from":"${msg.from}","to":"${msg.to}","text":${JSON.stringify(msg.text)},"ts":"${msg.ts}"${flags}}`;
}
