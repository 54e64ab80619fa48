import type { Reply, Event as ServerEvent } from "../core/types.ts";

/** A frame from the server, read: a reply to a request, or an event. */
export type Incoming = { reply: Reply } | { event: ServerEvent };

/**
 * Reads a frame from the server: a reply (it carries `re`, docs/protocol.md §5) or an
 * event (it never does); null for anything else (not JSON, not an object with a `type`).
 *
 * @example
 * readFrame('{"type":"pong","re":"c1"}'); // { reply: { type: "pong", re: "c1" } }
 * readFrame('{"type":"presence","name":"bo","status":"online"}'); // { event: ... }
 */
export function readFrame(text: string): Incoming | null {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return null;
  }
  if (
    typeof msg !== "object" ||
    msg === null ||
    typeof (msg as { type?: unknown }).type !== "string"
  ) {
    return null;
  }
  return "re" in msg ? { reply: msg as Reply } : { event: msg as ServerEvent };
}
