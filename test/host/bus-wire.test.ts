import { describe, expect, test } from "vitest";
import { decodeBusMessage } from "../../src/host/bus/wire.ts";
import type { BusMessage } from "../../src/host/mod.ts";

const message = {
  type: "message" as const,
  id: "0abc",
  from: "alice",
  to: "bob",
  text: "hi",
  ts: "2026-01-01T00:00:00.000Z",
};

const every: BusMessage[] = [
  { kind: "hello", node: "n1" },
  { kind: "alive", node: "n1" },
  { kind: "down", node: "n1" },
  { kind: "state", node: "n1", users: ["alice"], rooms: [{ room: "#ops", members: ["alice"] }] },
  { kind: "online", node: "n1", name: "alice", quiet: false },
  { kind: "offline", node: "n1", name: "alice", quiet: true },
  { kind: "joined", node: "n1", room: "#ops", name: "alice" },
  { kind: "left", node: "n1", room: "#ops", name: "alice" },
  { kind: "message", node: "n1", scope: "user", message },
  { kind: "message", node: "n1", scope: "room", message: { ...message, queued: true } },
  { kind: "message", node: "n1", scope: "all", message, skip: ["n2", "n3"] },
  { kind: "announce", node: "n1", text: "hello", ts: message.ts },
  { kind: "kick", node: "n1", name: "alice" },
];

describe("bus messages on the wire", () => {
  test.each(every.map((m) => [m.kind, m]))("%s round-trips through JSON", (_, m) => {
    expect(decodeBusMessage(JSON.stringify(m))).toEqual(m);
  });

  test.each([
    ["not JSON", "{nope"],
    ["not an object", "42"],
    ["an unknown kind", JSON.stringify({ kind: "reboot", node: "n1" })],
    ["a missing field", JSON.stringify({ kind: "online", node: "n1", quiet: false })],
    ["a wrong type", JSON.stringify({ kind: "kick", node: "n1", name: 7 })],
    ["a message that is not one", JSON.stringify({ kind: "message", node: "n", scope: "all" })],
  ])("%s is refused", (_, data) => {
    expect(decodeBusMessage(data)).toBeNull();
  });
});
