/**
 * What waits to be written to one connection until the next flush: lines joined into one
 * write for a byte stream, or separate frames for WebSocket. A line is a string (sent to
 * this connection alone) or UTF-8 bytes (the same bytes shared by many recipients). `size`
 * counts bytes, and UTF-16 units for strings (close enough to bytes to bound memory).
 * A connection has one only while something waits (see `Outboxes`).
 *
 * @example
 * const out = new Outbox("line");
 * out.addLine(new TextEncoder().encode("* pong\n"));
 * out.size; // 7
 */
export class Outbox {
  readonly framing: "line" | "message";
  /** Lines (for "line" framing) or frames (for "message"), in order. */
  #parts: (string | Uint8Array)[] = [];
  /** Whether some line is bytes: then the strings are encoded at the flush. */
  #bytes = false;
  #size = 0;

  constructor(framing: "line" | "message") {
    this.framing = framing;
  }

  /** Queues one line, with its line ending (a byte stream). */
  addLine(line: string | Uint8Array): void {
    this.#parts.push(line);
    this.#size += line.length;
    if (typeof line !== "string") this.#bytes = true;
  }

  /** Queues one frame (WebSocket): its text, or its UTF-8 bytes for `Link.writeFrames`. */
  addFrame(frame: string | Uint8Array): void {
    this.#parts.push(frame);
    this.#size += frame.length;
  }

  /** How much waits. */
  get size(): number {
    return this.#size;
  }

  /** Hands everything waiting to `write` (once for lines, once per frame) and empties. */
  drain(write: (data: string | Uint8Array) => void): void {
    const parts = this.#parts;
    const bytes = this.#bytes;
    this.clear();
    if (this.framing === "message") {
      for (const frame of parts) write(frame);
    } else if (parts.length > 0) {
      // Strings alone leave as one string, which the runtime encodes as it writes.
      write(bytes ? joinBytes(parts) : (parts as string[]).join(""));
    }
  }

  /** The frames waiting (message framing), which are then no longer waiting. */
  takeFrames(): (string | Uint8Array)[] {
    const frames = this.#parts;
    this.clear();
    return frames;
  }

  /** Drops everything waiting. */
  clear(): void {
    this.#parts = [];
    this.#bytes = false;
    this.#size = 0;
  }
}

const utf8 = new TextEncoder();

/**
 * The parts as one array of bytes, each run of strings encoded at once; a single part is
 * handed over as it is, without a copy.
 */
function joinBytes(parts: (string | Uint8Array)[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  let run = "";
  for (const part of parts) {
    if (typeof part === "string") {
      run += part;
      continue;
    }
    if (run !== "") chunks.push(utf8.encode(run));
    run = "";
    chunks.push(part);
  }
  if (run !== "") chunks.push(utf8.encode(run));
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  let size = 0;
  for (const chunk of chunks) size += chunk.length;
  const joined = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    joined.set(chunk, at);
    at += chunk.length;
  }
  return joined;
}
