import * as v from "valibot";

/** Everything a relay server is told at start (DESIGN.md, Configuration). */
export interface RelayConfig {
  host: string;
  /** null: no TCP listener. 0: any free port. */
  tcpPort: number | null;
  httpPort: number;
  /** The IRC gateway's port (docs/irc.md); null: none. 0: any free port. */
  ircPort: number | null;
  /** How long an IRC client may be silent before it is pinged, and then before it is dropped. */
  ircPingMs: number;
  /** `memory`, a Deno KV file path, or `redis://host:port`. */
  store: string;
  bus: string;
  adminToken: string | null;
  auth: "open" | "token";
  jwtSecret: string | null;
  presence: "auto" | "all" | "shared" | "off";
  /** Where `auto` presence stops telling everyone (docs/protocol.md §12). */
  presenceAll: number;
  /** Commands per second per connection; 0: no limit. */
  rateLimit: number;
  maxFrameBytes: number;
  maxQueued: number;
  maxOutboxBytes: number;
  maxConnections: number;
  loginTimeoutMs: number;
  /** How long a node's names outlive it if it dies without a word (a cluster's lease). */
  leaseMs: number;
  /** Messages kept per conversation; 0 turns the log, history and resume off. */
  history: number;
  /** The most messages one resume replays. */
  resumeMax: number;
  /** How long an unused session secret stays valid. */
  sessionDays: number;
  /** The most rooms one user may be in, and the most rooms there may be. */
  maxRoomsPerUser: number;
  maxRooms: number;
  /**
   * Browser origins whose pages may open `/ws`, beyond the server's own (normalised, as
   * `URL.origin` writes them); `*` lets any page in. Clients that send no Origin (programs)
   * are always let in.
   */
  allowedOrigins: string[];
  /**
   * `RELAY_TLS_CERT` and `RELAY_TLS_KEY`: the paths of the PEM files (certificate chain,
   * private key) that turn TLS on for the TCP, IRC and HTTP ports; the adapters read them.
   * null: every port is plain.
   */
  tls: { certFile: string; keyFile: string } | null;
}

const Port = v.pipe(
  v.string(),
  v.regex(/^\d{1,5}$/, "a port number"),
  v.transform(Number),
  v.maxValue(65535),
);
const Count = (min: number) =>
  v.pipe(v.string(), v.regex(/^\d+$/, "a whole number"), v.transform(Number), v.minValue(min));

