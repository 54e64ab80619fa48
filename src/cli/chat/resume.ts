/** The login command the client sends (docs/protocol.md §4, §11). */
export interface LoginCommand {
  type: "login";
  name: string;
  password?: string;
  session?: string;
  since?: string;
}

/**
 * What the terminal client remembers between two connections so that it logs in again
 * without losing or repeating a message (docs/protocol.md §11): the session secret of the last
 * `welcome` and the newest message id it has shown. Kept in memory only: nothing here
 * (and never the password) is written to disk.
 *
 * @example
 * const resume = new Resume();
 * resume.welcomed("s3cr3t");
 * resume.saw("0mwt3j2a80000");
 * resume.login("ann", "pw"); // { type: "login", name: "ann", session: "s3cr3t", since: "0mwt3j2a80000" }
 */
export class Resume {
  #session: string | undefined;
  #since: string | undefined;

  /** The newest message id seen, if any. */
  get since(): string | undefined {
    return this.#since;
  }

  /** Whether a session secret is kept. */
  get hasSession(): boolean {
    return this.#session !== undefined;
  }

  /**
   * Notes a message id the user has seen (a message event, or the `ok` of an own send);
   * only the newest counts. Ids sort by code unit in the order the relay accepted them.
   */
  saw(id: string | undefined): void {
    if (id !== undefined && (this.#since === undefined || id > this.#since)) this.#since = id;
  }

  /** Keeps the session secret of a `welcome` (a server without sessions sends none). */
  welcomed(session: string | undefined): void {
    if (session !== undefined) this.#session = session;
  }

  /** Forgets the session secret (the server refused it, or it was ended with `quit`). */
  forgetSession(): void {
    this.#session = undefined;
  }

  /**
   * The login to send: the session secret when one is kept, else the password (if any);
   * `since` once a message id was seen, so that the server replays what came after it.
   */
  login(name: string, password: string | undefined): LoginCommand {
    const command: LoginCommand = { type: "login", name };
    if (this.#session !== undefined) command.session = this.#session;
    else if (password) command.password = password;
    if (this.#since !== undefined) command.since = this.#since;
    return command;
  }
}

/** The longest wait between two attempts to reconnect. */
export const MAX_BACKOFF_MS = 15_000;

/**
 * How long to wait before the attempt after `attempts` failed ones: 0.5 s, doubling,
 * at most {@link MAX_BACKOFF_MS}.
 *
 * @example
 * backoff(0); // 500
 * backoff(3); // 4000
 */
export function backoff(attempts: number): number {
  return Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempts);
}
