import type { Host } from "../host/mod.ts";

/**
 * The relay's figures in the Prometheus text format: connections by transport, users
 * logged in, messages delivered and held, and errors by code.
 */
export async function renderMetrics(host: Host): Promise<string> {
  const c = host.counters;
  const lines = [
    "# HELP relay_connections Open client connections, by transport.",
    "# TYPE relay_connections gauge",
    `relay_connections{transport="tcp"} ${c.connections.tcp}`,
    `relay_connections{transport="ws"} ${c.connections.ws}`,
    `relay_connections{transport="irc"} ${c.connections.irc}`,
    "# HELP relay_users Users logged in.",
    "# TYPE relay_users gauge",
    `relay_users ${host.relay.userCount}`,
    "# HELP relay_messages_delivered_total Chat messages handed to recipients' connections.",
    "# TYPE relay_messages_delivered_total counter",
    `relay_messages_delivered_total ${c.delivered}`,
    "# HELP relay_messages_held_total Chat messages put in the offline queue.",
    "# TYPE relay_messages_held_total counter",
    `relay_messages_held_total ${c.held}`,
    "# HELP relay_messages_queued Chat messages waiting in the offline queue now.",
    "# TYPE relay_messages_queued gauge",
    `relay_messages_queued ${await host.heldCount()}`,
    "# HELP relay_errors_total Errors sent to clients, by code.",
    "# TYPE relay_errors_total counter",
    ...[...c.errors].map(([code, n]) => `relay_errors_total{code="${code}"} ${n}`),
  ];
  return `${lines.join("\n")}\n`;
}
