import { readFile } from "node:fs/promises";
import { describe, expect, test } from "vitest";
import { buildPageScript, SCRIPT_MODULE } from "../../scripts/build-page.ts";
import { RelayClient, type WhoReply } from "../../src/client/mod.ts";
import { parseLine, whoNote } from "../../src/http/page/app/commands.ts";
import { Conversation, conversationOf } from "../../src/http/page/app/conversations.ts";
import {
  compareNames,
  MAX_MEMBER_PAGES,
  Members,
  type MemberView,
} from "../../src/http/page/app/members.ts";
import { pageRoutes } from "../../src/http/page/routes.ts";
import { PAGE_SCRIPT } from "../../src/http/page/script.ts";
import { PAGE_STYLE } from "../../src/http/page/style.ts";
import { until } from "../client/e2e-support.ts";
import { FakeServer, friendly, type Sent } from "../client/fake-server.ts";
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
    ["/who dev Bo", null, { kind: "who", room: "#dev", after: "Bo" }],
    ["/who * Bo", null, { kind: "who", after: "Bo" }],
    ["/who * Bo x", null, { kind: "usage" }],
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

/**
 * Who is online as a relay would page it, `size` names a page: `online` (everyone, in the
 * order of who) and `rooms` (each room's members online) are the test's to change.
 */
async function whoRelay(size: number) {
  const world = { online: [] as string[], rooms: new Map<string, string[]>() };
  const server = new FakeServer();
  server.script = (c, conn) => {
    if (c.type !== "who") return friendly(c, conn);
    const room = typeof c.room === "string" ? c.room : undefined;
    const all = [...(room === undefined ? world.online : (world.rooms.get(room) ?? []))].sort(
      compareNames,
    );
    const after = typeof c.after === "string" ? c.after : undefined;
    const rest = after === undefined ? all : all.filter((n) => compareNames(n, after) > 0);
    const users = rest.slice(0, size);
    const reply: WhoReply = {
      type: "who",
      re: c.id,
      ...(room !== undefined && { room }),
      users,
      online: all.length,
      ...(rest.length > size && { next: users.at(-1) }),
    };
    return [reply];
  };
  const client = new RelayClient({ transport: server, name: "ann", heartbeatMs: 0 });
  await client.connect();
  let changes = 0;
  const members = new Members(
    () => client,
    () => changes++,
  );
  const view = () => members.view as MemberView;
  const whoSent = () => server.sent("who") as Sent[];
  return { world, server, client, members, view, whoSent, changes: () => changes };
}

const names = (n: number, prefix = "p") =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(2, "0")}`);

describe("who is online beside a conversation", () => {
  test("names sort as who pages them: by lower case, then by code unit", () => {
    expect(["bo", "Ann", "ann", "ÄB", "b"].sort(compareNames)).toEqual([
      "Ann",
      "ann",
      "b",
      "bo",
      "ÄB",
    ]);
  });

  test("/who's note says how many in all and the command for the next page", () => {
    expect(whoNote({ users: ["ann", "bo"], online: 1500, next: "bo" })).toBe(
      "online: ann, bo (1500 in all; more: /who * bo)",
    );
    expect(whoNote({ room: "#dev", users: ["cy"], online: 1500 })).toBe("#dev: cy (1500 in all)");
    expect(whoNote({ users: [], online: 0 })).toBe("online: nobody");
  });

  test("the first page when it opens, the next ones as asked, up to the most pages held", async () => {
    const { world, members, view, whoSent } = await whoRelay(2);
    world.online = names(25);
    members.show("*");
    await until(() => view().online !== undefined, "the first page");
    expect(view()).toMatchObject({
      names: ["p00", "p01"],
      online: 25,
      more: true,
      canLoadMore: true,
    });
    for (let page = 2; page <= MAX_MEMBER_PAGES; page++) {
      members.more();
      members.more(); // one page at a time: asked while loading, it is not asked twice
      await until(() => view().names.length === page * 2, `page ${page}`);
    }
    expect(whoSent().map((c) => c.after)).toEqual([
      undefined,
      ...names(MAX_MEMBER_PAGES - 1).map((_, i) => `p${String(i * 2 + 1).padStart(2, "0")}`),
    ]);
    expect(view()).toMatchObject({ more: true, canLoadMore: false, online: 25 });
    members.more();
    expect(whoSent()).toHaveLength(MAX_MEMBER_PAGES);
  });

  test("beside everyone, presence events change the list and the count", async () => {
    const { world, members, view } = await whoRelay(3);
    world.online = ["ann", "bo", "cy", "dee", "eve"];
    members.show("*");
    await until(() => view().online === 5, "the first page");
    expect(view().names).toEqual(["ann", "bo", "cy"]);
    const presence = (name: string, status: "online" | "offline") =>
      members.presence({ type: "presence", name, status });
    presence("Bz", "online"); // among the names held: shown in its place
    presence("zoe", "online"); // after them: counted only
    expect(view()).toMatchObject({ names: ["ann", "bo", "Bz", "cy"], online: 7 });
    presence("bo", "offline");
    presence("eve", "offline");
    expect(view()).toMatchObject({ names: ["ann", "Bz", "cy"], online: 5 });
    presence("Bz", "online"); // told twice: counted once
    expect(view().online).toBe(5);
  });

  test("beside a room, joins and leaves change the list; someone online is asked about", async () => {
    const { world, members, view, whoSent } = await whoRelay(1000);
    world.rooms.set("#dev", ["ann", "cy"]);
    members.show("#dev");
    await until(() => view().online === 2, "the first page");
    members.joinedOrLeft("#DEV", "bo", true);
    expect(view()).toMatchObject({ names: ["ann", "bo", "cy"], online: 3 });
    members.joinedOrLeft("#dev", "cy", false);
    members.joinedOrLeft("#ops", "ann", false); // another room: nothing
    expect(view()).toMatchObject({ names: ["ann", "bo"], online: 2 });
    // Someone who came online may be a member: the server is asked, once for a burst.
    world.rooms.set("#dev", ["ann", "bo", "dee"]);
    const asked = whoSent().length;
    for (const name of ["dee", "fay", "gus"]) {
      members.presence({ type: "presence", name, status: "online" });
    }
    await until(() => view().names.includes("dee"), "the list asked again");
    expect(whoSent().length).toBe(asked + 1);
    expect(view()).toMatchObject({ names: ["ann", "bo", "dee"], online: 3 });
    // Someone among the names held who is not there was not a member: nothing to ask.
    members.presence({ type: "presence", name: "ben", status: "offline" });
    members.presence({ type: "presence", name: "dee", status: "offline" });
    expect(view()).toMatchObject({ names: ["ann", "bo"], online: 2 });
    expect(whoSent().length).toBe(asked + 1);
  });

  test("asked again, the list holds as many pages as before, taken at once", async () => {
    const { world, members, view, whoSent } = await whoRelay(2);
    world.online = names(7);
    members.show("*");
    await until(() => view().online === 7, "the first page");
    members.more();
    await until(() => view().names.length === 4, "the second page");
    world.online = ["a0", ...names(7)];
    members.refresh();
    await until(() => view().names[0] === "a0", "the pages again");
    expect(view()).toMatchObject({ names: ["a0", "p00", "p01", "p02"], online: 8, more: true });
    expect(
      whoSent()
        .slice(-2)
        .map((c) => c.after),
    ).toEqual([undefined, "p00"]);
  });

  test("nothing is shown beside a person", async () => {
    const { members, whoSent } = await whoRelay(2);
    members.show("bo");
    expect(members.view).toBeNull();
    expect(whoSent()).toHaveLength(0);
  });
});
