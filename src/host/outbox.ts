/**
 * What waits to be written to one connection until the next flush: lines joined into one
 * write for a byte stream, or separate frames for WebSocket. `size` counts UTF-16 units,
 * close enough to bytes to bound memory.
 *
 * @example
 * const out = new Outbox("line");
 * out.add("* pong");
 * out.size; // 7
 */
export class Outbox {
  readonly framing: "line" | "message";
  #lines = "";
  #frames: string[] = [];
  #size = 0;

  constructor(framing: "line" | "message") {
    this.framing = framing;
  }

  /** Queues one reply or event, already encoded. */
  add(data: string): void {
    if (this.framing === "line") {
      this.#lines += `${data}\n`;
      this.#size += data.length + 1;
    } else {
      this.#frames.push(data);
      this.#size += data.length;
    }
  }

  /** How much waits. */
  get size(): number {
    return this.#size;
  }

  /** Hands everything waiting to `write` (once for lines, once per frame) and empties. */
  drain(write: (data: string) => void): void {
    if (this.framing === "line") {
      if (this.#lines) write(this.#lines);
    } else {
      for (const frame of this.#frames) write(frame);
    }
    this.clear();
  }

  /** The frames waiting (message framing), which are then no longer waiting. */
  takeFrames(): string[] {
    const frames = this.#frames;
    this.clear();
    return frames;
  }

  /** Drops everything waiting. */
  clear(): void {
    this.#lines = "";
    this.#frames = [];
    this.#size = 0;
  }
}
