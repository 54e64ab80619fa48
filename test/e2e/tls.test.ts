import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { get } from "node:https";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { parseConfig } from "../../src/host/mod.ts";
import { Inbox, LineClient, WsClient } from "../support/client.ts";
import { type RelayProcess, spawnRelay, spawnSharedRelay } from "../support/process.ts";
import { startRelay } from "../support/server.ts";

// docs/protocol.md §13: with RELAY_TLS_CERT and RELAY_TLS_KEY the TCP, IRC and HTTP ports
// speak TLS. The certificate is made here, for 127.0.0.1 and localhost. It lives under
// ./data because `deno task start` may read nothing else.
let dir = "";
let certFile = "";
let keyFile = "";
/** A key that is not the certificate's. */
let otherKeyFile = "";
let cert = "";
let tlsEnv: Record<string, string> = {};

function makeCertificate(name: string): { cert: string; key: string } {
  const out = { cert: join(dir, `${name}.cert.pem`), key: join(dir, `${name}.key.pem`) };
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-keyout",
      out.key,
      "-out",
      out.cert,
    ],
    { stdio: "ignore" },
  );
  return out;
}

beforeAll(() => {
  mkdirSync("data", { recursive: true });
  dir = mkdtempSync(resolve("data", "tls-"));
  ({ cert: certFile, key: keyFile } = makeCertificate("relay"));
  otherKeyFile = makeCertificate("other").key;
  cert = readFileSync(certFile, "utf8");
  tlsEnv = { RELAY_TLS_CERT: certFile, RELAY_TLS_KEY: keyFile };
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Logs in over TLS in text mode and reads the welcome line. */
async function tlsTextUser(port: number, name: string): Promise<LineClient> {
  const c = await LineClient.openTls(port, cert);
  c.send(name);
  expect(await c.line()).toMatch(new RegExp(`^\\* welcome, ${name}!`));
  return c;
}

/** Logs in over `wss://` in JSON mode and reads the welcome. */
async function wssUser(port: number, name: string): Promise<WsClient> {
  const c = await WsClient.openTls(port, cert);
  c.sendJson({ type: "login", name });
  expect(await c.json()).toMatchObject({ type: "welcome", name });
  return c;
}

/** GET over HTTPS on loopback, trusting the test certificate. */
function httpsGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    get({ host: "127.0.0.1", port, path, ca: cert }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => done({ status: res.statusCode ?? 0, body }));
    }).once("error", fail);
  });
}

/** A TLS TCP user and a `wss://` user chat both ways, privately and in a room. */
async function tlsChat(tcpPort: number, httpPort: number, tag: string): Promise<void> {
  const tcpName = `tls${tag}`;
  const webName = `wss${tag}`;
  const tcp = await tlsTextUser(tcpPort, tcpName);
  const web = await wssUser(httpPort, webName);
  expect(await tcp.line()).toBe(`* ${webName} is online`);

  web.sendJson({ type: "msg", to: tcpName, text: "hello over wss", id: "1" });
  expect(await web.json()).toMatchObject({ type: "ok", re: "1" });
  expect(await tcp.line()).toMatch(
    new RegExp(`^\\[\\d\\d:\\d\\d:\\d\\d\\] ${webName}: hello over wss$`),
  );

  tcp.send("hello over tls"); // the reply rule
  expect(await web.json()).toMatchObject({
    type: "message",
    from: tcpName,
    to: webName,
    text: "hello over tls",
  });

  const room = `#tls${tag}`;
  tcp.send(`/join ${room}`);
  expect(await tcp.line()).toBe(`* you joined ${room}: ${tcpName}`);
  web.sendJson({ type: "join", room, id: "2" });
  expect(await web.json()).toMatchObject({ type: "ok", re: "2", users: [tcpName, webName] });
  expect(await tcp.line()).toBe(`* ${webName} joined ${room}`);
  tcp.send(`/msg ${room} in the room`);
  expect(await web.json()).toMatchObject({ type: "message", to: room, text: "in the room" });
  web.close();
  tcp.close();
}

