import type { Server } from "node:net";
import type { Host } from "../../src/host/mod.ts";
import { ircHost } from "../shared/irc.ts";
import { listenTcp } from "./tcp.ts";
import type { TlsPem } from "./tls.ts";

/**
 * Serves the IRC gateway (docs/irc.md) with node:net: a TCP listener like the relay's own
 * (TLS with `tls`, docs/protocol.md §13), whose connections speak IRC. Stop it with
 * `closeTcp`.
 */
export function listenIrc(
  host: Host,
  hostname: string,
  port: number,
  tls: TlsPem | null = null,
): Promise<Server> {
  return listenTcp(ircHost(host), hostname, port, tls);
}
