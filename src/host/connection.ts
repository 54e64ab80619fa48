import type { ConnId, ErrorCode } from "../core/mod.ts";
import {
  cutLines,
  type Decoded,
  decodeJson,
  decodeText,
  decodeUtf8,
  type LineFramer,
  type RawFrame,
  utf8Length,
} from "../protocol/mod.ts";
import type { Host, HostConfig, Link } from "./host.ts";
import { IrcGate } from "./irc.ts";
import type { Outbox } from "./outbox.ts";
import type { Streaming } from "./outboxes.ts";
import { CommandLimit } from "./rate.ts";

/** An HTTP request line (`GET / HTTP/1.1`): a method token, a target, and the version. */
const HTTP_REQUEST_LINE = /^[-!#$%&'*+.^_`|~0-9A-Za-z]+ \S+ HTTP\/\d(\.\d)?$/;

/**
 * One client connection inside the host: its mode, framing, limits and outbox. What it needs
 * only while busy (the start of an unfinished line, what waits to be written, a stream) exists
 * only then, so that an idle connection costs little.
 */
export class Connection {
  readonly id: ConnId;
  readonly link: Link;
  readonly connectedAt: number;
  /** Fixed by the first non-empty frame (or by the IRC port, from the start); null until then. */
  mode: "json" | "text" | "irc" | null = null;
  /** The IRC side of a connection to the IRC port; null on the others. */
  readonly irc: IrcGate | null;
  /** What waits to be written at the next flush; null when nothing does. */
  out: Outbox | null = null;
  queued = false;
  closing = false;
  overflowed = false;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Messages being written at the reader's pace, and held messages to let go; null when none. */
  stream: Streaming | null = null;

  /**
   * Whether it holds nothing only a busy connection needs: no unfinished line, nothing
   * waiting to be written, no stream.
   */
  get idle(): boolean {
    return this.#framer === null && this.out === null && this.stream === null;
  }

  /** Clears the login timer, and lets go of it. */
  stopTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
  readonly #host: Host;
  /** The start of an unfinished line (a byte stream's); null between lines. */
  #framer: LineFramer | null = null;
  readonly #limit: CommandLimit | null;
  readonly #maxFrameBytes: number;

  constructor(host: Host, id: ConnId, link: Link, config: HostConfig, now: number) {
    this.#host = host;
    this.id = id;
    this.link = link;
    this.connectedAt = now;
    this.#maxFrameBytes = config.maxFrameBytes;
    this.#limit = config.rateLimit > 0 ? new CommandLimit(config.rateLimit, now) : null;
    this.irc = link.mode === "irc" ? new IrcGate(host, this, config, now) : null;
    if (this.irc) this.mode = "irc";
  }

  /** Bytes from a byte stream (TCP): cut into lines, each handled as a frame. */
  receiveBytes(chunk: Uint8Array): void {
    this.#framer = cutLines(this.#framer, this.#maxFrameBytes, chunk, (frame) =>
      this.#guarded(() => this.#rawFrame(frame)),
    );
    this.#host.requestFlush();
  }

  /** One text message (WebSocket). */
  receiveText(text: string): void {
    this.#guarded(() => {
      if (text.length * 3 > this.#maxFrameBytes && utf8Length(text) > this.#maxFrameBytes) {
        this.#refuse("too_long", `a frame is at most ${this.#maxFrameBytes} bytes`);
      } else {
        this.#text(text);
      }
    });
    this.#host.requestFlush();
  }

  /** One text message (WebSocket) as the bytes that came, which may not be UTF-8. */
  receiveTextBytes(bytes: Uint8Array): void {
    this.#guarded(() => {
      if (bytes.length > this.#maxFrameBytes) {
        this.#refuse("too_long", `a frame is at most ${this.#maxFrameBytes} bytes`);
      } else {
        const text = decodeUtf8(bytes);
        if (text === null) this.#refuse("bad_utf8", "the message is not valid UTF-8");
        else this.#text(text);
      }
    });
    this.#host.requestFlush();
  }

  /** One binary message (WebSocket): never a frame of this protocol. */
  receiveBinary(): void {
    this.#refuse("bad_frame", "frames are text: send UTF-8 text messages");
    this.#host.requestFlush();
  }

  /**
   * Handles one frame. An exception here is a bug of the server's: it must not take the
   * process down nor reach the peer; the host logs it and lets go of this connection.
   */
  #guarded(handle: () => void): void {
    try {
      handle();
    } catch (e) {
      this.#host.bug(this, e);
    }
  }

  /** The transport closed, whoever closed it. */
  closed(): void {
    this.irc?.stop();
    this.#host.gone(this);
  }

  #rawFrame(frame: RawFrame): void {
    if (this.closing) return;
    if (frame === null) {
      return this.#refuse("too_long", `a line is at most ${this.#maxFrameBytes} bytes`);
    }
    const text = decodeUtf8(frame);
    if (text === null) return this.#refuse("bad_utf8", "the line is not valid UTF-8");
    const first = this.mode === null || this.irc?.fresh === true;
    if (first && HTTP_REQUEST_LINE.test(text)) return this.#refuseHttp();
    this.#text(text);
  }

  /**
   * A byte stream that opens with an HTTP request line: a browser page posting to this port,
   * say, whose body would otherwise run as commands. Nothing of it runs; one line says why,
   * and the connection is closed (as Redis does).
   */
  #refuseHttp(): void {
    this.closing = true;
    this.#host.counters.error("bad_frame");
    this.link.write("! bad_frame: this is not an HTTP server\n");
    this.link.close();
  }

  #text(text: string): void {
    if (this.closing || text.trim() === "") return;
    if (this.irc) return this.#ircLine(this.irc, text);
    if (this.mode === null) this.mode = text.trimStart().startsWith("{") ? "json" : "text";
    const decoded =
      this.mode === "json"
        ? decodeJson(text)
        : decodeText(text, this.#host.relay.isChatting(this.id));
    this.#counted(decoded);
  }

  /** An IRC line: it costs what any frame costs, then the gateway makes commands of it. */
  #ircLine(irc: IrcGate, text: string): void {
    const verdict = this.#limit?.check(this.#host.now()) ?? "pass";
    if (verdict === "flood") this.#host.input({ type: "evict", conn: this.id, reason: "flood" });
    else irc.receive(text, verdict === "limited");
  }

  #refuse(code: ErrorCode, message: string): void {
    if (this.closing) return;
    // A frame that could not be decoded costs what a command costs, or garbage would be free.
    this.#counted({ ok: false, error: { code, message }, re: null });
  }

  /** Counts one frame against the rate limit, then answers it, refuses it, or evicts. */
  #counted(decoded: Decoded): void {
    const verdict = this.#limit?.check(this.#host.now()) ?? "pass";
    if (verdict === "flood") {
      this.#host.input({ type: "evict", conn: this.id, reason: "flood" });
    } else if (verdict === "limited") {
      this.#host.frame(this, {
        ok: false,
        error: { code: "rate_limited", message: "too many commands; slow down" },
        re: decoded.re,
      });
    } else {
      this.#host.frame(this, decoded);
    }
  }
}
