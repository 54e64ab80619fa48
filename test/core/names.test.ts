import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  type CheckedName,
  checkName,
  checkRoom,
  isError,
  nameKey,
  referenceNameKey,
} from "../../src/core/names.ts";
import { errors, to, World } from "./world.ts";

const A = 1;
const B = 2;

function key(raw: string): string {
  const checked = checkName(raw);
  if (isError(checked)) throw new Error(`${raw}: ${checked.message}`);
  return checked.key;
}

function code(raw: string): string | null {
  const checked = raw.startsWith("#") ? checkRoom(raw) : checkName(raw);
  return isError(checked) ? checked.code : null;
}

describe("name keys (v2: NFKC, case folding, UTS #39 skeletons)", () => {
  test.each([
    ["ALICE"],
    ["\uff41\uff4c\uff49\uff43\uff45"], // fullwidth ａｌｉｃｅ
    ["\u0430lice"], // Cyrillic а
    ["\u0410LICE"], // Cyrillic А
    ["a1ice"], // 1 is l
    ["\u0391\u217c\u0131\u0441\u0415"], // Greek Α, roman numeral ⅼ, dotless ı, Cyrillic с and Е
  ])("%j has the key of alice", (name) => {
    expect(key(name)).toBe(key("alice"));
    expect(key(name)).toBe("alice");
  });

  test("full case folding: ß is ss, ﬁ is fi, and Greek final sigma is sigma", () => {
    expect(key("Stra\u00dfe")).toBe(key("STRASSE"));
    expect(key("\u1e9eig")).toBe(key("ssig")); // capital ẞ
    expect(key("\ufb01sh")).toBe(key("fish"));
    expect(key("\u039f\u0394\u039f\u03a3")).toBe(key("\u03bf\u03b4\u03bf\u03c3")); // ΟΔΟΣ, οδοσ
    expect(key("\u03bf\u03b4\u03bf\u03c2")).toBe(key("\u03bf\u03b4\u03bf\u03c3")); // οδος, οδοσ
  });

  test("shown names stay as written (NFC); only the key changes", () => {
    expect(checkName("\u0430lice")).toEqual({ name: "\u0430lice", key: "alice" });
    expect(checkName("Jose\u0301")).toEqual({ name: "Jos\u00e9", key: "jos\u00e9" });
    expect(checkName("\u5c0f\u660e")).toEqual({ name: "\u5c0f\u660e", key: "\u5c0f\u660e" });
  });

  test("José in NFC and NFD is one name, apart from Jose", () => {
    expect(key("Jos\u00e9")).toBe(key("Jose\u0301"));
    expect(key("Jos\u00e9")).not.toBe(key("Jose"));
  });

  test("like UTS #39, m is rn, and 0 is O is o", () => {
    expect(key("tom")).toBe(key("torn"));
    expect(key("B0B")).toBe(key("bob"));
  });

  test("a room keys its name part the same way and keeps its #", () => {
    const room = checkRoom("#\uff27eneral"); // fullwidth Ｇ
    expect(room).toEqual({ name: "#\uff27eneral", key: "#general" });
    expect(nameKey("#\u0421\u043ede")).toBe("#code"); // Cyrillic С and о
  });

  test.each([
    ["admin"],
    ["ADMIN"],
    ["\u0410dmin"], // Cyrillic А
    ["\u0430drnin"], // Cyrillic а, and rn for m
    ["\uff41\uff44\uff4d\uff49\uff4e"], // fullwidth
    ["\u0405erver"], // Cyrillic Ѕ
    ["s\u0435rv\u0435r"], // Cyrillic е
  ])("%j is reserved", (name) => {
    expect(checkName(name)).toMatchObject({
      code: "bad_name",
      message: expect.stringMatching(/reserved/),
    });
  });

  test.each([
    ["\u3164"], // HANGUL FILLER, alone
    ["a\u3164b"],
    ["\u115f"], // HANGUL CHOSEONG FILLER
    ["a\u1160"], // HANGUL JUNGSEONG FILLER
    ["\uffa0x"], // HALFWIDTH HANGUL FILLER
    ["a\u200bb"], // zero width space
    ["a\u200db"], // zero width joiner
    ["a\u2060b"], // word joiner
    ["\ufeffa"], // byte order mark
    ["a\u00adb"], // soft hyphen
    ["a\u034fb"], // combining grapheme joiner
    ["a\u180bb"], // Mongolian free variation selector
    ["a\ufe0fb"], // variation selector 16
    ["a\u{e0100}b"], // variation selector 17
    ["#room\u3164"],
    ["#\u3164"],
  ])("%j is bad_name: it holds an invisible character", (name) => {
    expect(code(name)).toBe("bad_name");
  });

  test.each([["\u5c0f\u660e"], ["Jos\u00e9"], ["Jose\u0301"], ["Bob_2"], ["\u0430lice"], ["tom"]])(
    "%j is still a name",
    (name) => {
      expect(code(name)).toBeNull();
    },
  );
});

