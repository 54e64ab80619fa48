/**
 * The part of a Redis client the relay uses: any command by name. An `ioredis` client is
 * one, on Node and on Deno; the adapters make it, so `src/` imports no client.
 */
export interface RedisLike {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
}

/** A Redis connection in subscriber mode, as `ioredis` gives one. */
export interface RedisSubscriber {
  subscribe(...channels: string[]): Promise<unknown>;
  on(event: "message", listener: (channel: string, message: string) => void): unknown;
  /** Connected (again); subscriptions are renewed by the client itself. */
  on(event: "ready", listener: () => void): unknown;
  /** The connection was lost (the client will reconnect by itself). */
  on(event: "close", listener: () => void): unknown;
}

/** Runs a Lua script on the server, keys first, then arguments. */
export function evalScript(
  redis: RedisLike,
  script: string,
  keys: string[],
  args: (string | number)[],
): Promise<unknown> {
  return redis.call("EVAL", script, keys.length, ...keys, ...args);
}
