import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  cutLines,
  decodeUtf8,
  LineFramer,
  type RawFrame,
  utf8Length,
} from "../../src/protocol/mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function frames(max: number, chunks: Uint8Array[]): (string | null)[] {
  const framer = new LineFramer(max);
  const out: RawFrame[] = [];
  for (const chunk of chunks) framer.push(chunk, (f) => out.push(f));
  return out.map((f) => (f === null ? null : dec.decode(f)));
}

/** Cuts bytes at the given points. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    parts.push(bytes.subarray(at, p));
    at = p;
  }
  parts.push(bytes.subarray(at));
  return parts;
}

describe("LineFramer", () => {
  test("lines end with \\n; a \\r before it is dropped", () => {
    expect(frames(100, [enc.encode("a\r\nb\n\nc\r\r\n")])).toEqual(["a", "b", "", "c\r"]);
  });

  test("an unfinished line waits for its newline", () => {
    expect(frames(100, [enc.encode("hel"), enc.encode("lo"), enc.encode("\nx")])).toEqual([
      "hello",
    ]);
  });

  test("a line of exactly the limit passes, with or without \\r; one byte more is too long", () => {
    const max = 10;
    const ok = "x".repeat(max);
    expect(frames(max, [enc.encode(`${ok}\n${ok}\r\n${ok}y\nz\n`)])).toEqual([ok, ok, null, "z"]);
  });

  test("an endless line is reported once, as soon as it passes the limit, and memory stays bounded", () => {
    const framer = new LineFramer(8192);
    const out: RawFrame[] = [];
    const chunk = new Uint8Array(64 * 1024).fill(0x61);
    for (let i = 0; i < 16; i++) framer.push(chunk, (f) => out.push(f)); // 1 MiB, no newline
    expect(out).toEqual([null]);
    framer.push(enc.encode("tail\nnext\n"), (f) => out.push(f));
    expect(out.map((f) => (f === null ? null : dec.decode(f)))).toEqual([null, "next"]);
  });

  test("any split of a byte stream into chunks yields the same frames", () => {
    const line = fc.oneof(
      fc.string({ maxLength: 30 }).map((s) => s.replaceAll("\n", "")),
      fc.constant("x".repeat(40)),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(line, fc.boolean())),
        fc.array(fc.nat(), { maxLength: 12 }),
        (lines, cuts) => {
          const text = lines.map(([l, crlf]) => `${l}${crlf ? "\r\n" : "\n"}`).join("");
          const bytes = enc.encode(text);
          expect(frames(32, split(bytes, cuts))).toEqual(frames(32, [bytes]));
        },
      ),
    );
  });
});

/** The frames of `chunks` through `cutLines`, and whether a framer was held after each chunk. */
function cut(max: number, chunks: Uint8Array[]): { frames: (string | null)[]; held: boolean[] } {
  let held: LineFramer | null = null;
  const out: RawFrame[] = [];
  const holding: boolean[] = [];
  for (const chunk of chunks) {
    held = cutLines(held, max, chunk, (f) => out.push(f));
    holding.push(held !== null);
  }
  return { frames: out.map((f) => (f === null ? null : dec.decode(f))), held: holding };
}

describe("cutLines", () => {
  test("a chunk of whole lines leaves nothing held; an unfinished line is held until its end", () => {
    expect(cut(100, [enc.encode("a\r\nb\n")])).toEqual({ frames: ["a", "b"], held: [false] });
    expect(cut(100, [enc.encode("a\nhe"), enc.encode("l"), enc.encode("lo\n")])).toEqual({
      frames: ["a", "hello"],
      held: [true, true, false],
    });
  });

  test("a line too long is reported once, and what is held is let go at its end", () => {
    const long = enc.encode("x".repeat(50));
    expect(cut(10, [long, long, enc.encode("y\nok\n")])).toEqual({
      frames: [null, "ok"],
      held: [true, true, false],
    });
    expect(cut(10, [enc.encode(`${"x".repeat(11)}\nok`)])).toEqual({
      frames: [null],
      held: [true],
    });
  });

  test("any split of a byte stream gives the frames a LineFramer gives, held only mid-line", () => {
    const line = fc.oneof(
      fc.string({ maxLength: 30 }).map((s) => s.replaceAll("\n", "")),
      fc.constant("x".repeat(40)),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(line, fc.boolean())),
        fc.array(fc.nat(), { maxLength: 12 }),
        (lines, cuts) => {
          const text = lines.map(([l, crlf]) => `${l}${crlf ? "\r\n" : "\n"}`).join("");
          const chunks = split(enc.encode(text), cuts);
          const { frames: got, held } = cut(32, chunks);
          expect(got).toEqual(frames(32, chunks));
          // After the last chunk the stream is between lines: nothing is held.
          expect(held[held.length - 1]).toBe(false);
        },
      ),
    );
  });
});

describe("UTF-8", () => {
  test("strict decoding refuses invalid bytes and overlong forms", () => {
    expect(decodeUtf8(enc.encode("héllo 小明 😀"))).toBe("héllo 小明 😀");
    expect(decodeUtf8(new Uint8Array([0xff]))).toBeNull();
    expect(decodeUtf8(new Uint8Array([0xc0, 0xaf]))).toBeNull();
    expect(decodeUtf8(new Uint8Array([0xe4, 0xb8]))).toBeNull();
  });

  test("utf8Length agrees with TextEncoder", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (s) => {
        expect(utf8Length(s)).toBe(enc.encode(s).length);
      }),
    );
  });
});