describe("logins with the v2 keys", () => {
  test("Cyrillic аlice is taken while alice is online, and free after", () => {
    const w = new World();
    w.login(A, "alice");
    w.open(B);
    expect(errors(B, w.cmd(B, { type: "login", name: "\u0430lice" }))).toEqual(["name_taken"]);
    expect(errors(B, w.cmd(B, { type: "login", name: "\uff41\uff4c\uff49\uff43\uff45" }))).toEqual([
      "name_taken",
    ]);
    w.cmd(A, { type: "quit" });
    expect(to(B, w.login(B, "\u0430lice"))[0]).toMatchObject({
      type: "welcome",
      name: "\u0430lice",
    });
  });

  test("a message to a confusable of a name reaches that user, shown as they wrote it", () => {
    const w = new World();
    w.login(A, "alice");
    w.login(B, "bob");
    const effects = w.cmd(B, { type: "msg", to: "\u0410LICE", text: "hi" });
    expect(to(A, effects)).toMatchObject([{ type: "message", from: "bob", to: "alice" }]);
  });

  test("Аdmin with a Cyrillic А is bad_name", () => {
    const w = new World();
    w.open(A);
    expect(errors(A, w.cmd(A, { type: "login", name: "\u0410dmin" }))).toEqual(["bad_name"]);
  });
});

// Characters that fold, compose, decompose or look alike, to build names from.
const TRICKY = [
  ..."abcilmnorsxyzABILMOSZ0159_.-",
  ..."\u0430\u0410\u0435\u0415\u043e\u0441\u0405\u0455\u0456", // Cyrillic
  ..."\u0391\u03b1\u039f\u03bf\u03a3\u03c3\u03c2\u0392\u03b2\u0399\u03b9\u03d0", // Greek
  ..."\u00df\u1e9e\u017f\ufb01\ufb00\u0130\u0131\u01c4\u01c5\u01c6\u1fb3\u1f88", // folding
  ..."\uff21\uff41\uff2c\uff4c\uff10\u2160\u2170\u00aa\u00b2\u1d2c", // compatibility
  ..."\u00e9\u00c9\u1e17\u0301\u0307\u0345", // precomposed and combining
  ..."\u13d7\u13ac\uaba7\uab70\u13a0", // Cherokee, which folds to capitals
  ..."\u5c0f\u660e\uac00\u1100\u1161\u01c0\ua4f2\u{1d400}\u{1d41a}", // CJK, Hangul, math
];
const tricky = fc.string({ unit: fc.constantFrom(...TRICKY), minLength: 1, maxLength: 12 });
const anyText = fc.string({ unit: "binary", minLength: 1, maxLength: 12 });
// Valid names, as shown (NFC).
const names = fc
  .oneof(tricky, anyText)
  .map((x) => checkName(x))
  .filter((checked): checked is CheckedName => !isError(checked))
  .map((checked) => checked.name);

describe("name key properties", () => {
  test("the ASCII fast path gives the reference key", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary-ascii", maxLength: 40 }), (text) => {
        const name = `x${text}`; // not a room
        expect(nameKey(name)).toBe(referenceNameKey(name));
      }),
      { numRuns: 2000 },
    );
    for (let c = 0; c < 128; c++) {
      const name = `x${String.fromCharCode(c)}`;
      expect(nameKey(name)).toBe(referenceNameKey(name));
    }
  });

  test("the key of a key is the key itself", () => {
    fc.assert(
      fc.property(fc.oneof(tricky, anyText), (text) => {
        const k = nameKey(text);
        expect(nameKey(k)).toBe(k);
      }),
      { numRuns: 3000 },
    );
  });

  test("a name in another case, NFD or NFKC has the same key", () => {
    fc.assert(
      fc.property(names, (name) => {
        const k = nameKey(name);
        expect(nameKey(name.toUpperCase())).toBe(k);
        expect(nameKey(name.toLowerCase())).toBe(k);
        expect(nameKey(name.normalize("NFD"))).toBe(k);
        expect(nameKey(name.normalize("NFKC"))).toBe(k);
      }),
      { numRuns: 3000 },
    );
  });

  test("a key holds no `|`, which joins two keys into a conversation's", () => {
    fc.assert(
      fc.property(names, (name) => {
        expect(nameKey(name)).not.toContain("|");
      }),
      { numRuns: 3000 },
    );
  });
});
