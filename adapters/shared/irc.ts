import type { Host, Link } from "../../src/host/mod.ts";

/**
 * A TCP link on the IRC port: the same bytes, counted as `irc`, and speaking IRC from its
 * first line (docs/irc.md).
 */
class IrcLink implements Link {
  readonly transport = "irc";
  readonly framing = "line";
  readonly mode = "irc";
  readonly #tcp: Link;

  constructor(tcp: Link) {
    this.#tcp = tcp;
  }

  get remote(): string {
    return this.#tcp.remote;
  }

  write(data: string | Uint8Array): void {
    this.#tcp.write(data);
  }

  unsent(): number {
    return this.#tcp.unsent();
  }

  close(): void {
    this.#tcp.close();
  }
}

/**
 * The host as a TCP listener on the IRC port sees it: each connection it makes speaks IRC.
 *
 * @example
 * listenTcp(ircHost(host), "127.0.0.1", 6667);
 */
export function ircHost(host: Host): Pick<Host, "connect"> {
  return { connect: (link) => host.connect(new IrcLink(link)) };
}
