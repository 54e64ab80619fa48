// The page's connection to the relay: one RelayClient (src/client) at a time for the
// protocol (login, resume with session and since, reconnecting, requests, events), its
// events handed to the page, and what happens when the first login fails.
import {
  type ChatMessage,
  type JoinedEvent,
  type LeftEvent,
  type PresenceEvent,
  RelayClient,
  type RelayClientEvents,
  RelayError,
  type Welcome,
} from "../../../client/mod.ts";
import type { SavedState } from "./saved.ts";

/** How often a quiet connection is checked with a ping. */
const HEARTBEAT_MS = 25_000;

/** What the session tells the page. */
export interface SessionEvents {
  /** A login succeeded; `again` after the first one of this client (a reconnect). */
  opened(welcome: Welcome, again: boolean): void;
  message(m: ChatMessage): void;
  presence(p: PresenceEvent): void;
  joined(e: JoinedEvent): void;
  left(e: LeftEvent): void;
  announce(text: string): void;
  /** Another tab or device took the session over. */
  replaced(): void;
  /** The server ended this page's session, or the client gave up: offer `action` to come back. */
  stopped(why: string, action: string): void;
  status(text: string, kind?: "online" | "offline"): void;
  /** A connection ended (the client may be reconnecting). */
  closed(): void;
  /** The first login failed; the login form may be used again. */
  failed(): void;
  /** The kept session was refused: it has ended on the server. */
  sessionEnded(): void;
  /** The first login was refused, or the server cannot be reached: say so on the login form. */
  refused(message: string): void;
}

/** Who the page logs in as, asked at each attempt. */
export interface SessionSource {
  state(): SavedState | null;
  /** Kept in memory only, for as long as the page lives. */
  password(): string | undefined;
}

/** The WebSocket URL of the relay that served this page: `/ws` beside it. */
function socketUrl(): string {
  const url = new URL("ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.search = "";
  url.hash = "";
  return url.href;
}

/**
 * The error's message, for people.
 *
 * @example
 * describeError(new Error("boom")); // "boom"
 */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The code of a {@link RelayError}, else "".
 *
 * @example
 * codeOf(new RelayError("closed", "the client was closed")); // "closed"
 */
export function codeOf(error: unknown): string {
  return error instanceof RelayError ? error.code : "";
}

/**
 * The page's session with the relay: `connect` makes a new client for who `source` says
 * (the kept session first) and hands its events to the page; the events of a client the
 * page has let go of are dropped. A kept session whose server cannot be reached is tried
 * again, waiting 1 s, doubling, up to 30 s.
 *
 * @example
 * const session = new PageSession({ state: () => saved, password: () => undefined }, events);
 * session.connect();
 * await session.client?.request({ type: "join", room: "#dev" });
 */
export class PageSession {
  readonly #source: SessionSource;
  readonly #events: SessionEvents;
  #client: RelayClient | null = null;
  #opens = 0;
  #retries = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(source: SessionSource, events: SessionEvents) {
    this.#source = source;
    this.#events = events;
  }

  /** The current client; null when the page is not connected nor trying to. */
  get client(): RelayClient | null {
    return this.#client;
  }

  /** Connects anew (closing the client before), as the source says. */
  connect(): void {
    const state = this.#source.state();
    if (state === null) return;
    clearTimeout(this.#retryTimer);
    void this.#client?.close();
    const password = this.#source.password();
    const client = new RelayClient({
      url: socketUrl(),
      name: state.name,
      ...(password !== undefined && { password }),
      ...(state.session !== undefined && { session: state.session }),
      ...(state.since !== undefined && { since: state.since }),
      heartbeatMs: HEARTBEAT_MS,
    });
    this.#client = client;
    this.#opens = 0;
    this.#listen(client);
    this.#events.status("connecting…");
    const withSession = state.session !== undefined;
    client.connect().catch((error: unknown) => {
      if (this.#client === client) this.#refused(error, withSession);
    });
  }

  /** Lets the client go: it logs out (`forget` ends the session secret on the server too). */
  end(forget: boolean): void {
    const client = this.#client;
    this.#client = null;
    clearTimeout(this.#retryTimer);
    void client?.close(forget ? { forget: true } : {});
  }

  #listen(client: RelayClient): void {
    const events = this.#events;
    // Events of a client this page has let go of are not its concern any more.
    const on = <K extends keyof RelayClientEvents>(
      type: K,
      handler: (detail: RelayClientEvents[K]) => void,
    ) =>
      client.on(type, (detail) => {
        if (this.#client === client) handler(detail);
      });
    on("open", (w) => {
      this.#retries = 0;
      events.opened(w, this.#opens++ > 0);
    });
    on("message", (m) => events.message(m));
    on("presence", (p) => events.presence(p));
    on("joined", (e) => events.joined(e));
    on("left", (e) => events.left(e));
    on("announce", (a) => events.announce(a.text));
    on("bye", (b) => {
      if (b.reason === "replaced") {
        // Another tab or device has the session now: what it keeps is newer than ours.
        events.replaced();
        events.stopped("logged in elsewhere", "Use this tab");
      } else if (b.reason === "kicked") {
        events.stopped("removed by an operator", "Log in again");
      }
    });
    on("reconnecting", (r) => {
      events.status(`reconnecting in ${Math.max(1, Math.round(r.delayMs / 1000))}s`);
    });
    on("close", (info) => {
      events.closed();
      if (info.reconnect) events.status("reconnecting…");
      else if (info.reason !== "replaced" && info.reason !== "kicked") {
        events.stopped("disconnected", "Connect again");
      }
    });
  }

  /** The first login of a client failed. */
  #refused(error: unknown, withSession: boolean): void {
    const code = codeOf(error);
    const state = this.#source.state();
    this.#client = null;
    this.#events.failed();
    if (state === null || code === "closed") return;
    if (code === "connect_failed" && state.session !== undefined) {
      // The kept session waits for the server to come back.
      const delay = Math.min(30_000, 1000 * 2 ** this.#retries++);
      this.#events.status(`cannot reach the server; trying again in ${Math.round(delay / 1000)}s`);
      this.#retryTimer = setTimeout(() => this.connect(), delay);
      return;
    }
    if (code === "auth_failed" && withSession) return this.#events.sessionEnded();
    this.#events.refused(
      code === "connect_failed"
        ? "Cannot reach the server; try again in a moment."
        : describeError(error),
    );
  }
}
