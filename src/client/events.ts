import type { RelayClientEvents } from "./types.ts";

/** A listener of one of the client's events: the data is the `CustomEvent`'s `detail`. */
export type RelayEventListener<K extends keyof RelayClientEvents> = (
  event: CustomEvent<RelayClientEvents[K]>,
) => void;

/**
 * An `EventTarget` typed for the events of {@link RelayClientEvents}, with `on`, a shorter
 * way to listen. `RelayClient` is one.
 *
 * @example
 * const off = client.on("message", (m) => console.log(m.text));
 * client.addEventListener("presence", (e) => console.log(e.detail.name));
 * off();
 */
export class RelayEvents extends EventTarget {
  /**
   * Calls `handler` with what each event of this type carries; returns a function that
   * removes it. The same events reach `addEventListener` as `CustomEvent`s (in `detail`).
   *
   * @example
   * const off = client.on("presence", (p) => console.log(p.name, p.status));
   * off();
   */
  on<K extends keyof RelayClientEvents>(
    type: K,
    handler: (detail: RelayClientEvents[K]) => void,
  ): () => void {
    const listener = (event: Event) => handler((event as CustomEvent<RelayClientEvents[K]>).detail);
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
  }

  /**
   * Listens to an event as an `EventTarget` does; the event's `detail` carries the data.
   *
   * @example
   * client.addEventListener("message", (e) => console.log(e.detail.text));
   */
  override addEventListener<K extends keyof RelayClientEvents>(
    type: K,
    listener: RelayEventListener<K> | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: unknown,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  /**
   * Stops listening, as an `EventTarget` does.
   *
   * @example
   * client.removeEventListener("message", listener);
   */
  override removeEventListener<K extends keyof RelayClientEvents>(
    type: K,
    listener: RelayEventListener<K> | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: unknown,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  /** Dispatches an event of the client. */
  protected emit<K extends keyof RelayClientEvents>(type: K, detail: RelayClientEvents[K]): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
