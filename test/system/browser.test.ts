import { mkdir } from "node:fs/promises";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { textUser } from "../support/client.ts";
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

async function logIn(page: Page, url: string, name: string): Promise<void> {
  await page.goto(url);
  await page.fill("#name", name);
  await page.click("#login button");
  await page.waitForSelector("#app:not([hidden])");
}

function log(page: Page) {
  return page.locator("#log");
}

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
    await mkdir("data", { recursive: true });
    const store = `data/test-reconnect-${runtime}-${Date.now()}.kv`;
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
});
