import type { Host } from "../../src/host/mod.ts";
import { ircHost } from "../shared/irc.ts";
import { listenTcp, type TcpListener } from "./tcp.ts";
import type { TlsPem } from "./tls.ts";

/**
 * Serves the IRC gateway (docs/irc.md) with Deno.listen: a TCP listener like the relay's
 * own (TLS with `tls`, docs/protocol.md §13), whose connections speak IRC. Close the
 * listener to stop.
 */
export function listenIrc(
  host: Host,
  hostname: string,
  port: number,
  tls: TlsPem | null = null,
): TcpListener {
  return listenTcp(ircHost(host), hostname, port, tls);
}
