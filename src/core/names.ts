import { KEY_CHARACTERS } from "./confusables.ts";
import type { RelayError } from "./types.ts";

const NAME_PATTERN = /^[\p{L}\p{N}_][\p{L}\p{N}_.-]{0,31}$/u;
// Invisible characters: the default-ignorable ones (joiners, soft hyphen, variation
// selectors, ...) and the Hangul fillers, which are letters (Lo) that show as blanks.
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\u115f\u1160\u3164\uffa0]/u;
// Control characters other than tab (C0, DEL, C1).
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;

/** The most code points a message text may hold. */
export const MAX_TEXT_CODE_POINTS = 4000;

/** A valid name in its shown form (NFC) and its identity key (see {@link nameKey}). */
export interface CheckedName {
  name: string;
  key: string;
}

/**
 * Checks a user name (docs/protocol.md §3) and returns its shown form and key, or `bad_name`.
 *
 * @example
 * checkName("Alice"); // { name: "Alice", key: "alice" }
 * checkName("\u0410dmin"); // bad_name: Cyrillic А, reserved like admin
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
  const bad = badNamePart(name);
  if (bad) return bad;
  const key = nameKey(name);
  if (RESERVED.has(key)) {
    return { code: "bad_name", message: `the name ${name} is reserved` };
  }
  return { name, key };
}

function badNamePart(name: string): RelayError | null {
  if (!NAME_PATTERN.test(name)) {
    return {
      code: "bad_name",
      message:
        "a name is 1 to 32 letters, digits, '_', '-' or '.', starting with a letter, digit or '_'",
    };
  }
  if (INVISIBLE.test(name)) {
    return { code: "bad_name", message: "a name cannot hold invisible characters" };
  }
  return null;
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
  const bad = badNamePart(room.slice(1));
  if (bad) return { code: "bad_name", message: "a room's name cannot hold invisible characters" };
  return { name: room, key: nameKey(room) };
}

/**
 * The identity key of a name or a room (docs/protocol.md §3, v2): two names with one key are
 * the same user, two rooms with one key the same room. The key is the UTS #39 confusable
 * skeleton of the name's NFKC form, fully case-folded, taken until nothing changes (so the
 * key of a key is itself), in NFC; a room keeps its `#` and keys the rest. `ALICE`,
 * `ａｌｉｃｅ` (fullwidth) and `аlice` (Cyrillic а) share the key `alice`; like UTS #39,
 * `m` and `rn` are one, and so are `0`, `O` and `o`, and `1` and `l` (but not `I`: it
 * folds to `i` before the skeleton is taken). The per-character table is generated from
 * Unicode's data by scripts/gen-confusables.ts. Plain ASCII takes a fast path that gives
 * the same keys, and keys are remembered (a bounded cache): this runs for every message.
 *
 * @example
 * nameKey("ALICE") === nameKey("alice"); // true
 * nameKey("\u0430lice"); // "alice" (Cyrillic а)
 * nameKey("#General"); // "#general"
 */
export function nameKey(name: string): string {
  return name.charCodeAt(0) === HASH ? `#${keyOf(name.slice(1))}` : keyOf(name);
}

const HASH = 0x23;
const ASCII = /^[\u0000-\u007f]*$/;

// The key of each character of a prepared name (NFKC, lower case, NFD) that is not its own.
const KEY_OF_CHARACTER = new Map<string, string>();
for (const [key, characters] of KEY_CHARACTERS) {
  for (const c of characters) KEY_OF_CHARACTER.set(c, key);
}

// The ASCII characters whose key is not their lower case (`0`, `1`, `m`), from the same table.
const ASCII_CHANGED = new RegExp(
  `[${[...KEY_OF_CHARACTER.keys()]
    .filter((c) => ASCII.test(c))
    .map((c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)
    .join("")}]`,
  "g",
);

function keyOfCharacter(c: string): string {
  return KEY_OF_CHARACTER.get(c) ?? c;
}

function keyOf(name: string): string {
  // The same few names come back in every message: remember their keys (a bounded cache).
  const known = keys.get(name);
  if (known !== undefined) return known;
  // For ASCII, NFKC, NFD and NFC change nothing and full case folding is toLowerCase.
  const key = ASCII.test(name)
    ? name.toLowerCase().replace(ASCII_CHANGED, keyOfCharacter)
    : referenceNameKey(name);
  if (keys.size >= CACHE_SIZE) keys.clear();
  keys.set(name, key);
  return key;
}

const keys = new Map<string, string>();

/**
 * {@link nameKey} of a name (without `#`), taken the long way, without the ASCII fast path
 * or the cache: the reference they must agree with.
 *
 * @example
 * referenceNameKey("Tom") === nameKey("Tom"); // true, both "torn"
 */
export function referenceNameKey(name: string): string {
  // toLowerCase is full case folding but for a few characters (ß, ς, Cherokee small
  // letters), which the table folds along with the confusables.
  const prepared = name.normalize("NFKC").toLowerCase().normalize("NFD");
  let key = "";
  for (const c of prepared) key += keyOfCharacter(c);
  return key.normalize("NFC");
}

// After the key tables, which it needs.
const RESERVED = new Set(["server", "admin"].map(nameKey));

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