/** `openssl s_client`, spawned; its stdout's lines in an inbox, its stdin to write to. */
const clients: ChildProcess[] = [];
afterEach(() => {
  for (const child of clients.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

function sClient(port: number): { child: ChildProcess; inbox: Inbox } {
  const child = spawn(
    "openssl",
    [
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      "-quiet",
      "-CAfile",
      certFile,
      "-verify_ip",
      "127.0.0.1",
      "-verify_return_error",
    ],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  clients.push(child);
  const inbox = new Inbox();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) =>
    inbox.push(line),
  );
  child.once("exit", () => inbox.close());
  return { child, inbox };
}

describe("the TLS settings", () => {
  test("both paths turn TLS on; neither leaves it off", () => {
    expect(parseConfig({ RELAY_TLS_CERT: "c.pem", RELAY_TLS_KEY: "k.pem" })).toMatchObject({
      ok: true,
      config: { tls: { certFile: "c.pem", keyFile: "k.pem" } },
    });
    expect(parseConfig({})).toMatchObject({ ok: true, config: { tls: null } });
    expect(parseConfig({ RELAY_TLS_CERT: "", RELAY_TLS_KEY: "" })).toMatchObject({
      ok: true,
      config: { tls: null },
    });
  });

  test.each([
    [{ RELAY_TLS_CERT: "c.pem" }, "RELAY_TLS_CERT is set but RELAY_TLS_KEY is not"],
    [{ RELAY_TLS_KEY: "k.pem" }, "RELAY_TLS_KEY is set but RELAY_TLS_CERT is not"],
  ])("%j alone is refused", (env, message) => {
    const parsed = parseConfig(env);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.errors.join(" ")).toContain(message);
  });
});

describe("TLS in process on Node", () => {
  test("a TLS TCP user and a wss:// user chat; https answers /healthz", async () => {
    const relay = await startRelay(tlsEnv);
    await tlsChat(relay.tcpPort as number, relay.httpPort, "inproc");
    expect(await httpsGet(relay.httpPort, "/healthz")).toMatchObject({ status: 200, body: "ok" });
  });
});

describe.each(["node", "deno"] as const)("TLS on a %s process", (runtime) => {
  let relay: RelayProcess;
  beforeAll(async () => {
    relay = await spawnSharedRelay(runtime, { ...tlsEnv, RELAY_IRC_PORT: "0" });
  });
  afterAll(async () => {
    await relay?.kill("SIGKILL");
  });

  test("a TLS TCP user and a wss:// user log in and chat both ways", async () => {
    await tlsChat(relay.tcpPort, relay.httpPort, runtime);
  });

  test("https answers GET /healthz", async () => {
    expect(await httpsGet(relay.httpPort, "/healthz")).toMatchObject({ status: 200, body: "ok" });
  });

  test("openssl s_client logs in with a name line and gets the welcome", async () => {
    const { child, inbox } = sClient(relay.tcpPort);
    child.stdin?.write(`olga${runtime}\n`);
    expect(await inbox.until(/welcome/, 10_000)).toMatch(
      new RegExp(`^\\* welcome, olga${runtime}!`),
    );
    child.stdin?.write("/quit\n");
    expect(await inbox.until(/bye/)).toBe("* bye: quit");
  });

  test("the IRC port speaks TLS too", async () => {
    const c = await LineClient.openTls(relay.ircPort, cert);
    const nick = `ivy${runtime}`;
    c.send(`NICK ${nick}\r`, `USER ${nick} 0 * :Ivy\r`);
    expect(await c.until(/ 001 /)).toMatch(new RegExp(`^:\\S+ 001 ${nick} `));
    c.close();
  });

  test("plain text on the TLS ports gets no chat session", async () => {
    const name = `mallory${runtime}`;
    const plain = await LineClient.open(relay.tcpPort);
    plain.send(name, "/who");
    // The handshake fails on the first bytes; the server closes without a line of chat.
    expect((await plain.end()).join("\n")).not.toMatch(/welcome|online/);
    const ircPlain = await LineClient.open(relay.ircPort);
    ircPlain.send(`NICK ${name}\r`, `USER ${name} 0 * :M\r`);
    expect((await ircPlain.end()).join("\n")).not.toMatch(/ 001 /);
    await expect(WsClient.open(relay.httpPort)).rejects.toThrow();
    // The name was never taken.
    const real = await tlsTextUser(relay.tcpPort, name);
    real.close();
  });
});

describe.each(["node", "deno"] as const)("TLS start and stop on %s", (runtime) => {
  test("SIGTERM: a TLS client reads its bye before the close", async () => {
    const relay = await spawnRelay(runtime, tlsEnv);
    const c = await tlsTextUser(relay.tcpPort, "sam");
    const code = await relay.kill("SIGTERM");
    expect(await c.end()).toEqual(["* bye: shutdown"]);
    expect(code).toBe(0);
  });

  test("only one of the two variables: the start is refused, naming the other", async () => {
    await expect(spawnRelay(runtime, { RELAY_TLS_CERT: certFile })).rejects.toThrow(
      /exited with 2; stderr: relay: RELAY_TLS_CERT is set but RELAY_TLS_KEY is not/,
    );
    await expect(spawnRelay(runtime, { RELAY_TLS_KEY: keyFile })).rejects.toThrow(
      /exited with 2; stderr: relay: RELAY_TLS_KEY is set but RELAY_TLS_CERT is not/,
    );
  });

  test("a missing file, a file that is no certificate, a key not the certificate's", async () => {
    const missing = join(dir, "missing.pem");
    await expect(spawnRelay(runtime, { ...tlsEnv, RELAY_TLS_CERT: missing })).rejects.toThrow(
      new RegExp(`exited with 1; stderr: relay: RELAY_TLS_CERT: cannot read ${missing}`),
    );
    await expect(spawnRelay(runtime, { ...tlsEnv, RELAY_TLS_CERT: keyFile })).rejects.toThrow(
      /exited with 1; stderr: relay: RELAY_TLS_CERT: .* holds no certificate/,
    );
    await expect(spawnRelay(runtime, { ...tlsEnv, RELAY_TLS_KEY: otherKeyFile })).rejects.toThrow(
      /exited with 1; stderr: relay: RELAY_TLS_CERT .*and RELAY_TLS_KEY .*cannot serve TLS together/,
    );
  });
});

test("on Deno, PEM files that `deno task start` may not read: the message says so", async () => {
  const outside = mkdtempSync(join(tmpdir(), "relay-tls-"));
  try {
    const where = join(outside, "cert.pem");
    copyFileSync(certFile, where);
    await expect(spawnRelay("deno", { ...tlsEnv, RELAY_TLS_CERT: where })).rejects.toThrow(
      /exited with 1; stderr: relay: RELAY_TLS_CERT: cannot read .*--allow-read/s,
    );
  } finally {
    rmSync(outside, { recursive: true, force: true });
  }
});
