import { execFileSync } from "node:child_process";
import { afterEach, describe, expect, test } from "vitest";
import { spawnRelay } from "../support/process.ts";

/** A terminal (a tmux session) running `relay chat`. */
class Terminal {
  static #count = 0;
  readonly name = `relay-test-${process.pid}-${Terminal.#count++}`;

  constructor(command: string) {
    tmux("new-session", "-d", "-s", this.name, "-x", "120", "-y", "30", command);
  }

  type(keys: string): void {
    tmux("send-keys", "-t", this.name, "-l", keys);
  }

  press(key: string): void {
    tmux("send-keys", "-t", this.name, key);
  }

  screen(): string {
    return tmux("capture-pane", "-p", "-t", this.name);
  }

  async waitFor(pattern: RegExp, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pattern.test(this.screen())) {
      if (Date.now() > deadline) throw new Error(`no ${pattern} on the screen:\n${this.screen()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  kill(): void {
    try {
      tmux("kill-session", "-t", this.name);
    } catch {
      // Already gone: the program exited.
    }
  }

  alive(): boolean {
    try {
      tmux("has-session", "-t", this.name);
      return true;
    } catch {
      return false;
    }
  }
}

function tmux(...args: string[]): string {
  return execFileSync("tmux", args, { encoding: "utf8" });
}

const terminals: Terminal[] = [];
const CHAT = {
  node: "node bin/relay.mjs chat",
  deno: "node_modules/deno/deno task chat", // the task README names, with its permissions
};

function chat(args: string, runtime: keyof typeof CHAT = "node"): Terminal {
  const t = new Terminal(`${CHAT[runtime]} ${args}`);
  terminals.push(t);
  return t;
}

afterEach(() => {
  for (const t of terminals.splice(0)) t.kill();
});

describe("relay chat in a terminal", () => {
  test("two clients (Node over TCP, Deno over WebSocket) chat; typing survives incoming lines", async () => {
    const relay = await spawnRelay("node");
    const ann = chat(`--name ann tcp://127.0.0.1:${relay.tcpPort}`);
    await ann.waitFor(/logged in as ann/);
    const bo = chat(`--name bo ws://127.0.0.1:${relay.httpPort}/ws`, "deno");
    await bo.waitFor(/logged in as bo; online: ann/);
    await ann.waitFor(/\* bo is online/);

    ann.type("/to b");
    ann.press("Tab"); // completes the name
    await ann.waitFor(/\/to bo$/m);
    ann.press("Enter");
    await ann.waitFor(/ann → bo>/);
    ann.type("hello bo");
    ann.press("Enter");
    await bo.waitFor(/\[\d\d:\d\d:\d\d\] ann: hello bo/);
    await bo.waitFor(/bo → ann>/); // the reply rule, visible in the prompt

    ann.type("half a thought"); // not sent yet
    bo.type("hi ann");
    bo.press("Enter");
    await ann.waitFor(/\] bo: hi ann\n.*ann → bo> half a thought/);

    ann.press("C-u");
    ann.type("/quit");
    ann.press("Enter");
    await expect.poll(() => ann.alive(), { timeout: 5000 }).toBe(false);
    await bo.waitFor(/\* ann is offline/);
  });

  test("the client reconnects after a server restart and logs in again", async () => {
    const first = await spawnRelay("node");
    const cy = chat(`--name cy tcp://127.0.0.1:${first.tcpPort}`);
    await cy.waitFor(/logged in as cy/);
    cy.type("/join #ops");
    cy.press("Enter");
    await cy.waitFor(/you joined #ops/);
    await first.kill("SIGKILL");
    await cy.waitFor(/trying again in/);
    const second = await spawnRelay("node", {
      RELAY_TCP_PORT: String(first.tcpPort),
      RELAY_HTTP_PORT: String(first.httpPort),
    });
    await cy.waitFor(/logged in as cy/, 20_000);
    await cy.waitFor(/you joined #ops: cy/); // its rooms are joined again
    cy.press("C-d");
    await expect.poll(() => cy.alive(), { timeout: 5000 }).toBe(false);
    await second.kill();
  });
});
