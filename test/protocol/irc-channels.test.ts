import { describe, expect, test } from "vitest";
import type { ChatMessage } from "../../src/core/mod.ts";
import { IrcChannels } from "../../src/protocol/irc-channels.ts";

const message = (id: string): ChatMessage => ({
  type: "message",
  id,
  from: "bob",
  to: "#dev",
  text: id,
  ts: "2024-05-01T12:00:00.000Z",
});

describe("the channels of one IRC connection", () => {
  test("a playback leaves out what was shown live while it was on its way", () => {
    const channels = new IrcChannels();
    channels.awaitPlayback("#dev");
    channels.enter("#dev", ["alice", "bob"], "alice");
    channels.shownLive("#dev", "2");
    expect(channels.playback("#dev", [message("1"), message("2")])).toEqual([message("1")]);
    // Afterwards nothing is kept.
    channels.shownLive("#dev", "3");
    expect(channels.remembered).toBe(0);
  });

  test("without a playback on its way (draft/chathistory), no id of a live message is kept", () => {
    const channels = new IrcChannels();
    channels.enter("#dev", ["alice", "bob"], "alice");
    for (let i = 0; i < 1000; i++) channels.shownLive("#dev", String(i));
    expect(channels.remembered).toBe(0);
  });

  test("a playback that will not come, or a channel left, lets go of its ids", () => {
    const channels = new IrcChannels();
    channels.awaitPlayback("#dev");
    channels.awaitPlayback("#ops");
    channels.enter("#dev", [], "alice");
    channels.enter("#ops", [], "alice");
    channels.shownLive("#dev", "1");
    channels.shownLive("#ops", "2");
    expect(channels.remembered).toBe(2);
    channels.noPlayback("#dev");
    channels.leave("#ops");
    expect(channels.remembered).toBe(0);
    expect(channels.playback("#ops", [message("2")])).toBeNull();
  });
});
