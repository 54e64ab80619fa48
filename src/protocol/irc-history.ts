import type { ChatMessage, Command } from "../core/mod.ts";
import { HISTORY_MAX } from "./schema.ts";

/** A point in a conversation, as IRCv3 `draft/chathistory` names one. */
export type HistoryRef = { msgid: string } | { timestamp: string } | "*";

/** A `CHATHISTORY` request (IRCv3 `draft/chathistory`), read from its parameters. */
export interface HistoryRequest {
  sub: "LATEST" | "BEFORE" | "AFTER" | "AROUND" | "BETWEEN";
  target: string;
  /** One reference, or two for `BETWEEN`. */
  refs: HistoryRef[];
  /** At most `HISTORY_MAX`. */
  limit: number;
}

/** How many pages of `HISTORY_MAX` messages a request may read back through, at most. */
export const HISTORY_PAGES = 5;

/**
 * Reads `CHATHISTORY <sub> <target> <ref> [<ref>] <limit>`: the request, `TARGETS` (which
 * this server answers with an empty list), or the `FAIL` parameters that say what is wrong.
 *
 * @example
 * parseHistory(["LATEST", "#dev", "*", "50"]);
 * // { sub: "LATEST", target: "#dev", refs: ["*"], limit: 50 }
 */
export function parseHistory(params: string[]): HistoryRequest | "TARGETS" | string[] {
  const sub = params[0]?.toUpperCase();
  if (sub === undefined) return ["NEED_MORE_PARAMS", "*", "Missing parameters"];
  if (sub === "TARGETS") return "TARGETS";
  if (!["LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN"].includes(sub)) {
    return ["INVALID_PARAMS", sub, "Unknown subcommand"];
  }
  const count = sub === "BETWEEN" ? 2 : 1;
  if (params.length < 3 + count) return ["NEED_MORE_PARAMS", sub, "Missing parameters"];
  const target = params[1] as string;
  const refs = params.slice(2, 2 + count).map(parseRef);
  const limit = Number(params[2 + count]);
  if (!Number.isInteger(limit) || limit < 1) return ["INVALID_PARAMS", sub, "Bad limit"];
  if (refs.some((r) => r === null || (r === "*" && sub !== "LATEST"))) {
    return ["INVALID_PARAMS", sub, "Bad message reference"];
  }
  return {
    sub: sub as HistoryRequest["sub"],
    target,
    refs: refs as HistoryRef[],
    limit: Math.min(limit, HISTORY_MAX),
  };
}

function parseRef(text: string): HistoryRef | null {
  if (text === "*") return "*";
  if (text.startsWith("msgid=") && text.length > 6) return { msgid: text.slice(6) };
  if (text.startsWith("timestamp=")) {
    const ms = Date.parse(text.slice(10));
    return Number.isNaN(ms) ? null : { timestamp: new Date(ms).toISOString() };
  }
  return null;
}

/**
 * Where a message stands against a reference: negative before it, 0 at it, positive after
 * (ids sort in the order the relay accepted the messages, docs/protocol.md §11.6).
 */
export function compareToRef(m: ChatMessage, ref: HistoryRef): number {
  if (ref === "*") return 1;
  const [a, b] = "msgid" in ref ? [m.id, ref.msgid] : [m.ts, ref.timestamp];
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The `before` of a relay `history` command that stands for a reference: a message id, or
 * for a time the smallest id the relay could give a message of that millisecond (an id
 * starts with the time in 9 base-36 digits, docs/protocol.md §11.6).
 */
export function beforeOf(ref: HistoryRef): string | undefined {
  if (ref === "*") return undefined;
  if ("msgid" in ref) return ref.msgid;
  return Date.parse(ref.timestamp).toString(36).padStart(9, "0");
}

/**
 * The relay `history` command that reads the first page for `request`: the newest `limit`
 * messages (`LATEST`), those before the reference (`BEFORE`), the newest `HISTORY_MAX`
 * before the later reference (`BETWEEN`), or the newest `HISTORY_MAX` (`AFTER`, `AROUND`),
 * read further back by `history` pages until `readEnough`.
 *
 * @example
 * firstPage({ sub: "BEFORE", target: "#dev", refs: [{ msgid: "x" }], limit: 10 });
 * // { type: "history", with: "#dev", limit: 10, before: "x" }
 */
export function firstPage(request: HistoryRequest): Extract<Command, { type: "history" }> {
  const [ref, other] = request.refs as [HistoryRef, HistoryRef | undefined];
  const command: Extract<Command, { type: "history" }> = {
    type: "history",
    with: request.target,
    limit: request.sub === "LATEST" || request.sub === "BEFORE" ? request.limit : HISTORY_MAX,
  };
  const before =
    request.sub === "BEFORE"
      ? beforeOf(ref)
      : request.sub === "BETWEEN"
        ? later(beforeOf(ref), beforeOf(other ?? "*"))
        : undefined;
  if (before !== undefined) command.before = before;
  return command;
}

/** The later of two ids or id bounds (they sort by code unit, docs/protocol.md §11.6). */
function later(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return [a, b].sort()[1];
}

/**
 * Whether the messages read so far (oldest first) reach back far enough for `request`: to
 * its earliest reference, or, for `LATEST` and `BEFORE`, at once.
 */
export function readEnough(request: HistoryRequest, messages: ChatMessage[]): boolean {
  if (request.sub === "LATEST" || request.sub === "BEFORE") return true;
  const oldest = messages[0];
  if (oldest === undefined) return true;
  const earliest = request.refs.reduce((a, b) => (compareRefs(a, b) <= 0 ? a : b));
  return compareToRef(oldest, earliest) <= 0;
}

function compareRefs(a: HistoryRef, b: HistoryRef): number {
  if (a === "*" || b === "*") return 0;
  const x = "msgid" in a ? a.msgid : a.timestamp;
  const y = "msgid" in b ? b.msgid : b.timestamp;
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The messages `request` asks for, oldest first, out of those read back (oldest first),
 * at most `request.limit`.
 *
 * @example
 * // AFTER msgid=b 1, out of a, b, c, d: c
 */
export function selectHistory(request: HistoryRequest, messages: ChatMessage[]): ChatMessage[] {
  const { limit } = request;
  const [ref, other] = request.refs as [HistoryRef, HistoryRef | undefined];
  switch (request.sub) {
    case "LATEST":
      return messages.filter((m) => compareToRef(m, ref) > 0).slice(-limit);
    case "BEFORE":
      return messages.filter((m) => compareToRef(m, ref) < 0).slice(-limit);
    case "AFTER":
      return messages.filter((m) => compareToRef(m, ref) > 0).slice(0, limit);
    case "AROUND": {
      const before = messages.filter((m) => compareToRef(m, ref) < 0);
      const after = messages.filter((m) => compareToRef(m, ref) >= 0);
      const fromBefore = Math.min(before.length, Math.floor(limit / 2));
      return [...before.slice(before.length - fromBefore), ...after].slice(0, limit);
    }
    case "BETWEEN": {
      const second = other as HistoryRef;
      const ascending = compareRefs(ref, second) <= 0;
      const [lo, hi] = ascending ? [ref, second] : [second, ref];
      const inside = messages.filter((m) => compareToRef(m, lo) > 0 && compareToRef(m, hi) < 0);
      return ascending ? inside.slice(0, limit) : inside.slice(-limit);
    }
  }
}
