/** A frame cut from a byte stream: its bytes, or `null` when it was over the size limit. */
export type RawFrame = Uint8Array | null;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Cuts a TCP byte stream into lines (docs/protocol.md §1). A line ends with `\n`; a `\r`
 * before it is dropped. A line longer than `maxFrameBytes` is reported once, as `null`,
 * as soon as it grows past the limit, and its bytes are discarded up to its newline, so
 * memory stays bounded however long the line.
 *
 * A connection between lines needs no framer: see `cutLines`, which makes one only to hold
 * the start of an unfinished line.
 *
 * @example
 * const framer = new LineFramer(8192);
 * const frames: RawFrame[] = [];
 * framer.push(new TextEncoder().encode("hi\r\nthe"), (f) => frames.push(f));
 * framer.push(new TextEncoder().encode("re\n"), (f) => frames.push(f));
 * // frames: the bytes of "hi" and of "there"
 */
export class LineFramer {
  readonly #max: number;
  #parts: Uint8Array[] | null = null;
  #size = 0;
  #discarding = false;

  constructor(maxFrameBytes: number) {
    this.#max = maxFrameBytes;
  }

  /** Whether it holds part of a line (or is discarding one): false between lines. */
  get holding(): boolean {
    return this.#size > 0 || this.#discarding;
  }

  /** Feeds bytes in; calls `emit` once per complete frame, in order. */
  push(chunk: Uint8Array, emit: (frame: RawFrame) => void): void {
    let start = 0;
    while (start < chunk.length) {
      const end = chunk.indexOf(LF, start);
      if (end === -1) {
        this.#keep(chunk.subarray(start), emit);
        return;
      }
      if (this.#discarding) {
        this.#discarding = false;
      } else {
        emit(frameOf(this.#take(chunk.subarray(start, end)), this.#max));
      }
      start = end + 1;
    }
  }

  /** Holds the start of an unfinished line, or starts discarding it when it is too long. */
  #keep(part: Uint8Array, emit: (frame: RawFrame) => void): void {
    if (this.#discarding) return;
    // One byte of slack: a line of exactly the limit may still be followed by "\r".
    if (this.#size + part.length > this.#max + 1) {
      this.#parts = null;
      this.#size = 0;
      this.#discarding = true;
      emit(null);
      return;
    }
    this.#parts ??= [];
    this.#parts.push(part.slice());
    this.#size += part.length;
  }

  /** The held bytes followed by `tail`, as one array; empties the holding. */
  #take(tail: Uint8Array): Uint8Array {
    if (this.#size === 0) return tail;
    const line = new Uint8Array(this.#size + tail.length);
    let at = 0;
    for (const part of this.#parts ?? []) {
      line.set(part, at);
      at += part.length;
    }
    line.set(tail, at);
    this.#parts = null;
    this.#size = 0;
    return line;
  }
}

/** A line's bytes without its `\r`, or null when they are over `max`. */
function frameOf(line: Uint8Array, max: number): RawFrame {
  const length = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
  return length > max ? null : line.subarray(0, length);
}

/**
 * Feeds `chunk` to `held` (what holds the start of an unfinished line, or null when the
 * stream is between lines), calling `emit` once per complete frame as `LineFramer.push`
 * does; returns what holds the start of the next line, or null when the chunk ended with a
 * line. So an idle connection keeps no framer, and a chunk of whole lines makes none.
 *
 * @example
 * const frames: RawFrame[] = [];
 * let held = cutLines(null, 8192, new TextEncoder().encode("hi\nthe"), (f) => frames.push(f));
 * // held holds "the"; frames: the bytes of "hi"
 * held = cutLines(held, 8192, new TextEncoder().encode("re\n"), (f) => frames.push(f));
 * // held: null; frames: the bytes of "hi" and of "there"
 */
export function cutLines(
  held: LineFramer | null,
  maxFrameBytes: number,
  chunk: Uint8Array,
  emit: (frame: RawFrame) => void,
): LineFramer | null {
  if (held !== null) {
    held.push(chunk, emit);
    return held.holding ? held : null;
  }
  let start = 0;
  for (let end = chunk.indexOf(LF); end !== -1; end = chunk.indexOf(LF, start)) {
    emit(frameOf(chunk.subarray(start, end), maxFrameBytes));
    start = end + 1;
  }
  if (start === chunk.length) return null;
  const framer = new LineFramer(maxFrameBytes);
  framer.push(chunk.subarray(start), emit);
  return framer.holding ? framer : null;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Decodes a frame's bytes as strict UTF-8, or returns null when they are not valid UTF-8.
 *
 * @example
 * decodeUtf8(new Uint8Array([0x68, 0x69])); // "hi"
 * decodeUtf8(new Uint8Array([0xff])); // null
 */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * The UTF-8 length of a string, in bytes, without encoding it.
 *
 * @example
 * utf8Length("é"); // 2
 */
export function utf8Length(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      n += 2; // a surrogate pair: 2 units, 4 bytes
      i++;
    } else n += 2;
  }
  return n;
}
