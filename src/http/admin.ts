import { Hono, type MiddlewareHandler } from "hono";
import * as v from "valibot";
import { type Host, sameBytes } from "../host/mod.ts";

const Kick = v.object({ name: v.string(), reason: v.optional(v.string()) });
const Announce = v.object({
  text: v.pipe(v.string(), v.minLength(1), v.maxLength(4000)),
});

/**
 * The operator API of docs/protocol.md §10, behind a bearer token: list sessions, kick, announce,
 * and shut down (`stop` is the runtime's way to end the process once the host has stopped).
 */
export function adminRoutes(host: Host, token: string, stop: () => void): Hono {
  const admin = new Hono();
  admin.use("*", bearerOnly(token));
  admin.get("/sessions", (c) => c.json(host.sessions()));
  admin.post("/kick", async (c) => {
    const body = v.safeParse(Kick, await c.req.json().catch(() => null));
    if (!body.success) return c.json({ error: 'expected {"name", "reason"?}' }, 400);
    if (!host.kick(body.output.name))
      return c.json({ error: "nobody of that name is online" }, 404);
    return c.json({ kicked: body.output.name });
  });
  admin.post("/announce", async (c) => {
    const body = v.safeParse(Announce, await c.req.json().catch(() => null));
    if (!body.success) return c.json({ error: 'expected {"text"} of 1 to 4000 characters' }, 400);
    host.announce(body.output.text);
    return c.json({ announced: true });
  });
  admin.post("/shutdown", (c) => {
    // Answer first; the runtime stops right after.
    setTimeout(stop, 50);
    return c.json({ stopping: true });
  });
  return admin;
}

/** `Authorization: Bearer <token>`: the scheme is case-insensitive (RFC 7235), the token is not. */
const BEARER = /^bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

/**
 * A middleware that lets a request through only with `Authorization: Bearer <token>`; a
 * missing header, another scheme or a wrong token get 401 (docs/protocol.md §10). The
 * tokens are compared by their SHA-256 digests, byte by byte in constant time, so neither
 * the answer's timing nor an early exit tells how much of a guess was right, nor its length.
 *
 * @example
 * const admin = new Hono();
 * admin.use("*", bearerOnly("a-long-random-operator-token"));
 */
export function bearerOnly(token: string): MiddlewareHandler {
  const expected = sha256(token);
  return async (c, next) => {
    const presented = BEARER.exec(c.req.header("authorization") ?? "")?.[1];
    // Digest even a missing token, so that a refusal takes as long whatever came.
    const digest = await sha256(presented ?? "");
    if (presented === undefined || !sameBytes(digest, await expected)) {
      return c.json({ error: "this call needs Authorization: Bearer <admin token>" }, 401, {
        "www-authenticate": 'Bearer realm="relay admin"',
      });
    }
    await next();
  };
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}
