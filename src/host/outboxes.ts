import type { Effect, ServerMessage } from "../core/mod.ts";
import type { Connection } from "./connection.ts";
import type { Counters } from "./counters.ts";
import { Encoded } from "./encoded.ts";
import { Outbox } from "./outbox.ts";

/** What the outboxes tell their host. */
export interface OutboxEvents {
  /** A reader too slow for what it is sent: the core must let it go (`slow_consumer`). */
  evict(conn: Connection): void;
  /** A stream that asked to be reported on has been handed over in full. */
  streamed(conn: Connection): void;
  /** Held messages whose bytes the reader took: the store may forget them. */
  drop(key: string, ids: string[]): void;
}

/**
 * The outboxes of every connection: what each is sent during one turn leaves in one
 * write at the next flush; a connection whose unsent bytes would pass the budget is a slow
 * reader; streams (held messages, replays) are written at the pace the reader takes them,
 * and whatever else the connection is sent meanwhile queues behind them, in order.
 */
export class Outboxes {
  readonly #maxOutboxBytes: number;
  readonly #counters: Counters;
  readonly #schedule: (flush: () => void) => void;
  readonly #events: OutboxEvents;
  #dirty: Connection[] = [];
  #flushPending = false;
  readonly #flushNow = () => {
    this.#flushPending = false;
    this.flush();
  };

  constructor(
    maxOutboxBytes: number,
    counters: Counters,
    schedule: (flush: () => void) => void,
    events: OutboxEvents,
  ) {
    this.#maxOutboxBytes = maxOutboxBytes;
    this.#counters = counters;
    this.#schedule = schedule;
    this.#events = events;
  }

  /** One message to one connection. */
  send(conn: Connection, msg: ServerMessage): void {
    this.deliver(conn, msg, new Encoded(msg), false);
  }

  /** Asks for a flush soon (see `HostDeps.schedule`). */
  requestFlush(): void {
    if (this.#flushPending) return;
    this.#flushPending = true;
    this.#schedule(this.#flushNow);
  }

  /** Writes out everything queued for connections since the last flush. */
  flush(): void {
    while (this.#dirty.length > 0) {
      const dirty = this.#dirty;
      this.#dirty = [];
      for (const conn of dirty) {
        conn.queued = false;
        if (conn.out === null || conn.closing) continue;
        if (conn.out.size === 0) {
          conn.out = null;
          continue;
        }
        if (conn.link.unsent() + conn.out.size > this.#maxOutboxBytes) {
          this.#overflow(conn);
        } else {
          this.#writeOut(conn);
        }
      }
    }
  }

  /**
   * Hands a connection's outbox to its link (one write of lines, or its frames together),
   * and lets go of the outbox: an idle connection has none.
   */
  #writeOut(conn: Connection): void {
    const { link, out } = conn;
    if (out === null) return;
    conn.out = null;
    if (out.size === 0) return;
    if (conn.stream) conn.stream.written += out.size;
    if (link.writeFrames && out.framing === "message") {
      link.writeFrames(out.takeFrames() as Uint8Array[]);
    } else {
      out.drain((data) => link.write(data));
    }
  }

  /** The connection's outbox, made when something first waits in it. */
  #outbox(conn: Connection): Outbox {
    conn.out ??= new Outbox(conn.link.framing);
    if (!conn.queued) {
      conn.queued = true;
      this.#dirty.push(conn);
    }
    return conn.out;
  }

  /** A reader too slow for what it is sent: drop what waits, say why if it fits, close. */
  #overflow(conn: Connection): void {
    conn.out = null;
    conn.overflowed = true;
    this.#events.evict(conn);
  }

  /**
   * Writes messages to a connection no faster than it reads them: a piece at a time that
   * keeps its outbox under half its budget. Whatever else the connection is sent meanwhile
   * queues behind, in order. Held messages are let go in the store once their bytes have
   * left the outbox.
   */
  stream(conn: Connection, effect: Extract<Effect, { type: "stream" }>): void {
    conn.stream ??= { items: [], pumping: undefined, written: 0, drops: [] };
    const { items } = conn.stream;
    for (const msg of effect.messages) items.push(msg);
    items.push({ type: "mark", drop: effect.drop, report: effect.report });
    clearTimeout(conn.stream.pumping);
    this.#pump(conn);
  }

  #pump(conn: Connection): void {
    const s = conn.stream;
    if (s === null || conn.closing) return;
    s.pumping = undefined;
    const budget = this.#maxOutboxBytes / 2;
    const queue = s.items;
    let i = 0;
    while (i < queue.length && conn.link.unsent() + (conn.out?.size ?? 0) < budget) {
      const item = queue[i] as StreamItem;
      // An IRC client is sent no event before its registration completes (`001`).
      if (item.type !== "mark" && conn.irc?.waits(item)) break;
      i++;
      if (item.type !== "mark") {
        this.deliver(conn, item, new Encoded(item), false, true);
        continue;
      }
      // What came before the mark is queued: its bytes are gone once this much was taken.
      if (item.drop) s.drops.push({ at: s.written + (conn.out?.size ?? 0), ...item.drop });
      if (item.report) this.#events.streamed(conn);
    }
    queue.splice(0, i);
    this.#writeOut(conn);
    this.#dropTaken(conn, s);
    if (conn.closing || conn.stream !== s) return;
    if (queue.length > 0 || s.drops.length > 0) {
      s.pumping = setTimeout(() => this.#pump(conn), PUMP_MS);
    } else {
      conn.stream = null;
    }
  }

  /** Lets go of held messages whose bytes the peer has taken. */
  #dropTaken(conn: Connection, s: Streaming): void {
    const taken = s.written - conn.link.unsent();
    while (s.drops.length > 0 && (s.drops[0]?.at ?? 0) <= taken) {
      const { key, ids } = s.drops.shift() as { key: string; ids: string[] };
      this.#events.drop(key, ids);
    }
  }

  /**
   * Queues a message for a connection; `shared`: the same message goes to many. Behind a
   * stream it waits its turn, unless it is part of the stream (`streamed`).
   */
  deliver(
    conn: Connection,
    msg: ServerMessage,
    encoded: Encoded,
    shared: boolean,
    streamed = false,
  ): void {
    if (conn.closing) return;
    if (!streamed && conn.stream !== null && conn.stream.items.length > 0) {
      if (conn.stream.items.length >= MAX_STREAM_ITEMS) return this.#overflow(conn);
      conn.stream.items.push(msg);
      return;
    }
    if (!streamed && conn.irc?.waits(msg)) {
      // Not yet: it waits in a stream, whose pump lets it out once it may go.
      conn.stream ??= { items: [], pumping: undefined, written: 0, drops: [] };
      conn.stream.items.push(msg);
      clearTimeout(conn.stream.pumping);
      return this.#pump(conn);
    }
    if (msg.type === "message") this.#counters.delivered++;
    else if (msg.type === "error") this.#counters.error(msg.code);
    const json = conn.mode === "json";
    if (conn.irc) {
      // IRC lines depend on the connection's own state (its nick, capabilities, channels).
      const lines = conn.irc.encode(msg);
      if (lines === null) return;
      this.#outbox(conn).addLine(lines);
    } else if (conn.link.framing === "line") {
      // Bytes encoded once for many recipients; a string for one, encoded with the rest.
      const line = shared
        ? json
          ? encoded.jsonLine()
          : encoded.textLine()
        : json
          ? `${encoded.json()}\n`
          : encoded.textLines();
      if (line === null) return;
      this.#outbox(conn).addLine(line);
    } else if (conn.link.writeFrames) {
      const frame = json ? encoded.jsonFrame() : encoded.textFrame();
      if (frame === null) return;
      this.#outbox(conn).addFrame(frame);
    } else {
      const frame = json ? encoded.json() : encoded.text();
      if (frame === null) return;
      this.#outbox(conn).addFrame(frame);
    }
  }

  /** Queues lines for a connection as they are (the IRC gateway's own answers). */
  write(conn: Connection, lines: string): void {
    if (conn.closing) return;
    this.#outbox(conn).addLine(lines);
  }

  close(conn: Connection): void {
    if (conn.closing) return;
    // What is queued goes out first (the bye among it), unless the reader is too slow for it.
    const waiting = conn.out?.size ?? 0;
    if (!conn.overflowed || conn.link.unsent() + waiting <= this.#maxOutboxBytes) {
      this.#writeOut(conn);
    }
    conn.out = null;
    conn.closing = true;
    if (conn.stream) clearTimeout(conn.stream.pumping);
    conn.stream = null;
    conn.link.close();
  }
}

/**
 * A connection's stream while it lasts: what waits to be written at the reader's pace (and
 * whatever queued behind it), the next look at the reader, and the held messages to let go
 * once the reader took `at` of the bytes counted in `written` (handed to the link since the
 * stream began). It is dropped once all is written and let go.
 */
export interface Streaming {
  items: StreamItem[];
  pumping: ReturnType<typeof setTimeout> | undefined;
  written: number;
  drops: { at: number; key: string; ids: string[] }[];
}

/** A stream's end: what to let go in the store, and whether the core waits to hear of it. */
export type StreamItem =
  | ServerMessage
  | { type: "mark"; drop: { key: string; ids: string[] } | null; report: boolean };

/** How often a stream looks whether its reader took what it was given. */
const PUMP_MS = 10;

/** Messages a connection may have waiting behind a stream before it is a slow reader. */
const MAX_STREAM_ITEMS = 20_000;
