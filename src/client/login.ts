import { RelayError } from "./errors.ts";
import type { CloseOptions } from "./options.ts";
import type { CommandOf, Welcome } from "./types.ts";

/** How long `close` waits for the server's `bye` before it drops the connection anyway. */
const QUIT_TIMEOUT_MS = 2000;

/** What a login says: who, how they prove it, and where to resume (docs/protocol.md §6, §11). */
export interface LoginState {
  name: string;
  password?: string | undefined;
  token?: string | undefined;
  /** The session secret of the last `welcome`, if any: tried first. */
  session: string | undefined;
  /** The newest message id seen: the server replays what came after it. */
  since: string | undefined;
}

/**
 * Logs in on a new connection: with the session secret when there is one, else with the
 * password or token. When the server refuses the session (`auth_failed`: it expired, was
 * forgotten, or a store that lost it), `sessionEnded` is called and the login is sent
 * once more as at first; any other refusal rejects.
 *
 * @example
 * const welcome = await logIn((command) => send(command), { name: "bot", session, since }, () => {
 *   session = undefined;
 * });
 */
export async function logIn(
  send: (command: CommandOf<"login">) => Promise<Welcome>,
  state: LoginState,
  sessionEnded: () => void,
): Promise<Welcome> {
  const { name, password, token, session, since } = state;
  const command = (session: string | undefined): CommandOf<"login"> => ({
    type: "login",
    name,
    ...(session !== undefined ? { session } : { password, token }),
    ...(since !== undefined && { since }),
  });
  if (session === undefined) return await send(command(undefined));
  try {
    return await send(command(session));
  } catch (error) {
    if (!(error instanceof RelayError && error.code === "auth_failed")) throw error;
    sessionEnded();
    return await send(command(undefined));
  }
}

/**
 * Logs out: sends `quit` (with `forget` to end the session secret on the server too) and
 * resolves when its `bye` comes, the request fails, or after two seconds, whichever is first.
 *
 * @example
 * await logOut((command) => send(command), { forget: true });
 */
export async function logOut(
  send: (command: CommandOf<"quit">) => Promise<unknown>,
  options: CloseOptions,
): Promise<void> {
  const quit = send({
    type: "quit",
    ...(options.reason !== undefined && { reason: options.reason }),
    ...(options.forget && { forget: true }),
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, QUIT_TIMEOUT_MS);
  });
  await Promise.race([quit.catch(() => {}), late]);
  clearTimeout(timer);
}
