import { readFile } from "node:fs/promises";
import { describe, expect, test } from "vitest";
import { buildPageScript, SCRIPT_MODULE } from "../../scripts/build-page.ts";
import { parseLine } from "../../src/http/page/app/commands.ts";
import { Conversation, conversationOf } from "../../src/http/page/app/conversations.ts";
import { pageRoutes } from "../../src/http/page/routes.ts";
import { PAGE_SCRIPT } from "../../src/http/page/script.ts";
import { PAGE_STYLE } from "../../src/http/page/style.ts";
import { textUser } from "../support/client.ts";
import { startRelay } from "../support/server.ts";

const TOKEN = "operator-secret-123";

async function call(
  port: number,
  path: string,
  init: RequestInit = {},
  token: string | null = TOKEN,
) {
  const headers = new Headers(init.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  if (init.body) headers.set("content-type", "application/json");
  return fetch(`http://127.0.0.1:${port}${path}`, { ...init, headers });
}

describe("HTTP", () => {
  test("/healthz answers ok and / serves the chat page", async () => {
    const { httpPort } = await startRelay();
    const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
    expect([health.status, await health.text()]).toEqual([200, "ok"]);
    const page = await fetch(`http://127.0.0.1:${httpPort}/`);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/<title>relay<\/title>[\s\S]*<script src="app\.js" defer>/);
  });

  test("/metrics counts connections, users, deliveries and errors", async () => {
    const { tcpPort, httpPort } = await startRelay();
    const a = await textUser(tcpPort as number, "m1");
    const b = await textUser(tcpPort as number, "m2");
    a.send("/msg m2 hi", "/frob");
    await b.until(/hi$/);
    await a.until(/unknown_command/);
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(text).toContain('relay_connections{transport="tcp"} 2');
    expect(text).toContain("relay_users 2");
    expect(text).toContain("relay_messages_delivered_total 1");
    expect(text).toContain('relay_errors_total{code="unknown_command"} 1');
    a.close();
    b.close();
  });

  test("without RELAY_ADMIN_TOKEN the admin API is 404", async () => {
    const { httpPort } = await startRelay();
    expect((await call(httpPort, "/admin/sessions")).status).toBe(404);
  });

  test("the admin API needs the bearer token", async () => {
    const { httpPort } = await startRelay({ RELAY_ADMIN_TOKEN: TOKEN });
    expect((await call(httpPort, "/admin/sessions", {}, null)).status).toBe(401);
    expect((await call(httpPort, "/admin/sessions", {}, "wrong-token-xyz")).status).toBe(401);
    expect((await call(httpPort, "/admin/sessions")).status).toBe(200);
  });

  test("a missing header, another scheme or a wrong token get 401 on every admin call", async () => {
    const { tcpPort, httpPort } = await startRelay({ RELAY_ADMIN_TOKEN: TOKEN });
    const kim = await textUser(tcpPort as number, "kim");
    const basic = `Basic ${btoa(`admin:${TOKEN}`)}`;
    const refused = [
      null,
      basic,
      `Digest ${TOKEN}`,
      TOKEN,
      "Bearer",
      "Bearer ",
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Bearer ${TOKEN.toUpperCase()}`,
      `Bearer ${TOKEN} ${TOKEN}`,
      `Bearer "${TOKEN}"`,
      "Bearer wrong-token-of-some-length",
    ];
    const calls: [string, RequestInit][] = [
      ["/admin/sessions", {}],
      ["/admin/nowhere", {}],
      ["/admin/announce", { method: "POST", body: JSON.stringify({ text: "nope" }) }],
      ["/admin/kick", { method: "POST", body: JSON.stringify({ name: "kim" }) }],
      ["/admin/shutdown", { method: "POST" }],
    ];
    for (const authorization of refused) {
      for (const [path, init] of calls) {
        const headers = new Headers(init.headers);
        if (authorization !== null) headers.set("authorization", authorization);
        const res = await fetch(`http://127.0.0.1:${httpPort}${path}`, { ...init, headers });
        expect([authorization, path, res.status]).toEqual([authorization, path, 401]);
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
      }
    }
    // None of them did anything: kim is still here and heard no announcement.
    kim.send("/ping");
    expect(await kim.line()).toBe("* pong");
    // The scheme is case-insensitive (RFC 7235); the token is not.
    const lower = await fetch(`http://127.0.0.1:${httpPort}/admin/sessions`, {
      headers: { authorization: `bearer ${TOKEN}` },
    });
    expect(lower.status).toBe(200);
    kim.close();
  });

  test("without RELAY_ADMIN_TOKEN every admin call is 404, whatever it carries", async () => {
    const { httpPort } = await startRelay();
    for (const token of [TOKEN, null]) {
      expect((await call(httpPort, "/admin/sessions", {}, token)).status).toBe(404);
      const post = { method: "POST", body: JSON.stringify({ text: "x" }) };
      expect((await call(httpPort, "/admin/announce", post, token)).status).toBe(404);
    }
  });

  test("operators list sessions, announce and kick", async () => {
    const { tcpPort, httpPort } = await startRelay({ RELAY_ADMIN_TOKEN: TOKEN });
    const kim = await textUser(tcpPort as number, "kim");
    kim.send("/join #ops");
    await kim.line();
    const sessions = await (await call(httpPort, "/admin/sessions")).json();
    expect(sessions).toEqual([
      {
        name: "kim",
        transport: "tcp",
        remote: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
        connectedAt: expect.any(String),
        rooms: ["#ops"],
        unsentBytes: 0,
      },
    ]);
    const announce = await call(httpPort, "/admin/announce", {
      method: "POST",
      body: JSON.stringify({ text: "back in 5" }),
    });
    expect(announce.status).toBe(200);
    expect(await kim.line()).toBe("*** back in 5");
    const bad = await call(httpPort, "/admin/kick", { method: "POST", body: "{}" });
    expect(bad.status).toBe(400);
    const nobody = await call(httpPort, "/admin/kick", {
      method: "POST",
      body: JSON.stringify({ name: "nobody" }),
    });
    expect(nobody.status).toBe(404);
    const kick = await call(httpPort, "/admin/kick", {
      method: "POST",
      body: JSON.stringify({ name: "KIM" }),
    });
    expect(kick.status).toBe(200);
    expect(await kim.end()).toEqual(["* bye: kicked"]);
  });
});

