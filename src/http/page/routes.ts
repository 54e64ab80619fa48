import { type Context, Hono, type MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { CHAT_PAGE, FAVICON } from "./page.ts";
import { PAGE_SCRIPT } from "./script.ts";
import { PAGE_STYLE } from "./style.ts";

/** A `Host` header that is only a host name or address and a port: safe to put in a policy. */
const PLAIN_HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The WebSocket origins of the host a request was made to (`ws://host wss://host`), for
 * `connect-src`: 'self' covers them in CSP Level 3 but not in every browser. A `Host` that
 * is anything but a host and port adds nothing.
 */
function socketOrigins(c: Context): string {
  const host = c.req.header("host");
  return host !== undefined && PLAIN_HOST.test(host) ? `ws://${host} wss://${host}` : "";
}

/**
 * The headers of every response of the chat page (hono/secure-headers): a
 * Content-Security-Policy that allows only the page's own script, style, icon and
 * connections (its `/ws`), no framing, `nosniff` and no referrer. Strict-Transport-Security
 * is left to whoever runs TLS in front of the relay.
 *
 * @example
 * app.get("/", pageHeaders(), (c) => c.html(CHAT_PAGE));
 */
export function pageHeaders(): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'"],
      connectSrc: ["'self'", socketOrigins],
      formAction: ["'self'"],
      baseUri: ["'none'"],
      frameAncestors: ["'none'"],
    },
    xFrameOptions: "DENY",
    referrerPolicy: "no-referrer",
    xContentTypeOptions: "nosniff",
    strictTransportSecurity: false,
  });
}

/** Files the page loads, by path: the body and its content type. */
const FILES: Record<string, [body: string, type: string]> = {
  "/app.js": [PAGE_SCRIPT, "text/javascript; charset=utf-8"],
  "/app.css": [PAGE_STYLE, "text/css; charset=utf-8"],
  "/favicon.svg": [FAVICON, "image/svg+xml"],
};

/**
 * The chat page's routes, to mount at `/`: the page (`GET /`), its script (`/app.js`),
 * style (`/app.css`) and icon (`/favicon.svg`), each with {@link pageHeaders}. Nothing is
 * read from disk: the same bytes are served on every runtime.
 *
 * @example
 * app.route("/", pageRoutes());
 */
export function pageRoutes(): Hono {
  const page = new Hono();
  const headers = pageHeaders();
  page.get("/", headers, (c) => c.html(CHAT_PAGE, 200, { "cache-control": "no-cache" }));
  for (const [path, [body, type]] of Object.entries(FILES)) {
    page.get(path, headers, (c) =>
      c.body(body, 200, { "content-type": type, "cache-control": "no-cache" }),
    );
  }
  return page;
}
