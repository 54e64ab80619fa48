import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { Input } from "../../src/core/mod.ts";
import type { Bus, BusMessage } from "../../src/host/bus/bus.ts";
import { ClusterLink } from "../../src/host/cluster.ts";

/** A bus driven by the test: it says what other nodes published, and when it is cut. */
class ScriptedBus implements Bus {
  readonly node = "me";
  readonly clustered = true;
  receive: (message: BusMessage) => void = () => {};
  reconnected: () => void = () => {};
  lost: () => void = () => {};

  async start(receive: (m: BusMessage) => void, reconnected: () => void, lost?: () => void) {
    this.receive = receive;
    this.reconnected = reconnected;
    this.lost = lost ?? (() => {});
  }
  async publish(): Promise<boolean> {
    return true;
  }
  async claim(): Promise<boolean> {
    return true;
  }
  async peers(): Promise<number> {
    return 0;
  }
  async heldElsewhere(): Promise<boolean> {
    return false;
  }
  async release(): Promise<void> {}
  async renew(): Promise<void> {}
  async close(): Promise<void> {}
}

const LEASE_MS = 900;

describe("the cluster link tells the core when a node falls silent", () => {
  let now = 0;
  let inputs: Input[] = [];
  let bus: ScriptedBus;
  let link: ClusterLink;
  const downs = () => inputs.filter((i) => i.type === "nodeDown");
  /** Moves the clock and the timers (the heartbeat runs every third of a lease). */
  const wait = (ms: number) => {
    now += ms;
    vi.advanceTimersByTime(ms);
  };

  beforeEach(async () => {
    vi.useFakeTimers();
    now = 0;
    inputs = [];
    bus = new ScriptedBus();
    link = new ClusterLink(bus, LEASE_MS, () => now, {
      input: (i) => inputs.push(i),
      heard: () => {},
      failed: () => {},
    });
    await link.start();
    bus.receive({ kind: "alive", node: "b" });
  });
  afterEach(() => {
    link.stop();
    vi.useRealTimers();
  });

  test("a node not heard for a whole lease is down", () => {
    wait(600);
    expect(downs()).toEqual([]);
    wait(600);
    expect(downs()).toMatchObject([{ type: "nodeDown", node: "b" }]);
  });

  test("not while this node's own bus is cut, and each node gets a whole lease once it is back", () => {
    wait(300);
    bus.lost();
    wait(3000); // Redis restarting: nobody is heard
    expect(downs()).toEqual([]);
    bus.reconnected();
    expect(inputs.at(-1)).toMatchObject({ type: "sync" });
    wait(600);
    expect(downs()).toEqual([]);
    wait(600);
    expect(downs()).toMatchObject([{ type: "nodeDown", node: "b" }]);
  });
});