describe("the chat page's files and headers", () => {
  const files = [
    ["/", /^text\/html; charset=utf-8$/i],
    ["/app.js", /^text\/javascript; charset=utf-8$/],
    ["/app.css", /^text\/css; charset=utf-8$/],
    ["/favicon.svg", /^image\/svg\+xml$/],
  ] as const;

  test.each(files)(
    "%s is served with its content type and the page's security headers",
    async (path, type) => {
      const { httpPort } = await startRelay();
      const res = await fetch(`http://127.0.0.1:${httpPort}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(type);
      const csp = (res.headers.get("content-security-policy") ?? "").split(/;\s*/);
      expect(csp).toEqual(
        expect.arrayContaining([
          "default-src 'none'",
          "script-src 'self'",
          "style-src 'self'",
          `connect-src 'self' ws://127.0.0.1:${httpPort} wss://127.0.0.1:${httpPort}`,
          "frame-ancestors 'none'",
          "base-uri 'none'",
        ]),
      );
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("strict-transport-security")).toBeNull();
    },
  );

  test("the script and the style are the page's own files, and the page holds neither inline", async () => {
    const { httpPort } = await startRelay();
    const base = `http://127.0.0.1:${httpPort}`;
    expect(await (await fetch(`${base}/app.js`)).text()).toBe(PAGE_SCRIPT);
    expect(await (await fetch(`${base}/app.css`)).text()).toBe(PAGE_STYLE);
    const html = await (await fetch(`${base}/`)).text();
    expect(html).toContain('<link rel="stylesheet" href="app.css">');
    expect(html).not.toMatch(/<script>|<style|\sstyle=|\son[a-z]+=/i);
  });

  test("the policy names the WebSocket origins of a plain Host only", async () => {
    const page = pageRoutes();
    const policy = async (host: string) =>
      (await page.request("/", { headers: { host } })).headers.get("content-security-policy");
    expect(await policy("chat.example:8443")).toContain(
      "connect-src 'self' ws://chat.example:8443 wss://chat.example:8443;",
    );
    expect(await policy("[::1]:8080")).toContain("ws://[::1]:8080 wss://[::1]:8080;");
    const forged = await policy("evil.example; script-src *");
    expect(forged).toContain("connect-src 'self' ;");
    expect(forged).not.toContain("evil");
  });

  test("the other routes do not carry the page's policy", async () => {
    const { httpPort } = await startRelay();
    const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
    expect(res.headers.get("content-security-policy")).toBeNull();
  });

  test("script.ts is the bundle of src/http/page/app and src/client as they are (npm run build:page)", async () => {
    expect(await readFile(SCRIPT_MODULE, "utf8")).toBe(await buildPageScript());
  });
});