/** `*`, or what a browser sends as Origin: `http(s)://host[:port]`, nothing after it. */
function isOrigin(text: string): boolean {
  if (text === "*") return true;
  if (!/^https?:\/\/[^/?#@\s]+\/?$/i.test(text)) return false;
  return URL.canParse(text);
}

/** A comma-separated list of origins, each normalised (`HTTPS://A.example:443` is `https://a.example`). */
const Origins = v.pipe(
  v.string(),
  v.transform((list) =>
    list
      .split(",")
      .map((origin) => origin.trim())
      .filter((origin) => origin !== ""),
  ),
  v.check(
    (origins) => origins.every(isOrigin),
    (issue) =>
      `not an origin: ${(issue.input as string[]).filter((o) => !isOrigin(o)).join(", ")} ` +
      "(origins look like https://chat.example.com or http://localhost:8080; * allows any)",
  ),
  v.transform((origins) => origins.map((o) => (o === "*" ? o : new URL(o).origin))),
);

/** The settings, as environment variables name them; every one optional. */
const Environment = v.object({
  RELAY_HOST: v.optional(v.pipe(v.string(), v.nonEmpty()), "127.0.0.1"),
  RELAY_TCP_PORT: v.optional(
    v.union([
      v.pipe(
        v.literal("off"),
        v.transform(() => null),
      ),
      Port,
    ]),
    "7070",
  ),
  RELAY_HTTP_PORT: v.optional(Port),
  RELAY_IRC_PORT: v.optional(
    v.union([
      v.pipe(
        v.literal("off"),
        v.transform(() => null),
      ),
      Port,
    ]),
    "6667",
  ),
  RELAY_IRC_PING: v.optional(Count(1), "120"),
  PORT: v.optional(Port),
  RELAY_STORE: v.optional(v.pipe(v.string(), v.nonEmpty()), "./data/relay.kv"),
  RELAY_BUS: v.optional(
    v.pipe(v.string(), v.regex(/^(local|rediss?:\/\/.+)$/, "local or redis://host:port")),
    "local",
  ),
  RELAY_ADMIN_TOKEN: v.optional(
    v.pipe(
      v.string(),
      // RFC 6750's b64token: what an `Authorization: Bearer` header can carry.
      v.regex(
        /^[A-Za-z0-9._~+/-]+=*$/,
        "only letters, digits and . _ ~ + / - (then = at the end), as a Bearer token holds",
      ),
      v.minLength(16, "at least 16 characters"),
    ),
  ),
  RELAY_AUTH: v.optional(v.picklist(["open", "token"]), "open"),
  // HS256 keys shorter than the hash (32 bytes) are weaker than HS256 (RFC 7518 §3.2).
  RELAY_JWT_SECRET: v.optional(v.pipe(v.string(), v.minBytes(32, "at least 32 bytes (of UTF-8)"))),
  RELAY_PRESENCE: v.optional(v.picklist(["auto", "all", "shared", "off"]), "auto"),
  RELAY_PRESENCE_ALL: v.optional(Count(0), "500"),
  RELAY_RATE_LIMIT: v.optional(Count(0), "20"),
  RELAY_MAX_FRAME_BYTES: v.optional(Count(64), "8192"),
  RELAY_MAX_QUEUED: v.optional(Count(1), "1000"),
  RELAY_MAX_OUTBOX_BYTES: v.optional(Count(16384), "1048576"),
  RELAY_MAX_CONNECTIONS: v.optional(Count(1), "10000"),
  RELAY_LOGIN_TIMEOUT: v.optional(Count(1), "60"),
  RELAY_LEASE: v.optional(Count(1), "10"),
  RELAY_HISTORY: v.optional(Count(0), "1000"),
  RELAY_RESUME_MAX: v.optional(Count(1), "1000"),
  RELAY_SESSION_DAYS: v.optional(Count(1), "30"),
  RELAY_MAX_ROOMS_PER_USER: v.optional(Count(1), "100"),
  RELAY_MAX_ROOMS: v.optional(Count(1), "10000"),
  RELAY_ALLOWED_ORIGINS: v.optional(Origins, ""),
  RELAY_TLS_CERT: v.optional(v.pipe(v.string(), v.nonEmpty())),
  RELAY_TLS_KEY: v.optional(v.pipe(v.string(), v.nonEmpty())),
});

/** The configuration, or the sentences that say what is wrong with it. */
export type ConfigResult = { ok: true; config: RelayConfig } | { ok: false; errors: string[] };

/**
 * Reads the configuration from environment variables (flags already merged in by the
 * caller, who wins over the environment). Unset variables take the defaults of DESIGN.md.
 *
 * @example
 * const result = parseConfig({ RELAY_TCP_PORT: "0", RELAY_STORE: "memory" });
 * if (result.ok) result.config.tcpPort; // 0
 */
export function parseConfig(env: Record<string, string | undefined>): ConfigResult {
  const relevant: Record<string, string> = {};
  for (const key of Object.keys(Environment.entries)) {
    const value = env[key];
    if (value !== undefined && value !== "") relevant[key] = value;
  }
  const parsed = v.safeParse(Environment, relevant);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.issues.map((i) => `${v.getDotPath(i)}: ${i.message}`),
    };
  }
  const e = parsed.output;
  if (e.RELAY_AUTH === "token" && !e.RELAY_JWT_SECRET) {
    return { ok: false, errors: ["RELAY_AUTH=token needs RELAY_JWT_SECRET"] };
  }
  if ((e.RELAY_TLS_CERT === undefined) !== (e.RELAY_TLS_KEY === undefined)) {
    const [set, unset] = e.RELAY_TLS_CERT
      ? ["RELAY_TLS_CERT", "RELAY_TLS_KEY"]
      : ["RELAY_TLS_KEY", "RELAY_TLS_CERT"];
    return {
      ok: false,
      errors: [
        `${set} is set but ${unset} is not: TLS needs both (the certificate chain and its ` +
          "private key, as PEM files); set neither for plain TCP and HTTP",
      ],
    };
  }
  return {
    ok: true,
    config: {
      host: e.RELAY_HOST,
      tcpPort: e.RELAY_TCP_PORT,
      httpPort: e.RELAY_HTTP_PORT ?? e.PORT ?? 8080,
      ircPort: e.RELAY_IRC_PORT,
      ircPingMs: e.RELAY_IRC_PING * 1000,
      store: e.RELAY_STORE,
      bus: e.RELAY_BUS,
      adminToken: e.RELAY_ADMIN_TOKEN ?? null,
      auth: e.RELAY_AUTH,
      jwtSecret: e.RELAY_JWT_SECRET ?? null,
      presence: e.RELAY_PRESENCE,
      presenceAll: e.RELAY_PRESENCE_ALL,
      rateLimit: e.RELAY_RATE_LIMIT,
      maxFrameBytes: e.RELAY_MAX_FRAME_BYTES,
      maxQueued: e.RELAY_MAX_QUEUED,
      maxOutboxBytes: e.RELAY_MAX_OUTBOX_BYTES,
      maxConnections: e.RELAY_MAX_CONNECTIONS,
      loginTimeoutMs: e.RELAY_LOGIN_TIMEOUT * 1000,
      leaseMs: e.RELAY_LEASE * 1000,
      history: e.RELAY_HISTORY,
      resumeMax: e.RELAY_RESUME_MAX,
      sessionDays: e.RELAY_SESSION_DAYS,
      maxRoomsPerUser: e.RELAY_MAX_ROOMS_PER_USER,
      maxRooms: e.RELAY_MAX_ROOMS,
      allowedOrigins: e.RELAY_ALLOWED_ORIGINS,
      tls:
        e.RELAY_TLS_CERT && e.RELAY_TLS_KEY
          ? { certFile: e.RELAY_TLS_CERT, keyFile: e.RELAY_TLS_KEY }
          : null,
    },
  };
}
