/** The part of irc-framework (an IRC client library, without types of its own) the tests use. */
declare module "irc-framework" {
  export class Client {
    constructor(options?: Record<string, unknown>);
    connect(options: Record<string, unknown>): void;
    on(event: string, listener: (event: Record<string, unknown>) => void): this;
    join(channel: string): void;
    part(channel: string, message?: string): void;
    say(target: string, text: string): void;
    notice(target: string, text: string): void;
    action(target: string, text: string): void;
    quit(message?: string): void;
    raw(line: string): void;
    requestCap(cap: string | string[]): void;
    readonly user: { nick: string };
    readonly network: { cap: { enabled: string[] }; options: Record<string, unknown> };
    readonly connected: boolean;
  }
  const irc: { Client: typeof Client };
  export default irc;
}
