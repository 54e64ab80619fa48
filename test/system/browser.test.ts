import { mkdir, rm } from "node:fs/promises";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { textUser, WsClient } from "../support/client.ts";
import { spawnRelay } from "../support/process.ts";

const ARTIFACTS = "test-results";
let browser: Browser;

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
  await mkdir(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
});

async function logIn(page: Page, url: string, name: string, password?: string): Promise<void> {
  await page.goto(url);
  await page.fill("#name", name);
  if (password !== undefined) await page.fill("#password", password);
  await page.click("#login button");
  await page.waitForSelector("#app:not([hidden])");
}

function log(page: Page) {
  return page.locator("#log");
}

/** How many lines of the page's log contain `text`. */
function lines(page: Page, text: string): Promise<number> {
  return page.locator("#log .line", { hasText: text }).count();
}

function status(page: Page) {
  return page.locator("#status").textContent();
}

/** Types a line into the message box and sends it. */
async function say(page: Page, text: string): Promise<void> {
  await page.fill("#text", text);
  await page.press("#text", "Enter");
}

const stores: string[] = [];

/** A KV file store that a restarted relay reads again (under data/, where Deno may write). */
async function kvStore(label: string): Promise<string> {
  await mkdir("data", { recursive: true });
  const store = `data/test-${label}-${process.pid}-${Date.now()}.kv`;
  stores.push(store);
  return store;
}

afterAll(async () => {
  for (const store of stores.splice(0)) {
    for (const suffix of ["", "-wal", "-shm", "-journal"])
      await rm(store + suffix, { force: true });
  }
});

