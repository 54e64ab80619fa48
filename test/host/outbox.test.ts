import { describe, expect, test } from "vitest";
import { Outbox } from "../../src/host/outbox.ts";

const utf8 = new TextEncoder();
const text = (data: string | Uint8Array) =>
  typeof data === "string" ? data : new TextDecoder().decode(data);

function drained(out: Outbox): (string | Uint8Array)[] {
  const writes: (string | Uint8Array)[] = [];
  out.drain((data) => writes.push(data));
  return writes;
}

describe("an outbox of lines", () => {
  test("lines for this connection alone leave as one string", () => {
    const out = new Outbox("line");
    out.addLine("* pong\n");
    out.addLine("* héllo\n");
    expect(out.size).toBe(15);
    expect(drained(out)).toEqual(["* pong\n* héllo\n"]);
    expect(out.size).toBe(0);
    expect(drained(out)).toEqual([]);
  });

  test("shared bytes and strings leave as one write of bytes, in order", () => {
    const out = new Outbox("line");
    const shared = utf8.encode("[1] bob: ü\n");
    out.addLine("a\n");
    out.addLine("b\n");
    out.addLine(shared);
    out.addLine("c\n");
    const writes = drained(out);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toBeInstanceOf(Uint8Array);
    expect(text(writes[0] as Uint8Array)).toBe("a\nb\n[1] bob: ü\nc\n");
  });

  test("one shared line leaves as it is, without a copy", () => {
    const out = new Outbox("line");
    const shared = utf8.encode("x\n");
    out.addLine(shared);
    expect(drained(out)[0]).toBe(shared);
  });

  test("after a flush of bytes, strings alone are strings again", () => {
    const out = new Outbox("line");
    out.addLine(utf8.encode("x\n"));
    drained(out);
    out.addLine("y\n");
    expect(drained(out)).toEqual(["y\n"]);
  });
});
