import type { ErrorCode, Transport } from "../core/mod.ts";

/** Running totals for `/metrics`: connections, deliveries, held messages, errors by code. */
export class Counters {
  readonly connections: Record<Transport, number> = { tcp: 0, ws: 0, irc: 0 };
  /** Chat messages handed to recipients' connections. */
  delivered = 0;
  /** Chat messages put in the offline queue. */
  held = 0;
  readonly errors = new Map<ErrorCode, number>();

  /** Counts a connection in. */
  opened(transport: Transport): void {
    this.connections[transport]++;
  }

  /** Counts a connection out. */
  closed(transport: Transport): void {
    this.connections[transport]--;
  }

  /** Counts an error sent to a client. */
  error(code: ErrorCode): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }
}
