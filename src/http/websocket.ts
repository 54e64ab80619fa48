import type { UpgradeWebSocket, WSContext, WSEvents } from "hono/ws";
import type { Connection, Host, Link } from "../host/mod.ts";
import { utf8Length } from "../protocol/mod.ts";

/**
 * Writes text frames, given as UTF-8 bytes, on a runtime's WebSocket (`raw`) in one write;
 * false when it cannot, and the frames are then sent one by one.
 */
export type FrameWriter = (raw: unknown, frames: Uint8Array[]) => boolean;

/**
 * Hands each message of a runtime's WebSocket (`raw`) to `receive` as the bytes that came,
 * before the runtime decodes them (so that text which is not UTF-8 can be refused without
 * closing the socket); false when it cannot.
 */
export type MessageReader = (
  raw: unknown,
  receive: (data: Uint8Array, binary: boolean) => void,
) => boolean;

/** What a runtime can do on its WebSockets beyond what Hono's context offers. */
export interface SocketHooks {
  frameWriter?: FrameWriter;
  messageReader?: MessageReader;
  /**
   * Cuts a runtime's WebSocket (`raw`) at once, without waiting for the peer's close frame:
   * for a peer that never answers the server's.
   */
  terminate?: (raw: unknown) => void;
}

/**
 * How long the peer must have sent nothing before the server's close frame goes. Deno's
 * server drops the TCP connection at the first message that arrives after its close frame,
 * and a reset follows if more is on its way, destroying replies the peer has not read yet;
 * so the close frame waits for the peer to stop sending (it stops when it reads `bye`).
 */
const QUIET_MS = 250;
/** The longest wait for that quiet, and then for the peer's answering close frame. */
const LINGER_MS = 2000;
/** How often a closing socket looks whether its peer has gone quiet. */
const TICK_MS = 20;

/**
 * The longest a WebSocket the server closes stays open after `Link.close`: the wait for the
 * peer to go quiet, then for its close frame. A server that stops waits this long at most
 * for its sockets to say goodbye before it cuts them.
 */
export const MAX_CLOSING_MS = 2 * LINGER_MS;

/**
 * The largest WebSocket message read for frames of at most `maxFrameBytes`: twice that and
 * some. A message a little too long is answered `too_long` and the connection stays; one
 * over this closes the connection (1009), so that a peer cannot make the server hold big
 * messages one after another. Node's ws refuses it while its bytes arrive; Deno hands it
 * over whole first (see docs/protocol.md §1).
 *
 * @example
 * maxMessageBytes(8192); // 17408
 */
export function maxMessageBytes(maxFrameBytes: number): number {
  return 2 * maxFrameBytes + 1024;
}

/**
 * The WebSocket events that carry the relay protocol: a text message is a frame, a binary
 * one gets `bad_frame`; replies go back one message each. `remote` is the peer's address.
 * A message over `maxBytes` closes the connection (1009). A close by the server is a
 * lingering one (see `SocketLink.close`).
 */
export function relaySocket(
  host: Host,
  remote: string,
  hooks: SocketHooks = {},
  maxBytes = Number.POSITIVE_INFINITY,
): WSEvents {
  let conn: Connection | null = null;
  let link: SocketLink | null = null;
  // Whether the runtime's reader has the messages; Hono's reports of them are then ignored.
  // The reader starts in onOpen, before the socket's first bytes are read (a message sent in
  // the upgrade request's own packet included: a test holds it).
  let reading = false;
  const receive = (data: Uint8Array, binary: boolean) => {
    if (link?.heard()) return;
    if (data.length > maxBytes) link?.refuseHuge();
    else if (binary) conn?.receiveBinary();
    else conn?.receiveTextBytes(data);
  };
  const gone = () => {
    link?.ended();
    conn?.closed();
    conn = null;
  };
  return {
    onOpen(_event, ws) {
      link = new SocketLink(ws, remote, hooks, gone);
      conn = host.connect(link);
      reading = conn !== null && (hooks.messageReader?.(ws.raw, receive) ?? false);
    },
    onMessage(event, _ws) {
      if (reading || link?.heard()) return;
      const { data } = event;
      if (typeof data === "string") {
        if (data.length > maxBytes || (data.length * 3 > maxBytes && utf8Length(data) > maxBytes))
          link?.refuseHuge();
        else conn?.receiveText(data);
      } else {
        const size = data instanceof Blob ? data.size : data.byteLength;
        if (size > maxBytes) link?.refuseHuge();
        else conn?.receiveBinary();
      }
    },
    onClose() {
      gone();
    },
  };
}

