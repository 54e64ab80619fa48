import { describe, expect, test } from "vitest";
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
    expect(await page.text()).toMatch(/<title>relay<\/title>[\s\S]*new WebSocket/);
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
