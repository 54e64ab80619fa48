import type { RelayError } from "./types.ts";

const NAME_PATTERN = /^[\p{L}\p{N}_][\p{L}\p{N}_.-]{0,31}$/u;
const RESERVED = new Set(["server", "admin"]);
// Control characters other than tab (C0, DEL, C1).
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;

/** The most code points a message text may hold. */
export const MAX_TEXT_CODE_POINTS = 4000;

/** A valid name in its shown form (NFC) and its identity key (case-folded). */
export interface CheckedName {
  name: string;
  key: string;
}

/**
 * Checks a user name (docs/protocol.md §3) and returns its shown form and key, or `bad_name`.
 *
 * @example
 * checkName("Alice"); // { name: "Alice", key: "alice" }
 */
export function checkName(raw: string): CheckedName | RelayError {
  // The same few names come back in every message: remember the verdicts (a bounded cache).
  const known = checked.get(raw);
  if (known) return known;
  const verdict = judgeName(raw);
  if (checked.size >= CACHE_SIZE) checked.clear();
  checked.set(raw, verdict);
  return verdict;
}

const CACHE_SIZE = 10_000;
const checked = new Map<string, CheckedName | RelayError>();

function judgeName(raw: string): CheckedName | RelayError {
  const name = raw.normalize("NFC");
  if (!NAME_PATTERN.test(name)) {
    return {
      code: "bad_name",
      message:
        "a name is 1 to 32 letters, digits, '_', '-' or '.', starting with a letter, digit or '_'",
    };
  }
  const key = nameKey(name);
  if (RESERVED.has(key)) {
    return { code: "bad_name", message: `the name ${name} is reserved` };
  }
  return { name, key };
}

/**
 * Checks a room (`#` and a name) and returns its shown form and key, or `bad_name`.
 *
 * @example
 * checkRoom("#General"); // { name: "#General", key: "#general" }
 */
export function checkRoom(raw: string): CheckedName | RelayError {
  const room = raw.normalize("NFC");
  if (!room.startsWith("#") || !NAME_PATTERN.test(room.slice(1))) {
    return {
      code: "bad_name",
      message: "a room is '#' followed by a name, like #general",
    };
  }
  return { name: room, key: nameKey(room) };
}

/**
 * The identity key of an NFC name: two names with one key are the same user or room.
 *
 * @example
 * nameKey("ALICE") === nameKey("alice"); // true
 */
export function nameKey(name: string): string {
  return name.toLowerCase();
}

/**
 * Checks a message text (docs/protocol.md §3): 1 to 4000 code points, no control characters
 * but tab. Returns null when it is fine, else `bad_text`.
 *
 * @example
 * checkText("hi"); // null
 * checkText(""); // { code: "bad_text", ... }
 */
export function checkText(text: string): RelayError | null {
  if (text.length === 0) {
    return { code: "bad_text", message: "a message cannot be empty" };
  }
  if (text.length > MAX_TEXT_CODE_POINTS && countCodePoints(text) > MAX_TEXT_CODE_POINTS) {
    return {
      code: "bad_text",
      message: `a message is at most ${MAX_TEXT_CODE_POINTS} characters`,
    };
  }
  if (CONTROL.test(text)) {
    return {
      code: "bad_text",
      message: "a message cannot hold control characters (tab is fine)",
    };
  }
  return null;
}

function countCodePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** Whether a value is a RelayError rather than a result. */
export function isError(value: object): value is RelayError {
  return "code" in value;
}
