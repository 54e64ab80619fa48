import type { Command, Re, RelayError } from "../core/mod.ts";

/** One frame, decoded: a command to run, or an error to answer; both carry `re`. */
export type Decoded =
  | { ok: true; command: Command; re: Re }
  | { ok: false; error: RelayError; re: Re };

/** A decoded frame that failed with `code`. */
export function refused(code: RelayError["code"], message: string, re: Re = null): Decoded {
  return { ok: false, error: { code, message }, re };
}
