import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  formatIrc,
  IRC_LINE_BYTES,
  type IrcMessage,
  ircLineBytes,
  packLines,
  parseIrc,
  splitText,
  textLines,
  utf8Length,
} from "../../src/protocol/mod.ts";

const utf8 = new TextEncoder();

/** Any text an IRC line may carry: every code point but NUL, CR and LF. */
const lineText = (options: { minLength?: number; maxLength?: number } = {}) =>
  fc
    .string({ unit: "grapheme", ...options })
    .map((s) => s.replace(/[\0\r\n]/g, "_"))
    .filter((s) => s.length >= (options.minLength ?? 0));

/** A middle parameter or a source: a word without spaces that does not start with `:`. */
const word = lineText({ minLength: 1, maxLength: 20 })
  .map((s) => s.replace(/ /g, "_"))
  .filter((s) => !s.startsWith(":") && !s.startsWith("@") && s.length > 0);

const ircMessage: fc.Arbitrary<IrcMessage> = fc
  .record(
    {
      tags: fc.dictionary(
        fc.stringMatching(/^\+?[a-z][a-z0-9./-]{0,15}$/),
        lineText({ maxLength: 20 }),
        {
          minKeys: 1,
          maxKeys: 4,
        },
      ),
      source: word,
      command: fc.oneof(fc.stringMatching(/^[A-Z]{1,12}$/), fc.stringMatching(/^\d{3}$/)),
      middle: fc.array(word, { maxLength: 5 }),
      last: fc.option(lineText({ maxLength: 60 }), { nil: undefined }),
    },
    { requiredKeys: ["command", "middle"] },
  )
  .map(({ tags, source, command, middle, last }) => ({
    ...(tags !== undefined && { tags }),
    ...(source !== undefined && { source }),
    command,
    params: last === undefined ? middle : [...middle, last],
  }));