/** A WebSocket as the host sees it. */
class SocketLink implements Link {
  readonly transport = "ws";
  readonly framing = "message";
  readonly remote: string;
  readonly writeFrames?: (frames: Uint8Array[]) => void;
  readonly #ws: WSContext;
  readonly #terminate: ((raw: unknown) => void) | undefined;
  /** Tells the host the connection is gone, when the peer never answers our close. */
  readonly #gone: () => void;
  /** When the peer last sent a message. */
  #heardAt = Date.now();
  #closing = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(ws: WSContext, remote: string, hooks: SocketHooks, gone: () => void) {
    this.#ws = ws;
    this.remote = remote;
    this.#terminate = hooks.terminate;
    this.#gone = gone;
    const frameWriter = hooks.frameWriter;
    if (frameWriter) {
      this.writeFrames = (frames) => {
        if (ws.readyState !== 1 || frameWriter(ws.raw, frames)) return;
        for (const frame of frames) ws.send(utf8.decode(frame));
      };
    }
  }

  /** Notes a message from the peer; true when the link is closing and the message is dropped. */
  heard(): boolean {
    this.#heardAt = Date.now();
    return this.#closing;
  }

  write(data: string | Uint8Array): void {
    // Frames reach here as text; only a byte stream's lines come as bytes.
    if (this.#ws.readyState === 1 && !this.#closing) {
      this.#ws.send(typeof data === "string" ? data : utf8.decode(data));
    }
  }

  unsent(): number {
    // Hono's context does not say how much waits unsent; the runtime's socket does.
    return (this.#ws.raw as { bufferedAmount?: number } | undefined)?.bufferedAmount ?? 0;
  }

  /**
   * A lingering close: what was written goes first; the peer's messages are dropped from
   * now on; once it has been quiet for `QUIET_MS` (or `LINGER_MS` passed) the close frame
   * goes, and the connection stays until the peer answers it or `LINGER_MS` more passed.
   */
  close(): void {
    this.#closeWhenQuiet(1000, "bye");
  }

  /** A message over the size limit: the connection is closed with 1009, as ws does. */
  refuseHuge(): void {
    this.#closeWhenQuiet(1009, "message too big");
  }

  #closeWhenQuiet(code: number, reason: string): void {
    if (this.#closing) return;
    this.#closing = true;
    const started = Date.now();
    const look = () => {
      const now = Date.now();
      if (now - this.#heardAt < QUIET_MS && now - started < LINGER_MS) {
        this.#timer = setTimeout(look, TICK_MS);
      } else {
        this.#sendClose(code, reason);
      }
    };
    look();
  }

  /** Sends the close frame; a peer that does not answer it within `LINGER_MS` is cut. */
  #sendClose(code: number, reason: string): void {
    if (this.#ws.readyState !== 1) return; // The peer is closing it already.
    this.#ws.close(code, reason);
    this.#timer = setTimeout(() => {
      this.#terminate?.(this.#ws.raw);
      this.#gone();
    }, LINGER_MS);
  }

  /** The socket closed: nothing more to wait for. */
  ended(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

const utf8 = new TextDecoder();

/** The runtime's WebSocket upgrade (adapters/node/http.ts, adapters/deno/app.ts). */
export type Upgrade = UpgradeWebSocket<unknown>;

/**
 * Whether a page from `origin` (a request's Origin header) may open the WebSocket: yes
 * without one (programs send none; browsers always do), for the server's own origin (the
 * same host and port as the request's Host header), and for one listed in `allowed` (`*`:
 * any). Anything else, `null` included, is refused.
 *
 * @example
 * originAllowed(undefined, "relay.example:8080", []); // true: not a browser
 * originAllowed("http://relay.example:8080", "relay.example:8080", []); // true: same origin
 * originAllowed("https://evil.example", "relay.example:8080", []); // false
 * originAllowed("https://chat.example", "relay.example:8080", ["https://chat.example"]); // true
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[],
): boolean {
  if (origin === undefined) return true;
  if (allowed.includes("*")) return true;
  const from = parseUrl(origin);
  if (from === null || from.origin === "null") return false;
  if (allowed.includes(from.origin)) return true;
  // The Host header read with the origin's scheme, so that default ports compare equal.
  return host !== undefined && parseUrl(`${from.protocol}//${host}`)?.host === from.host;
}

function parseUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}