describe.each(["node", "deno"] as const)("the chat page on %s", (runtime) => {
  test("two pages and a netcat user chat; names and texts are never HTML", async () => {
    const relay = await spawnRelay(runtime);
    const url = `http://127.0.0.1:${relay.httpPort}/`;
    const ann = await browser.newPage({ viewport: { width: 900, height: 600 } });
    const ben = await browser.newPage({ viewport: { width: 390, height: 700 } });
    await logIn(ann, url, "ann");
    await logIn(ben, url, "ben");
    await expect.poll(() => log(ann).textContent()).toContain("ben is online");

    // ann picks ben from the list and writes; ben answers with a plain line (the reply rule).
    await ann.click("#users button:has-text('ben')");
    await ann.fill("#text", "hi <b>ben</b>");
    await ann.press("#text", "Enter");
    await expect.poll(() => log(ben).textContent()).toContain("hi <b>ben</b>");
    expect(await ben.locator("#log b").count()).toBe(0);
    await expect.poll(() => ben.locator("#target").textContent()).toBe("to ann");
    await ben.fill("#text", "hello ann");
    await ben.press("#text", "Enter");
    await expect.poll(() => log(ann).textContent()).toContain("hello ann");

    // Rooms, and a netcat user in the same room.
    await ann.fill("#room", "#team");
    await ann.press("#room", "Enter");
    await expect.poll(() => ann.locator("#rooms").textContent()).toContain("#team");
    const nc = await textUser(relay.tcpPort, "nc");
    nc.send("/join #team", "/msg #team from the terminal");
    await expect.poll(() => log(ann).textContent()).toContain("from the terminal");
    await ann.click("#rooms button:has-text('#team')");
    await ann.fill("#text", "from the browser");
    await ann.press("#text", "Enter");
    expect(await nc.until(/from the browser/)).toMatch(
      /^\[\d\d:\d\d:\d\d\] #team ann: from the browser$/,
    );

    // Errors are shown, not swallowed.
    await ann.fill("#text", "/msg nobody-here hi");
    await ann.press("#text", "Enter");
    await expect.poll(() => log(ann).textContent()).toContain("no_such_user");

    await ann.screenshot({ path: `${ARTIFACTS}/chat-${runtime}-wide.png` });
    await ben.screenshot({ path: `${ARTIFACTS}/chat-${runtime}-phone.png` });
    nc.close();
    await ann.close();
    await ben.close();
  });

  test("a page reconnects and logs in again after the server restarts", async () => {
    const store = await kvStore(`reconnect-${runtime}`);
    const first = await spawnRelay(runtime, { RELAY_STORE: store });
    const url = `http://127.0.0.1:${first.httpPort}/`;
    const page = await browser.newPage();
    await logIn(page, url, "rita");
    await first.kill("SIGTERM");
    await expect.poll(() => page.locator("#status").textContent()).toMatch(/reconnecting/);

    const second = await spawnRelay(runtime, {
      RELAY_STORE: store,
      RELAY_HTTP_PORT: String(first.httpPort),
    });
    const sender = await textUser(second.tcpPort, "sol");
    sender.send("/msg rita are you back?");
    await sender.line();
    await expect
      .poll(() => page.locator("#status").textContent(), { timeout: 20_000 })
      .toBe("online as rita");
    await expect.poll(() => log(page).textContent()).toContain("are you back?");
    sender.close();
    await page.close();
  });

  test("a reload shows the earlier conversation and comes back logged in, without the password in storage", async () => {
    const relay = await spawnRelay(runtime, { RELAY_STORE: await kvStore(`reload-${runtime}`) });
    const url = `http://127.0.0.1:${relay.httpPort}/`;
    const page = await browser.newPage();
    await logIn(page, url, "uma", "correct-horse");
    const vic = await textUser(relay.tcpPort, "vic");
    vic.send("/msg uma hello uma, from vic");
    await expect.poll(() => log(page).textContent()).toContain("hello uma, from vic");
    await say(page, "hello vic, from uma"); // vic wrote last: the page answers him
    await vic.until(/uma: hello vic, from uma/);

    await page.reload();
    await page.waitForSelector("#app:not([hidden])");
    expect(await page.locator("#login").isHidden()).toBe(true); // nobody asked for the name
    await expect.poll(() => status(page), { timeout: 10_000 }).toBe("online as uma");
    expect(await lines(page, "hello uma, from vic")).toBe(1);
    expect(await lines(page, "hello vic, from uma")).toBe(1);
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }));
    expect(stored).toContain("hello uma, from vic");
    expect(stored).not.toContain("correct-horse");

    vic.send("/msg uma after the reload");
    await expect.poll(() => lines(page, "after the reload")).toBe(1);
    await say(page, "still here"); // the partner came back with the page
    await vic.until(/uma: still here/);

    // Logging out ends the session and forgets what the page kept.
    const kept = await page.evaluate(() => localStorage.getItem("relay.state") ?? "{}");
    const session = JSON.parse(kept).session as string;
    expect(session).toMatch(/.{16,}/);
    await page.click("#logout");
    await page.waitForSelector("#login:not([hidden])");
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    await expect
      .poll(async () => {
        const ws = await WsClient.open(relay.httpPort);
        ws.sendJson({ type: "login", name: "uma", session, id: "s" });
        const reply = await ws.json();
        ws.close();
        return reply.type === "error" ? reply.code : reply.type;
      })
      .toBe("auth_failed");
    await page.reload();
    await page.waitForSelector("#login:not([hidden])");
    expect(await page.locator("#app").isHidden()).toBe(true);
    vic.close();
    await page.close();
  });

  test("a message sent while the page was closed shows up when it is opened again", async () => {
    const relay = await spawnRelay(runtime, { RELAY_STORE: await kvStore(`closed-${runtime}`) });
    const url = `http://127.0.0.1:${relay.httpPort}/`;
    const context = await browser.newContext();
    const page = await context.newPage();
    await logIn(page, url, "wes");
    const xia = await textUser(relay.tcpPort, "xia");
    xia.send("/msg wes before you closed the page");
    await expect.poll(() => log(page).textContent()).toContain("before you closed the page");
    await page.close();

    xia.send("/msg wes while the page was closed", "/ping");
    await xia.until(/^\* pong$/);
    const again = await context.newPage();
    await again.goto(url);
    await again.waitForSelector("#app:not([hidden])");
    await expect.poll(() => status(again), { timeout: 10_000 }).toBe("online as wes");
    await expect.poll(() => lines(again, "while the page was closed")).toBe(1);
    expect(await lines(again, "before you closed the page")).toBe(1);
    xia.close();
    await context.close();
  });

  test("a server restarted under an open page loses nothing: messages sent right after arrive once", async () => {
    const store = await kvStore(`restart-${runtime}`);
    const first = await spawnRelay(runtime, { RELAY_STORE: store });
    const url = `http://127.0.0.1:${first.httpPort}/`;
    const page = await browser.newPage();
    await logIn(page, url, "yan");
    await page.fill("#room", "#ops");
    await page.press("#room", "Enter");
    await expect.poll(() => page.locator("#rooms").textContent()).toContain("#ops");
    const zed = await textUser(first.tcpPort, "zed");
    zed.send("/join #ops");
    await zed.until(/you joined #ops/);
    zed.send("/msg yan before the restart");
    await expect.poll(() => log(page).textContent()).toContain("before the restart");
    await say(page, "yan's answer");
    await zed.until(/yan: yan's answer/);
    zed.close();

    await first.kill("SIGTERM");
    await expect.poll(() => status(page)).toMatch(/reconnecting/);
    const second = await spawnRelay(runtime, {
      RELAY_STORE: store,
      RELAY_HTTP_PORT: String(first.httpPort),
    });
    const zed2 = await textUser(second.tcpPort, "zed");
    // A room message is held for nobody: if the page is still away, only the resume brings it.
    zed2.send(
      "/msg yan right after the restart 1",
      "/msg #ops room news right after the restart",
      "/msg yan right after the restart 2",
      "/ping",
    );
    await zed2.until(/^\* pong$/);
    await expect.poll(() => status(page), { timeout: 20_000 }).toBe("online as yan");
    await expect.poll(() => lines(page, "right after the restart 2")).toBe(1);
    zed2.send("/msg yan once it was back");
    await expect.poll(() => lines(page, "once it was back")).toBe(1);
    expect(await lines(page, "right after the restart 1")).toBe(1);
    expect(await lines(page, "room news right after the restart")).toBe(1);
    expect(await lines(page, "before the restart")).toBe(1);
    expect(await lines(page, "yan's answer")).toBe(1);
    zed2.close();
    await page.close();
  });

  test("a session the server refuses is forgotten and the login form comes back", async () => {
    const first = await spawnRelay(runtime); // a memory store: a restart forgets sessions
    const url = `http://127.0.0.1:${first.httpPort}/`;
    const page = await browser.newPage();
    await logIn(page, url, "ada");
    await first.kill("SIGKILL");
    await spawnRelay(runtime, { RELAY_HTTP_PORT: String(first.httpPort) });
    await page.reload();
    await page.waitForSelector("#login:not([hidden])", { timeout: 10_000 });
    expect(await page.inputValue("#name")).toBe("ada");
    const kept = await page.evaluate(() => localStorage.getItem("relay.state") ?? "{}");
    expect(JSON.parse(kept).session).toBeUndefined();
    await page.click("#login button");
    await expect.poll(() => status(page), { timeout: 10_000 }).toBe("online as ada");
    await page.close();
  });
});