describe("the IRC codec", () => {
  test("parses tags, source, command, middle and trailing parameters", () => {
    expect(
      parseIrc("@time=2024-01-01T00:00:00.000Z;msgid=x1;+draft :bob!b@h PRIVMSG #dev :hi there"),
    ).toEqual({
      tags: { time: "2024-01-01T00:00:00.000Z", msgid: "x1", "+draft": "" },
      source: "bob!b@h",
      command: "PRIVMSG",
      params: ["#dev", "hi there"],
    });
    expect(parseIrc("NICK alice")).toEqual({ command: "NICK", params: ["alice"] });
    expect(parseIrc("USER a 0 * :A B")).toEqual({
      command: "USER",
      params: ["a", "0", "*", "A B"],
    });
    expect(parseIrc("PRIVMSG #a ::-)")).toEqual({ command: "PRIVMSG", params: ["#a", ":-)"] });
    expect(parseIrc("PRIVMSG #a :")).toEqual({ command: "PRIVMSG", params: ["#a", ""] });
    expect(parseIrc("  PING   x  ")).toEqual({ command: "PING", params: ["x"] });
    expect(parseIrc("")).toBeNull();
    expect(parseIrc("@a=b")).toBeNull();
  });

  test("tag values are escaped and unescaped as IRCv3 says", () => {
    const msg = { tags: { k: "a; b\\c\r\n" }, command: "TAGMSG", params: ["#a"] };
    const line = formatIrc(msg);
    expect(line).toBe("@k=a\\:\\sb\\\\c\\r\\n TAGMSG #a");
    expect(parseIrc(line)).toEqual(msg);
    expect(parseIrc("@k=a\\b\\ TAGMSG x")?.tags).toEqual({ k: "ab" });
  });

  test("the last parameter is trailing when it must be, or when asked", () => {
    expect(formatIrc({ command: "JOIN", params: ["#dev"] })).toBe("JOIN #dev");
    expect(formatIrc({ command: "PRIVMSG", params: ["#dev", "hi"] }, true)).toBe(
      "PRIVMSG #dev :hi",
    );
    expect(formatIrc({ command: "PRIVMSG", params: ["#dev", "a b"] })).toBe("PRIVMSG #dev :a b");
    expect(formatIrc({ command: "PRIVMSG", params: ["#dev", ":)"] })).toBe("PRIVMSG #dev ::)");
    expect(formatIrc({ command: "PRIVMSG", params: ["#dev", ""] })).toBe("PRIVMSG #dev :");
  });

  test("round trip: a formatted message parses back to itself", () => {
    fc.assert(
      fc.property(ircMessage, fc.boolean(), (msg, trailing) => {
        expect(parseIrc(formatIrc(msg, trailing))).toEqual(msg);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("splitting long texts", () => {
  const text = fc.oneof(
    lineText({ maxLength: 3000 }),
    fc
      .array(fc.oneof(fc.constantFrom(" ", "  "), lineText({ maxLength: 30 })), { maxLength: 200 })
      .map((a) => a.join("")),
    fc.string({ unit: "binary", maxLength: 1000 }),
  );

  test("splitting loses nothing, never passes the limit and never cuts a character", () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 4, max: 600 }), (t, max) => {
        const pieces = splitText(t, max);
        expect(pieces.join("")).toBe(t);
        // The pieces' bytes are the text's: no character was cut in two.
        expect(Buffer.concat(pieces.map((p) => utf8.encode(p)))).toEqual(
          Buffer.from(utf8.encode(t)),
        );
        for (const piece of pieces) {
          expect(piece.length).toBeGreaterThan(0);
          expect(utf8Length(piece)).toBeLessThanOrEqual(max);
        }
        for (let i = 0; i < pieces.length - 1; i++) {
          const piece = pieces[i] as string;
          const next = pieces[i + 1] as string;
          expect(/[\ud800-\udbff]$/.test(piece) && /^[\udc00-\udfff]/.test(next)).toBe(false);
          // A cut falls after a space, unless the piece had no space to cut at.
          if (!piece.endsWith(" ")) expect(piece.includes(" ")).toBe(false);
        }
      }),
      { numRuns: 1000 },
    );
  });

  test("where no space fits, a cut falls between grapheme clusters, unless one alone is too long", () => {
    const clusters = new Intl.Segmenter(undefined, { granularity: "grapheme" });
    const cluster = fc.constantFrom(
      "a",
      "é",
      "e\u0301", // e and a combining acute
      "👩‍👩‍👧‍👦", // a family: four emoji joined by ZWJ
      "👍🏽", // a skin tone
      "🇫🇷", // a flag: two regional indicators
      "각", // Hangul jamo, one syllable
      "小",
      "x\u0301\u0302\u0303\u0304",
    );
    fc.assert(
      fc.property(
        fc.array(cluster, { maxLength: 300 }),
        fc.integer({ min: 4, max: 120 }),
        (parts, max) => {
          const t = parts.join("");
          const pieces = splitText(t, max);
          expect(pieces.join("")).toBe(t);
          const bounds = new Set([...clusters.segment(t)].map((s) => s.index));
          const longest = Math.max(0, ...parts.map((p) => utf8Length(p)));
          let at = 0;
          for (const piece of pieces.slice(0, -1)) {
            expect(utf8Length(piece)).toBeLessThanOrEqual(max);
            at += piece.length;
            if (longest <= max) expect(bounds.has(at)).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test("cuts after the last space that fits", () => {
    expect(splitText("hello wide world", 11)).toEqual(["hello wide ", "world"]);
    expect(splitText("abcdefgh", 4)).toEqual(["abcd", "efgh"]);
    expect(splitText("ééé", 4)).toEqual(["éé", "é"]);
    expect(splitText("😀😀", 4)).toEqual(["😀", "😀"]);
  });

  test("no line of a long message passes 512 bytes, and its pieces make the text", () => {
    fc.assert(
      fc.property(
        word,
        fc.oneof(
          word.map((w) => `#${w}`),
          word,
        ),
        lineText({ minLength: 1, maxLength: 4000 }),
        fc.boolean(),
        (source, target, t, tagged) => {
          const head: IrcMessage = {
            ...(tagged && { tags: { time: "2024-01-01T00:00:00.000Z", msgid: "0abc" } }),
            source: `${source}!${source}@relay`,
            command: "PRIVMSG",
            params: [target],
          };
          const lines = textLines(head, t);
          let joined = "";
          for (const line of lines) {
            expect(ircLineBytes(line)).toBeLessThanOrEqual(IRC_LINE_BYTES);
            const parsed = parseIrc(line) as IrcMessage;
            expect(parsed.source).toBe(head.source);
            expect(parsed.params[0]).toBe(target);
            joined += parsed.params[1];
          }
          expect(joined).toBe(t);
        },
      ),
      { numRuns: 500 },
    );
  });

  test("an action is split into actions", () => {
    const lines = textLines(
      { source: "a!a@relay", command: "PRIVMSG", params: ["#x"] },
      "word ".repeat(200),
      ["\x01ACTION ", "\x01"],
    );
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) {
      expect(ircLineBytes(line)).toBeLessThanOrEqual(IRC_LINE_BYTES);
      expect(parseIrc(line)?.params[1]).toMatch(/^\x01ACTION .*\x01$/);
    }
  });

  test("names are packed into lines of at most 512 bytes, none lost", () => {
    fc.assert(
      fc.property(fc.array(word, { maxLength: 400 }), (names) => {
        const head = { source: "relay", command: "353", params: ["me", "=", "#dev"] };
        const lines = packLines(head, names);
        const back: string[] = [];
        for (const line of lines) {
          expect(ircLineBytes(line)).toBeLessThanOrEqual(IRC_LINE_BYTES);
          back.push(...((parseIrc(line) as IrcMessage).params[3] as string).split(" "));
        }
        expect(back).toEqual(names);
      }),
    );
  });
});
