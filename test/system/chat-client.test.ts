import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { logInCrowd } from "../client/e2e-support.ts";
import { textUser } from "../support/client.ts";
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

  /** Everything the terminal printed, scrolled-off lines included, wrapped lines joined. */
  everything(): string {
    return tmux("capture-pane", "-p", "-J", "-S", "-", "-t", this.name)
      .split("\n")
      .map((line) => line.trimEnd())
      .join("\n");
  }

  /** How many lines printed so far match `pattern`. */
  count(pattern: RegExp): number {
    return this.everything()
      .split("\n")
      .filter((line) => pattern.test(line)).length;
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

const tempDirs: string[] = [];

/** A KV file in a fresh temporary directory, so that a restarted relay keeps its log. */
async function kvStore(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "relay-chat-"));
  tempDirs.push(dir);
  return join(dir, "relay.kv");
}

afterAll(async () => {
  for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true });
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

  test("after a server restart, messages sent before the client is back show up once; /history prints earlier ones", async () => {
    const store = await kvStore();
    const first = await spawnRelay("node", { RELAY_STORE: store });
    const dee = chat(`--name dee tcp://127.0.0.1:${first.tcpPort}`);
    await dee.waitFor(/logged in as dee/);
    dee.type("/join #ops");
    dee.press("Enter");
    await dee.waitFor(/you joined #ops/);
    const eve = await textUser(first.tcpPort, "eve");
    eve.send("/join #ops");
    await eve.until(/you joined #ops/);
    eve.send("/msg dee before the restart");
    await dee.waitFor(/\] eve: before the restart/);
    dee.type("my answer"); // eve wrote last: a plain line goes to her
    dee.press("Enter");
    await eve.until(/dee: my answer/);
    eve.close();
    // The client reads its own `ok` (its id joins `since`) as eve reads the message; the kill
    // must not race it, or the resume rightly brings the message back.
    await new Promise((r) => setTimeout(r, 500));

    await first.kill("SIGKILL");
    // Once the client waits 7.5 s or more between attempts (the sixth, with jitter), the relay
    // comes back and eve writes before the client does.
    await dee.waitFor(/trying again in [\d.]+s \(attempt 6\)/, 30_000);
    const second = await spawnRelay("node", {
      RELAY_STORE: store,
      RELAY_TCP_PORT: String(first.tcpPort),
      RELAY_HTTP_PORT: String(first.httpPort),
    });
    const eve2 = await textUser(second.tcpPort, "eve");
    // A room message is held for nobody: only the resume brings it.
    eve2.send(
      "/msg dee while you were away 1",
      "/msg #ops room news while you were away",
      "/msg dee while you were away 2",
      "/ping",
    );
    await eve2.until(/^\* pong$/);
    expect(dee.count(/logged in as dee/)).toBe(1); // they were sent before it came back

    await dee.waitFor(/logged in as dee[\s\S]*logged in as dee/, 20_000);
    await dee.waitFor(/eve: while you were away 2/);
    eve2.send("/msg dee live again");
    await dee.waitFor(/\] eve: live again/);
    expect(dee.count(/\] eve: while you were away 1$/)).toBe(1);
    expect(dee.count(/\] eve: while you were away 2$/)).toBe(1);
    expect(dee.count(/\] #ops eve: room news while you were away$/)).toBe(1);
    expect(dee.count(/\] eve: before the restart$/)).toBe(1); // not replayed
    expect(dee.count(/dee → eve: my answer$/)).toBe(0); // its own send, seen in its ok
    expect(dee.count(/\] eve: live again$/)).toBe(1);

    dee.type("/history eve 10");
    dee.press("Enter");
    await dee.waitFor(/\* end of history with eve/);
    const printed = dee.everything();
    const history = printed.slice(printed.lastIndexOf("/history eve 10"));
    const dated = "\\[\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\]";
    expect(history).toMatch(
      new RegExp(
        [
          `${dated} eve: before the restart`,
          `${dated} dee → eve: my answer`,
          `${dated} eve: while you were away 1`,
          `${dated} eve: while you were away 2`,
          `${dated} eve: live again`,
          "\\* end of history with eve",
        ].join("\\n"),
      ),
    );
    dee.type("/quit");
    dee.press("Enter");
    await expect.poll(() => dee.alive(), { timeout: 5000 }).toBe(false);
    eve2.close();
  });

  test("/who prints one page with how many are online and the command for the next page", async () => {
    const relay = await spawnRelay("node", { RELAY_PRESENCE: "off" });
    const names = Array.from({ length: 1000 }, (_, i) => `p${String(i).padStart(4, "0")}`);
    const crowd = await logInCrowd(relay.tcpPort, names);
    const ann = chat(`--name ann tcp://127.0.0.1:${relay.tcpPort}`);
    await ann.waitFor(/logged in as ann/);
    // ann and p0000 to p0998 make the first page of 1000; p0999 is on the next.
    ann.type("/who");
    ann.press("Enter");
    await expect
      .poll(() => ann.everything(), { timeout: 10_000 })
      .toMatch(/^\* online: ann, p0000, p0001, .*, p0998 \(1001 in all; more: \/who \* p0998\)$/m);
    ann.type("/who * p0998");
    ann.press("Enter");
    await ann.waitFor(/^\* online: p0999 \(1001 in all\)$/m);
    for (const c of crowd) c.close();
  });
});
