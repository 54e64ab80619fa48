/**
 * What waits to be written to one connection until the next flush: encoded lines joined
 * into one write for a byte stream, or separate frames for WebSocket. `size` counts bytes
 * for lines and UTF-16 units for frames (close enough to bytes to bound memory).
 *
 * @example
 * const out = new Outbox("line");
 * out.addLine(new TextEncoder().encode("* pong\n"));
 * out.size; // 7
 */
export class Outbox {
  readonly framing: "line" | "message";
  #lines: Uint8Array[] = [];
  #frames: (string | Uint8Array)[] = [];
  #size = 0;

  constructor(framing: "line" | "message") {
    this.framing = framing;
  }

  /** Queues one line, encoded with its line ending (a byte stream). */
  addLine(line: Uint8Array): void {
    this.#lines.push(line);
    this.#size += line.length;
  }

  /** Queues one frame (WebSocket): its text, or its UTF-8 bytes for `Link.writeFrames`. */
  addFrame(frame: string | Uint8Array): void {
    this.#frames.push(frame);
    this.#size += frame.length;
  }

  /** How much waits. */
  get size(): number {
    return this.#size;
  }

  /** Hands everything waiting to `write` (once for lines, once per frame) and empties. */
  drain(write: (data: string | Uint8Array) => void): void {
    if (this.framing === "line") {
      if (this.#lines.length > 0) write(joinBytes(this.#lines, this.#size));
    } else {
      for (const frame of this.#frames) write(frame);
    }
    this.clear();
  }

  /** The frames waiting (message framing), which are then no longer waiting. */
  takeFrames(): (string | Uint8Array)[] {
    const frames = this.#frames;
    this.clear();
    return frames;
  }

  /** Drops everything waiting. */
  clear(): void {
    this.#lines = [];
    this.#frames = [];
    this.#size = 0;
  }
}

/** The parts as one array; a single part is handed over as it is, without a copy. */
function joinBytes(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const joined = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return joined;
}
