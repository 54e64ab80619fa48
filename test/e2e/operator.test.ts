import { sign } from "hono/jwt";
import { describe, expect, test } from "vitest";
import { LineClient, textUser } from "../support/client.ts";
import { spawnRelay } from "../support/process.ts";
import { startRelay } from "../support/server.ts";

const SECRET = "jwt-secret-for-tests-at-least-32-bytes";
const TOKEN = "operator-token-for-tests";

describe("token mode", () => {
  test("a login needs a valid, unexpired token whose sub is the name", async () => {
    const relay = await startRelay({ RELAY_AUTH: "token", RELAY_JWT_SECRET: SECRET });
    const now = Math.floor(Date.now() / 1000);
    const good = await sign({ sub: "Tess", exp: now + 60 }, SECRET);
    const c = await LineClient.open(relay.tcpPort as number);
    const attempts = [
      { name: "tess" },
      { name: "tess", token: await sign({ sub: "tess", exp: now + 60 }, "wrong-secret") },
      { name: "tess", token: await sign({ sub: "tess", exp: now - 10 }, SECRET) },
      { name: "tom", token: good },
      { name: "tess", token: good },
    ];
    c.sendJson(...attempts.map((a, i) => ({ type: "login", id: `${i}`, ...a })));
    const replies = [];
    for (let i = 0; i < attempts.length; i++) {
      const r = await c.json();
      replies.push(r.type === "error" ? r.code : r.type);
    }
    expect(replies).toEqual([
      "auth_failed",
      "auth_failed",
      "auth_failed",
      "auth_failed",
      "welcome",
    ]);
    c.close();
  });
});

describe("racing logins", () => {
  test("two logins racing for one name give one welcome and one name_taken", async () => {
    const relay = await startRelay();
    const port = relay.tcpPort as number;
    const [a, b] = await Promise.all([LineClient.open(port), LineClient.open(port)]);
    a.send("/login racer");
    b.send("/login racer");
    const answers = (await Promise.all([a.line(), b.line()])).map((l) => l.split(/[,:]/)[0]);
    expect(answers.sort()).toEqual(["! name_taken", "* welcome"]);
    a.close();
    b.close();
  });
});

describe.each(["node", "deno"] as const)("operator shutdown on %s", (runtime) => {
  test("POST /admin/shutdown: bye shutdown to everyone, then exit 0", async () => {
    const relay = await spawnRelay(runtime, { RELAY_ADMIN_TOKEN: TOKEN });
    const a = await textUser(relay.tcpPort, "ops");
    const res = await fetch(`http://127.0.0.1:${relay.httpPort}/admin/shutdown`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(200);
    expect(await a.end()).toEqual(["* bye: shutdown"]);
    expect(await relay.exited).toBe(0);
  });

  test("SIGINT stops it the same way", async () => {
    const relay = await spawnRelay(runtime);
    const a = await textUser(relay.tcpPort, "ops");
    expect(await relay.kill("SIGINT")).toBe(0);
    expect(await a.end()).toEqual(["* bye: shutdown"]);
  });
});
