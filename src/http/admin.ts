import { Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import * as v from "valibot";
import type { Host } from "../host/mod.ts";

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
  admin.use("*", bearerAuth({ token }));
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
