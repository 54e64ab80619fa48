import type { Context } from "./context.ts";
import type { Session } from "./state.ts";

/** Tells the users online here that a user of this node came or went. */
export function presence(cx: Context, s: Session, status: "online" | "offline"): void {
  if (cx.options.presence === "off") return;
  cx.toEveryone(s, { type: "presence", name: s.name, status });
}

/** Tells the users online here that a user of another node came or went. */
export function remotePresence(cx: Context, name: string, status: "online" | "offline"): void {
  if (cx.options.presence === "off") return;
  cx.toEveryone(null, { type: "presence", name, status });
}