describe("the chat page's model (src/http/page/app)", () => {
  const msg = (id: string, from = "bo", to = "#dev") => ({
    type: "message" as const,
    id,
    from,
    to,
    text: `text ${id}`,
    ts: "2026-01-01T00:00:00.000Z",
  });

  test.each([
    ["hi", "#dev", { kind: "send", to: "#dev", text: "hi" }],
    ["//help me", "bo", { kind: "send", to: "bo", text: "/help me" }],
    ["hi", null, { kind: "usage" }],
    ["/msg bo see you soon", null, { kind: "send", to: "bo", text: "see you soon" }],
    ["/msg bo", null, { kind: "usage" }],
    ["/all hello", null, { kind: "send", to: "*", text: "hello" }],
    ["/join dev", null, { kind: "join", room: "#dev" }],
    ["/leave", "#dev", { kind: "leave", room: "#dev" }],
    ["/leave", "bo", { kind: "usage" }],
    ["/to Bo", null, { kind: "open", target: "Bo" }],
    ["/history", "#dev", { kind: "history", with: "#dev", limit: 50 }],
    ["/history 20", "#dev", { kind: "history", with: "#dev", limit: 20 }],
    ["/history bo 5", null, { kind: "history", with: "bo", limit: 5 }],
    ["/history bo 500", null, { kind: "usage" }],
    ["/who #dev", null, { kind: "who", room: "#dev" }],
    ["/HELP", null, { kind: "help" }],
    ["/frob", null, { kind: "usage" }],
  ] as const)("the line %j (open: %j) is %o", (line, current, action) => {
    expect(parseLine(line, current)).toMatchObject(action);
  });

  test("a message belongs to its room, or to the other person", () => {
    expect(conversationOf(msg("1", "bo", "#dev"), "ann")).toBe("#dev");
    expect(conversationOf(msg("1", "bo", "ann"), "ann")).toBe("bo");
    expect(conversationOf(msg("1", "Ann", "bo"), "ann")).toBe("bo");
  });

  test("messages are kept in id order, each once", () => {
    const c = new Conversation("#dev");
    expect(c.add([msg("3"), msg("1")]).map((m) => m.id)).toEqual(["3", "1"]);
    expect(c.add([msg("2"), msg("3")]).map((m) => m.id)).toEqual(["2"]);
    expect(c.messages.map((m) => m.id)).toEqual(["1", "2", "3"]);
  });

  test("a newest page that does not reach what is kept replaces it: no hole in between", () => {
    const c = new Conversation("#dev");
    c.add([msg("01"), msg("02")]);
    c.newestPage([msg("08"), msg("09")], true);
    expect(c.messages.map((m) => m.id)).toEqual(["08", "09"]);
    expect(c.more).toBe(true);
    const d = new Conversation("#dev");
    d.add([msg("01"), msg("02")]);
    d.newestPage([msg("02"), msg("03")], true);
    expect(d.messages.map((m) => m.id)).toEqual(["01", "02", "03"]);
    d.olderPage([], false);
    expect(d.more).toBe(false);
  });

  test("a message of one's own that comes back settles the one being sent", () => {
    const c = new Conversation("bo");
    c.pending.push({ seq: 1, to: "bo", text: "text 7", state: "unsure" });
    expect(c.settle(msg("7", "ann", "Bo"))).toBe(true);
    expect(c.pending).toEqual([]);
  });
});
